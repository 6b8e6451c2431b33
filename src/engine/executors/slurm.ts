// The Slurm executor: each step that must run becomes a batch job (`sbatch --parsable`) that runs
// `repro exec-step <run-dir> <step>` against the store, which the cluster shares on its filesystem.
// Jobs are submitted as soon as their upstream jobs are, ordered by `--dependency=afterok:`, and
// followed through squeue (then the jobcomp file) until they end. The step's own events come back
// through <step>.events.jsonl, its outcome through <step>.result.json (worker-protocol.ts).
//
// Failures: a failed job's dependents are cancelled (scancel) and reported skipped; a job that a
// node failure or preemption ended (NODE_FAIL, PREEMPTED, BOOT_FAIL) is submitted once more and
// its dependents re-pointed at the new job; Ctrl-C cancels every job of the run.
import { appendFileSync, mkdirSync, rmSync, statSync, openSync, readSync, closeSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunEvent } from '../events.js';
import type { StepExecutorRecord } from '../../formats/run-record.js';
import { writeFileAtomic } from '../../core/atomic.js';
import type { ExecutorRun, StepExecutor, StepOutcome, StepTask } from './types.js';
import { logFileOf } from './step.js';
import { jobFile, jobsDir, secretParamValues, serializablePlan, writeJson, SECRET_PARAMS_ENV, JOB_SPEC_FORMAT, type JobSpec, type JobTask } from './job-files.js';
import { outcomeOf, readJobResult, resolvedOf, type JobResult } from './worker-protocol.js';
import {
  commandFailure,
  parseConfig,
  parseSqueue,
  readJobComp,
  slurmCommand,
  SlurmCommandError,
  NEVER_RUNS_REASONS,
  REQUEUE_STATES,
  SQUEUE_FORMAT,
  TERMINAL_STATES,
  type JobState,
} from './slurm-commands.js';
import { ReproError } from '../../core/errors.js';
import { quoteFor } from '../../workflow/shell.js';

export interface SlurmOptions {
  partition?: string;
  account?: string;
  /** Time limit of each job, in any form sbatch's --time takes ('04:00:00', '2-00:00:00'). */
  time?: string;
  /** More sbatch flags, passed as they are ('--qos=high', '--constraint=a100'). */
  flags?: string[];
  /** Seconds between two looks at the queue (default 1). */
  poll?: number;
  /** What a job runs to execute a step (default: this node and this checkout's bin/repro.js). */
  reproCommand?: string[];
}

interface Job {
  task: StepTask;
  n: number;
  /** Resolves with the job id once sbatch answered. */
  submitted: Promise<string | null>;
  jobId?: string;
  dependsOn: string[];
  attempts: number;
  requeuedFrom: string[];
  state?: JobState;
  node?: string;
  eventsOffset: number;
  /** Polls in a row the job was in no record (a finished job the controller already forgot). */
  unseen: number;
  /** Polls since it ended without a result file (a shared filesystem can show it late). */
  resultWaits: number;
  outcome?: StepOutcome;
  settle(o: StepOutcome): void;
  fail(err: unknown): void;
}

const DEFAULT_REPRO = (): string[] => [process.execPath, fileURLToPath(new URL('../../../bin/repro.js', import.meta.url))];
const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export class SlurmExecutor implements StepExecutor {
  readonly name = 'slurm';
  readonly handsOverAhead = true;
  private run!: ExecutorRun;
  private readonly jobs = new Map<string, Job>();
  private submitChain: Promise<unknown> = Promise.resolve();
  private started = 0;
  private polling: Promise<void> | null = null;
  private stopping = false;
  private interrupting = false;
  private jobComp: string | null = null;
  private cluster: string | null = null;
  private pollFailures = 0;
  private wakePoll: (() => void) | null = null;

  constructor(private readonly options: SlurmOptions = {}) {}

  describe() {
    const o = this.options;
    return {
      name: 'slurm',
      ...(this.cluster ? { cluster: this.cluster } : {}),
      ...(o.partition ? { partition: o.partition } : {}),
      ...(o.account ? { account: o.account } : {}),
      ...(o.time ? { time: o.time } : {}),
      ...(o.flags?.length ? { flags: o.flags } : {}),
    };
  }

  /** sbatch is there, the controller answers, the partition exists; then the run's spec for the jobs. */
  async open(run: ExecutorRun): Promise<void> {
    this.run = run;
    try {
      await slurmCommand('sbatch', ['--version'], { timeoutMs: 30_000 });
    } catch (err) {
      throw err instanceof ReproError ? err : commandFailure(err, 'sbatch');
    }
    let partitions: Array<{ name: string; isDefault: boolean; up: boolean }>;
    try {
      const { stdout } = await slurmCommand('sinfo', ['-h', '-o', '%P|%a'], { timeoutMs: 60_000 });
      partitions = stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const [p = '', a = ''] = l.trim().split('|');
          return { name: p.replace(/\*$/, ''), isDefault: p.endsWith('*'), up: a === 'up' };
        });
    } catch (err) {
      const e = commandFailure(err, 'asking Slurm for its partitions (sinfo)');
      // Whatever stops sinfo (no controller, no slurm.conf, munge down) leaves nothing to submit to.
      throw new ReproError(e.message, 'executor-unavailable', e.hint ?? 'check that slurmctld runs: `scontrol ping`');
    }
    const p = this.options.partition;
    if (p !== undefined && !partitions.some((x) => x.name === p)) {
      throw new ReproError(
        `partition '${p}' does not exist on this Slurm cluster`,
        'invalid',
        partitions.length ? `partitions: ${partitions.map((x) => x.name + (x.isDefault ? ' (default)' : '')).join(', ')}` : 'the cluster has no partition',
      );
    }
    try {
      const cfg = parseConfig((await slurmCommand('scontrol', ['show', 'config'], { timeoutMs: 30_000 })).stdout);
      if (cfg.JobCompType === 'jobcomp/filetxt' && cfg.JobCompLoc) this.jobComp = cfg.JobCompLoc;
      if (cfg.ClusterName) this.cluster = cfg.ClusterName;
    } catch {
      /* only an aid for jobs the controller has forgotten */
    }
    mkdirSync(jobsDir(run.runDir), { recursive: true });
    const spec: JobSpec = {
      format: JOB_SPEC_FORMAT,
      runId: run.runId,
      store: run.store.root,
      cwd: process.cwd(),
      plan: serializablePlan(run.plan),
      stepOptions: run.stepOptions,
      force: run.force,
    };
    writeJson(`${jobsDir(run.runDir)}/spec.json`, spec);
    run.signal.addEventListener('abort', () => void this.interrupt(), { once: true });
  }

  start(task: StepTask): Promise<StepOutcome> {
    let settle!: (o: StepOutcome) => void;
    let fail!: (err: unknown) => void;
    const outcome = new Promise<StepOutcome>((res, rej) => {
      settle = res;
      fail = rej;
    });
    const job: Job = {
      task,
      n: ++this.started,
      submitted: Promise.resolve(null),
      dependsOn: [],
      attempts: 1,
      requeuedFrom: [],
      eventsOffset: 0,
      unseen: 0,
      resultWaits: 0,
      settle: (o) => {
        if (job.outcome) return;
        job.outcome = o;
        settle(o);
      },
      fail,
    };
    this.jobs.set(task.step.id, job);
    // One sbatch at a time, in plan order: job ids follow the plan, and a job's upstream ids are known.
    job.submitted = this.submitChain.then(() => this.submit(job));
    this.submitChain = job.submitted.catch(() => undefined);
    job.submitted.catch((err) => job.fail(err));
    this.polling ??= this.pollLoop();
    return outcome;
  }

  async close(): Promise<void> {
    this.stopping = true;
    this.wakePoll?.();
    await this.submitChain;
    // Nothing outlives the run: after an error, jobs still queued or running are cancelled.
    const left = [...this.jobs.values()].filter((j) => !j.outcome && j.jobId);
    if (left.length) await this.scancel(left.map((j) => j.jobId!)).catch(() => undefined);
    await this.polling;
  }

  // ---- submitting ------------------------------------------------------------------------------

  private sbatchArgs(job: Job, dependsOn: string[]): string[] {
    const { step } = job.task;
    const o = this.options;
    const cpu = Math.max(1, Math.ceil(step.resources?.cpu ?? 1));
    const gpu = Math.max(0, Math.ceil(step.resources?.gpu ?? 0));
    const memory = step.resources?.memory ?? 0;
    const args = [
      '--parsable',
      `--job-name=repro:${this.run.plan.workflow.name}:${step.id}`.slice(0, 200),
      `--output=${jobFile(this.run.runDir, step.id, 'out')}`,
      `--chdir=${process.cwd()}`,
      `--cpus-per-task=${cpu}`,
      // repro requeues a job once itself, after re-pointing its dependents at the new job.
      '--no-requeue',
    ];
    if (memory > 0) args.push(`--mem=${Math.ceil(memory / 1024 / 1024)}M`);
    if (gpu > 0) args.push(`--gres=gpu:${gpu}`);
    if (o.partition) args.push(`--partition=${o.partition}`);
    if (o.account) args.push(`--account=${o.account}`);
    if (o.time) args.push(`--time=${o.time}`);
    if (dependsOn.length) args.push(`--dependency=afterok:${dependsOn.join(':')}`);
    args.push(...(o.flags ?? []));
    args.push(jobFile(this.run.runDir, step.id, 'sh'));
    return args;
  }

  private async submit(job: Job): Promise<string | null> {
    const { step } = job.task;
    const run = this.run;
    if (this.interrupting || this.stopping) {
      job.settle({ status: 'skipped', error: 'run interrupted' });
      return null;
    }
    // Upstream jobs: wait for their ids. One that already failed means this one never runs.
    const dependsOn: string[] = [];
    for (const d of job.task.pendingDeps) {
      const up = this.jobs.get(d);
      if (!up) continue;
      await up.submitted;
      if (up.outcome) {
        if (up.outcome.status === 'succeeded' || up.outcome.status === 'cached') continue;
        job.settle({ status: 'skipped', error: up.outcome.status === 'skipped' ? (up.outcome.error ?? `needs ${d} which was skipped`) : `needs ${d} which failed` });
        return null;
      }
      if (up.jobId) dependsOn.push(up.jobId);
    }
    job.dependsOn = dependsOn;
    const task: JobTask = {
      step: step.id,
      n: job.n,
      upstream: job.task.upstream,
      pendingDeps: job.task.pendingDeps,
      ...(job.task.resolved ? { fingerprint: job.task.resolved.fingerprint } : {}),
      ...(job.task.reason !== undefined ? { reason: job.task.reason } : {}),
    };
    writeJson(jobFile(run.runDir, step.id, 'task.json'), task);
    const command = this.options.reproCommand ?? DEFAULT_REPRO();
    writeFileAtomic(
      jobFile(run.runDir, step.id, 'sh'),
      `#!/bin/sh\n# ${quoteFor('comment', step.id)}: written by repro for run ${run.runId}\nexec ${[...command, 'exec-step', run.runDir, step.id].map(shellQuote).join(' ')}\n`,
    );
    rmSync(jobFile(run.runDir, step.id, 'result.json'), { force: true });
    job.jobId = await this.sbatch(job, dependsOn);
    return job.jobId;
  }

  private async sbatch(job: Job, dependsOn: string[]): Promise<string> {
    const secrets = secretParamValues(this.run.plan);
    const env = Object.keys(secrets).length ? { ...process.env, [SECRET_PARAMS_ENV]: JSON.stringify(secrets) } : process.env;
    try {
      const { stdout } = await slurmCommand('sbatch', this.sbatchArgs(job, dependsOn), { env, timeoutMs: 120_000 });
      const id = stdout.trim().split(';')[0]!;
      if (!/^\d+(_\d+)?$/.test(id)) throw new ReproError(`sbatch answered '${stdout.trim()}' instead of a job id`, 'executor-unavailable');
      return id;
    } catch (err) {
      const e = commandFailure(err, `submitting ${job.task.step.id}`);
      const r = job.task.step.resources;
      const asked = [`cpus-per-task ${Math.max(1, Math.ceil(r?.cpu ?? 1))}`, r?.memory ? `mem ${Math.ceil(r.memory / 1024 / 1024)}M` : '', r?.gpu ? `gpu ${r.gpu}` : '']
        .filter(Boolean)
        .join(', ');
      // Slurm refused what the workflow asks for: point at the step's `resources`.
      const wf = this.run.plan.workflow;
      const range = wf.ranges.get(`/steps/${job.task.step.stepId}/resources`) ?? wf.ranges.get(`/steps/${job.task.step.stepId}`);
      const at = e.category === 'invalid' && range ? `${relative(process.cwd(), range.file) || range.file}:${range.start.line}:${range.start.column}: ` : '';
      throw new ReproError(at + e.message, e.category, e.hint ?? `the step asks for ${asked}${this.options.partition ? ` in partition ${this.options.partition}` : ''}; lower its \`resources\` or choose another partition (sinfo -o '%P %c %m %G' lists them)`);
    }
  }

  // ---- following -------------------------------------------------------------------------------

  private async pollLoop(): Promise<void> {
    const ms = Math.max(0.05, this.options.poll ?? 1) * 1000;
    for (;;) {
      await new Promise<void>((r) => {
        const t = setTimeout(r, ms);
        this.wakePoll = () => {
          clearTimeout(t);
          r();
        };
      });
      this.wakePoll = null;
      if (!this.stopping) await this.poll();
      // Cleared in the same tick as the last check, so a job started later starts a new loop.
      if (this.stopping || [...this.jobs.values()].every((j) => j.outcome)) {
        this.polling = null;
        return;
      }
    }
  }

  private async poll(): Promise<void> {
    const live = [...this.jobs.values()].filter((j) => !j.outcome && j.jobId);
    if (!live.length) return;
    let states: Map<string, JobState>;
    try {
      const { stdout } = await slurmCommand('squeue', ['-h', '-t', 'all', '-j', live.map((j) => j.jobId).join(','), '-o', SQUEUE_FORMAT], { timeoutMs: 60_000 });
      states = parseSqueue(stdout);
      this.pollFailures = 0;
    } catch (err) {
      if (err instanceof SlurmCommandError && /invalid job id/i.test(err.slurmMessage)) states = new Map();
      else {
        // A controller restarting is normal on a cluster: keep trying for a few minutes.
        if (++this.pollFailures * (this.options.poll ?? 1) > 300) {
          const e = commandFailure(err, 'following the jobs (squeue)');
          for (const j of live) j.fail(e);
        }
        return;
      }
    }
    const forgotten = new Set(live.filter((j) => !states.has(j.jobId!)).map((j) => j.jobId!));
    const fromJobComp = forgotten.size && this.jobComp ? readJobComp(this.jobComp, forgotten) : new Map<string, JobState>();
    for (const job of live) {
      this.relayEvents(job);
      const st = states.get(job.jobId!) ?? fromJobComp.get(job.jobId!);
      if (!st) {
        // Neither squeue nor the jobcomp file knows it: trust the result file, else give it time.
        if (readJobResult(this.run.runDir, job.task.step.id)) await this.ended(job, { id: job.jobId!, state: 'COMPLETED', nodes: job.node ?? '', reason: '' });
        else if (++job.unseen > 30) await this.ended(job, { id: job.jobId!, state: 'UNKNOWN', nodes: job.node ?? '', reason: 'the job left the queue without a record (sacct may know more)' });
        continue;
      }
      job.unseen = 0;
      job.state = st;
      if (st.nodes) job.node = st.nodes;
      if (st.state === 'PENDING' && NEVER_RUNS_REASONS.has(st.reason)) {
        await this.scancel([job.jobId!]).catch(() => undefined);
        job.settle(this.failedOutcome(job, `Slurm will never start job ${job.jobId} as submitted (Reason=${st.reason})`, `see \`scontrol show job ${job.jobId}\`; lower the step's \`resources\` or choose another partition`));
        await this.cancelDependents(job);
      } else if (TERMINAL_STATES.has(st.state)) {
        await this.ended(job, st);
      }
    }
  }

  /** Re-emits the events the job appended since the last look. */
  private relayEvents(job: Job): void {
    const path = jobFile(this.run.runDir, job.task.step.id, 'events.jsonl');
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      return;
    }
    if (size <= job.eventsOffset) return;
    const fd = openSync(path, 'r');
    const buf = Buffer.alloc(size - job.eventsOffset);
    try {
      readSync(fd, buf, 0, buf.length, job.eventsOffset);
    } finally {
      closeSync(fd);
    }
    const text = buf.toString('utf8');
    const end = text.lastIndexOf('\n');
    if (end < 0) return; // a line still being written
    job.eventsOffset += Buffer.byteLength(text.slice(0, end + 1));
    for (const line of text.slice(0, end).split('\n')) {
      try {
        const e = JSON.parse(line) as RunEvent;
        if (e.type === 'step-started' || e.type === 'step-progress' || e.type === 'step-log') this.run.emit(e);
      } catch {
        /* a torn line from a killed job */
      }
    }
  }

  private record(job: Job, st: JobState, node?: string): StepExecutorRecord {
    return {
      name: 'slurm',
      jobId: job.jobId!,
      ...(node || job.node ? { node: node || job.node } : {}),
      state: st.state,
      ...(job.dependsOn.length ? { dependsOn: job.dependsOn } : {}),
      ...(job.requeuedFrom.length ? { requeuedFrom: job.requeuedFrom } : {}),
    };
  }

  private failedOutcome(job: Job, error: string, hint?: string): StepOutcome {
    return { status: 'failed', error, ...(hint ? { hint } : {}), logFile: jobFile(this.run.runDir, job.task.step.id, 'out'), executor: this.record(job, job.state ?? { id: job.jobId!, state: 'UNKNOWN', nodes: '', reason: '' }) };
  }

  private async ended(job: Job, st: JobState): Promise<void> {
    const { step } = job.task;
    this.relayEvents(job);
    let result = readJobResult(this.run.runDir, step.id);
    if (!result && st.state === 'COMPLETED' && ++job.resultWaits < 10) return;
    // A job killed from outside (node failure, preemption, time limit, scancel) may still have
    // written a result: the step saw its command die. The job's end is the real cause.
    const killed = st.state !== 'COMPLETED' && st.state !== 'FAILED';
    const stepLog = result && ((killed && result.status === 'failed') || result.status === 'interrupted') ? result : null;
    if (stepLog) result = null;
    if (!result && REQUEUE_STATES.has(st.state) && job.attempts < 2 && !this.interrupting && !this.stopping) {
      await this.requeue(job, st);
      return;
    }
    job.state = st;
    const where = this.record(job, st, result?.executor.node);
    let outcome: StepOutcome;
    if (result) {
      outcome = outcomeOf(result, where);
    } else {
      outcome = { ...this.failedOutcome(job, this.explainEnd(job, st, stepLog)), executor: where };
      const resolved = stepLog && resolvedOf(stepLog);
      if (resolved) outcome.resolved = resolved;
      if (stepLog?.logFile) outcome.logFile = stepLog.logFile;
      if (stepLog?.startedAt) Object.assign(outcome, { startedAt: stepLog.startedAt, finishedAt: stepLog.finishedAt, durationMs: stepLog.durationMs });
    }
    job.settle(outcome);
    if (outcome.status !== 'succeeded' && outcome.status !== 'cached') await this.cancelDependents(job);
  }

  /** Why a job ended without the step recording an ending of its own, in the user's words. */
  private explainEnd(job: Job, st: JobState, result: JobResult | null): string {
    const where = st.nodes || job.node ? ` on ${st.nodes || job.node}` : '';
    const id = `Slurm job ${job.jobId}`;
    let msg: string;
    switch (st.state) {
      case 'CANCELLED':
        msg = `${id} was cancelled${where}${result ? ' while the step ran' : ''} (scancel, or an administrator)`;
        break;
      case 'TIMEOUT':
        msg = `${id} reached its time limit${this.options.time ? ` (--time ${this.options.time})` : ''}${where}`;
        break;
      case 'OUT_OF_MEMORY':
        msg = `${id} ran out of memory${where}: raise the step's \`resources.memory\``;
        break;
      case 'NODE_FAIL':
      case 'PREEMPTED':
      case 'BOOT_FAIL':
        msg = `${id} ended ${st.state}${where}, after ${job.requeuedFrom.length ? `a requeue (earlier job ${job.requeuedFrom.join(', ')})` : 'no requeue'}`;
        break;
      default:
        msg = `${id} ended ${st.state}${st.exitCode ? ` (exit code ${st.exitCode})` : ''}${where} before the step recorded a result${st.reason ? ` (${st.reason})` : ''}`;
    }
    const tail = tailOf(jobFile(this.run.runDir, job.task.step.id, 'out'), 12);
    return tail ? `${msg}; its output ends with:\n${tail}` : msg;
  }

  /** NODE_FAIL / PREEMPTED: the same job once more; dependents now wait for the new one. */
  private async requeue(job: Job, st: JobState): Promise<void> {
    const { step } = job.task;
    const old = job.jobId!;
    const now = new Date().toISOString();
    const line = `# Slurm job ${old} ended ${st.state}${st.nodes ? ` on ${st.nodes}` : ''}: submitting the step once more`;
    try {
      appendFileSync(logFileOf(this.run.runDir, step.id), line + '\n');
    } catch {
      /* the log is a courtesy */
    }
    this.run.emit({ type: 'step-log', step: step.id, line, time: now });
    job.requeuedFrom.push(old);
    job.attempts++;
    job.resultWaits = 0;
    job.unseen = 0;
    job.state = undefined;
    // Its upstream jobs have all succeeded (it ran): no dependency this time.
    job.dependsOn = [];
    job.jobId = await this.sbatch(job, []);
    for (const d of this.jobs.values()) {
      if (d.outcome || !d.jobId || !d.dependsOn.includes(old)) continue;
      d.dependsOn = d.dependsOn.map((x) => (x === old ? job.jobId! : x));
      const waitFor = d.task.pendingDeps.map((id) => this.jobs.get(id)).filter((u) => u && !u.outcome && u.jobId).map((u) => u!.jobId!);
      try {
        await slurmCommand('scontrol', ['update', `JobId=${d.jobId}`, `Dependency=afterok:${waitFor.join(':')}`], { timeoutMs: 60_000 });
      } catch (err) {
        throw commandFailure(err, `re-pointing ${d.task.step.id} at the requeued job ${job.jobId}`);
      }
    }
  }

  /** Cancels the jobs that wait, directly or not, for a job that did not succeed; reports them skipped. */
  private async cancelDependents(failed: Job): Promise<void> {
    const because = failed.outcome?.status === 'skipped' ? (failed.outcome.error ?? '') : `needs ${failed.task.step.id} which ${failed.outcome?.status === 'interrupted' ? 'was interrupted' : 'failed'}`;
    const doomed: Job[] = [];
    const visit = (id: string) => {
      for (const j of this.jobs.values()) {
        if (j.outcome || doomed.includes(j) || !j.task.pendingDeps.includes(id)) continue;
        doomed.push(j);
        visit(j.task.step.id);
      }
    };
    visit(failed.task.step.id);
    if (!doomed.length) return;
    const ids = doomed.filter((j) => j.jobId).map((j) => j.jobId!);
    if (ids.length) await this.scancel(ids).catch(() => undefined);
    for (const j of doomed) j.settle({ status: 'skipped', error: because });
  }

  private async scancel(ids: string[]): Promise<void> {
    if (ids.length) await slurmCommand('scancel', ids, { timeoutMs: 60_000 });
  }

  /** Ctrl-C: cancel every job of the run; running steps are reported interrupted, waiting ones skipped. */
  private async interrupt(): Promise<void> {
    this.interrupting = true;
    await this.submitChain;
    const left = [...this.jobs.values()].filter((j) => !j.outcome);
    const ids = left.filter((j) => j.jobId).map((j) => j.jobId!);
    // Which of them run right now (the last poll may be a second old) decides interrupted vs skipped.
    if (ids.length) {
      try {
        const now = parseSqueue((await slurmCommand('squeue', ['-h', '-t', 'all', '-j', ids.join(','), '-o', SQUEUE_FORMAT], { timeoutMs: 20_000 })).stdout);
        for (const j of left) if (j.jobId && now.has(j.jobId)) j.state = now.get(j.jobId);
      } catch {
        /* cancel all the same */
      }
    }
    await this.scancel(ids).catch(() => undefined);
    for (const j of left) {
      if (j.state?.state === 'RUNNING' || j.state?.state === 'COMPLETING') j.settle({ status: 'interrupted', error: 'interrupted', executor: this.record(j, { ...j.state, state: 'CANCELLED' }) });
      else j.settle({ status: 'skipped', error: 'run interrupted' });
    }
  }
}

/** The last lines of a file, indented, or '' when there is none. */
export function tailOf(path: string, lines: number): string {
  let text: string;
  try {
    const size = statSync(path).size;
    const fd = openSync(path, 'r');
    const buf = Buffer.alloc(Math.min(size, 16 * 1024));
    try {
      readSync(fd, buf, 0, buf.length, size - buf.length);
    } finally {
      closeSync(fd);
    }
    text = buf.toString('utf8');
  } catch {
    return '';
  }
  return text
    .trimEnd()
    .split('\n')
    .slice(-lines)
    .map((l) => `  ${l}`)
    .join('\n');
}
