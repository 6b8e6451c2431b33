// The recorder: listens to the scheduler's StepEnded events and keeps the run's record
// (results/<workflow>/<run-id>/run.json) and the store's history of each step up to date, then
// tells the user (the RunEvent of each end). run.json is rewritten at once when a step ran or
// failed, and at most every 250 ms for a burst of cached or skipped steps.
import { dirname, relative, resolve, sep } from 'node:path';
import type { Plan } from '../workflow/types.js';
import type { EventListener } from './events.js';
import { RUN_RECORD_FORMAT, type EnvironmentRecord, type RunRecord, type StepRecord } from '../formats/run-record.js';
import { writeFileAtomic } from '../core/atomic.js';
import type { Store } from './store.js';
import type { SecretMask } from './secrets.js';
import { readHistory, writeHistory, type History } from './history.js';
import type { StepEnded } from './scheduler.js';
import type { ExecutionFacts } from '../core/facts.js';
import type { StepStatus } from '../core/status.js';

/** `to` relative to the folder of `file`, with forward slashes (run.json is read on other systems). */
const relativePath = (file: string, to: string) => relative(dirname(resolve(file)), resolve(to)).split(sep).join('/') || '.';

export interface RecorderInput {
  plan: Plan;
  runId: string;
  recordPath: string;
  store: Store;
  /** Every text written is masked with it. */
  secrets: SecretMask;
  /** The run's params as recorded: secret ones as MASK. */
  publicParams: Record<string, unknown>;
  command: string[];
  /** When the run started (ms since the epoch). */
  startedAt: number;
  environment: EnvironmentRecord;
  /** The user's events (terminal, --json): each step's end is passed on once it is recorded. */
  emit: EventListener;
}

export class RunRecorder {
  readonly record: RunRecord;
  /** The last run of each step (store/history/<workflow>.json), updated as steps end. */
  readonly history: History;
  private historyDirty = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly ended = new Map<string, StepRecord>();

  constructor(private readonly input: RecorderInput) {
    const { plan, runId, store, publicParams, command, startedAt, environment } = input;
    this.record = {
      format: RUN_RECORD_FORMAT,
      runId,
      workflow: {
        name: plan.workflow.name,
        file: plan.workflow.file,
        sha256: plan.workflow.sha256,
        ...(plan.workflow.source ? { source: plan.workflow.source } : {}),
        ...(plan.workflow.title ? { title: plan.workflow.title } : {}),
        ...(plan.workflow.paper ? { paper: plan.workflow.paper } : {}),
      },
      git: { commit: null, dirty: null, branch: null },
      profile: plan.profile,
      params: publicParams,
      status: 'running',
      startedAt: new Date(startedAt).toISOString(),
      command,
      store: store.root,
      // Relative to run.json's folder: a project moved or copied whole still finds both (locateRun).
      relative: { store: relativePath(input.recordPath, store.root), workflow: relativePath(input.recordPath, plan.workflow.file) },
      environment,
      steps: [],
    };
    this.history = readHistory(store, plan.workflow.name, plan.profile);
  }

  /** run.json now (temporary file, then rename), secrets masked. */
  write(): void {
    writeFileAtomic(this.input.recordPath, this.input.secrets.maskJsonText(JSON.stringify(this.record, null, 2)) + '\n');
  }

  private writeSoon(): void {
    this.timer ??= setTimeout(() => {
      this.timer = null;
      this.write();
    }, 250);
  }

  /** A step ended: its record, its history entry, then the user's event. */
  stepEnded(e: StepEnded): void {
    const { step, status, resolved } = e;
    const rec: StepRecord = {
      id: step.id,
      stepId: step.stepId,
      uses: step.uses,
      ...(step.role ? { role: step.role } : {}),
      matrix: step.matrix,
      status,
      fingerprint: resolved?.fingerprint ?? '',
      fingerprintComponents: (resolved?.components ?? {}) as unknown as Record<string, unknown>,
      inputs: resolved?.inputs ?? {},
      outputs: e.outputs ?? {},
      ...e.detail,
    };
    this.ended.set(step.id, rec);
    this.record.steps.push(rec);
    const history = this.history;
    const prev = history.steps[step.id];
    const unchanged = status === 'cached' && prev?.fingerprint === resolved?.fingerprint && (prev?.status === 'succeeded' || prev?.status === 'cached');
    if (resolved && status !== 'skipped' && !unchanged) {
      history.steps[step.id] = {
        fingerprint: resolved.fingerprint,
        components: resolved.components,
        params: this.input.publicParams,
        status,
        time: new Date().toISOString(),
        durationMs: status === 'succeeded' ? e.detail.durationMs : prev?.durationMs,
        runId: this.input.runId,
      };
      this.historyDirty = true;
    }
    if (status === 'cached' || status === 'skipped') this.writeSoon();
    else {
      if (this.historyDirty) {
        writeHistory(this.input.store, history);
        this.historyDirty = false;
      }
      this.write();
    }
    if (e.event) this.input.emit(e.event);
  }

  /** After an error of the engine itself: the record says 'failed' rather than 'running'. */
  failed(): void {
    this.record.status = 'failed';
    this.record.finishedAt = new Date().toISOString();
    this.record.durationMs = Date.now() - this.input.startedAt;
    this.write();
  }

  /**
   * The run is over: steps in plan order, the run's status, what the steps' facts say about where
   * they ran, the git state (once known); run.json and history written. Returns the counts for run-finished.
   */
  async finish(interrupted: boolean, git: Promise<RunRecord['git']>): Promise<Record<StepStatus, number>> {
    if (this.timer) clearTimeout(this.timer);
    const { plan } = this.input;
    const record = this.record;
    const counts: Record<StepStatus, number> = { succeeded: 0, cached: 0, failed: 0, skipped: 0, interrupted: 0 };
    // Keep run.json in plan order, not completion order.
    record.steps = plan.steps.map((s) => this.ended.get(s.id)!);
    for (const s of record.steps) counts[s.status]++;
    record.status = interrupted ? 'interrupted' : counts.failed > 0 || counts.skipped > 0 ? 'failed' : 'succeeded';
    record.finishedAt = new Date().toISOString();
    record.durationMs = Date.now() - this.input.startedAt;
    const backends = new Map<string, ExecutionFacts>();
    // ML backends only: a `run` step's facts (its interpreter and package versions) stay with the step.
    for (const s of record.steps) if (s.facts && ('engine' in s.facts || 'backend' in s.facts)) backends.set(JSON.stringify(s.facts), s.facts);
    if (backends.size) record.environment.backends = [...backends.values()];
    const python = record.steps.map((s) => (s.facts ? pythonOf(s.facts) : null)).find((p) => p);
    if (python) record.environment.python = python;
    record.git = await git;
    this.write();
    if (this.historyDirty) writeHistory(this.input.store, this.history);
    return counts;
  }
}

/**
 * The Python a step ran on, from its facts: a step that runs out of process in Python (the torch
 * engine) reports `python` (the interpreter's path) and `python_version`, and may report the
 * libraries it used (`torch`, `cuda`, `device`, `blas`). They are what actually ran, never guessed.
 */
export function pythonOf(facts: ExecutionFacts): EnvironmentRecord['python'] | null {
  if (typeof facts.python !== 'string') return null;
  return {
    path: facts.python,
    version: String(facts.python_version ?? ''),
    ...(facts.torch != null ? { torch: String(facts.torch) } : {}),
    ...(facts.cuda != null ? { cuda: facts.cuda === true } : {}),
    ...(facts.device != null ? { device: String(facts.device) } : {}),
    ...(facts.blas != null ? { blas: String(facts.blas) } : {}),
  };
}
