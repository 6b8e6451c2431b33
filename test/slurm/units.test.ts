// The Slurm executor's parts that need no cluster: parsing Slurm's output, the job files'
// secret handling, where the executor settings come from. Always run.
import { describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig, parseJobComp, parseSqueue, slurmSays, commandFailure, SlurmCommandError } from '../../src/engine/executors/slurm-commands.js';
import { jobFile, jobsDir, restorePlan, serializablePlan, writeJson, JOB_SPEC_FORMAT, type JobSpec, type JobTask } from '../../src/engine/executors/job-files.js';
import { jobResult, outcomeOf, readJobResult, writeJobResult, JOB_RESULT_FORMAT } from '../../src/engine/executors/worker-protocol.js';
import { runJobStep } from '../../src/engine/executors/worker.js';
import type { StepOutcome } from '../../src/engine/executors/types.js';
import { getStepKind } from '../../src/steps/registry.js';
import { executorSettings, readExecutorConfig } from '../../src/engine/executors/config.js';
import { ExitCode, exitCodeOf } from '../../src/cli/exit-codes.js';
import { makePlan, nodeCmd, tempProject } from '../engine/helpers.js';
import { ReproError } from '../../src/core/errors.js';
import { repro } from '../support/index.js';

describe('Slurm output parsing', () => {
  it('reads squeue lines, jobcomp records and scontrol config', () => {
    const q = parseSqueue('12|RUNNING|node7|None\n13|PENDING||Dependency\n14|CANCELLED+|(null)|DependencyNeverSatisfied\n');
    expect(q.get('12')).toEqual({ id: '12', state: 'RUNNING', nodes: 'node7', reason: 'None' });
    expect(q.get('13')!.reason).toBe('Dependency');
    expect(q.get('14')!.state).toBe('CANCELLED');
    expect(q.get('14')!.nodes).toBe('');

    const comp =
      'JobId=7 UserId=root(0) GroupId=root(0) Name=repro:wf:a JobState=COMPLETED Partition=debug NodeList=vm ExitCode=0:0 \n' +
      'JobId=8 UserId=root(0) GroupId=root(0) Name=repro:wf:b JobState=FAILED Partition=debug NodeList=vm ExitCode=1:0 \n' +
      'JobId=9 UserId=root(0) Name=x JobState=COMPLETED NodeList=vm\n';
    const c = parseJobComp(comp, new Set(['7', '8']));
    expect([...c.keys()]).toEqual(['7', '8']);
    expect(c.get('8')).toMatchObject({ state: 'FAILED', nodes: 'vm', exitCode: '1:0' });

    const cfg = parseConfig('Configuration data as of 2026-01-01\nJobCompLoc              = /var/lib/x/jobcomp.txt\nJobCompType             = jobcomp/filetxt\n');
    expect(cfg.JobCompLoc).toBe('/var/lib/x/jobcomp.txt');
    expect(cfg.JobCompType).toBe('jobcomp/filetxt');
  });

  it("quotes Slurm's own message; a controller that does not answer is exit 7, a refusal exit 2", () => {
    expect(slurmSays('sbatch: error: invalid partition specified: nope\nsbatch: error: Batch job submission failed: Invalid partition name specified')).toBe(
      'invalid partition specified: nope; Batch job submission failed: Invalid partition name specified',
    );
    const down = commandFailure(new SlurmCommandError('sinfo', 'slurm_load_partitions: Unable to contact slurm controller (connect failure)', false), 'x');
    expect(exitCodeOf(down.category)).toBe(ExitCode.EXECUTOR_UNAVAILABLE);
    const refused = commandFailure(new SlurmCommandError('sbatch', 'sbatch: error: Batch job submission failed: Requested node configuration is not available', false), 'submitting a');
    expect(exitCodeOf(refused.category)).toBe(ExitCode.INVALID);
    expect(refused.message).toBe('submitting a: Slurm says: Batch job submission failed: Requested node configuration is not available');
  });
});

describe('job files', () => {
  it('keep secret param values out of the spec and give them back in the job', () => {
    const p = tempProject('repro-slurm-');
    const secret = 'hunter2-secret-value';
    const plan = makePlan(
      p,
      [
        { id: 'a', with: { command: `curl -H "Authorization: Bearer ${secret}" x`, env: { T: secret, N: 7 } }, outputs: { out: 'o' } },
        { id: 'b', with: { command: 'echo', env: { PIN: 1234 } }, outputs: { out: 'o' } },
      ],
      { params: { token: secret, pin: 1234, epochs: 3 }, secretParams: ['token', 'pin'] },
    );
    const text = JSON.stringify(serializablePlan(plan));
    expect(text).not.toContain(secret);
    expect(text).not.toContain('1234');
    expect(text).toContain('"epochs":3');
    const back = restorePlan(JSON.parse(text), { token: secret, pin: 1234 });
    expect(back.steps).toEqual(plan.steps);
    expect(back.params).toEqual(plan.params);
    expect(back.secretParams).toEqual(['token', 'pin']);
    expect(back.workflow.ranges).toBeInstanceOf(Map);
  });
});

describe('executor settings', () => {
  it('command line over config file over the workflow; local by default', async () => {
    const p = tempProject('repro-slurm-');
    const file = join(p, 'cluster.yaml');
    writeFileSync(file, 'executor:\n  type: slurm\n  partition: gpu\n  time: "01:00:00"\n  flags: ["--qos=low"]\n');
    expect((await executorSettings({}, undefined)).type).toBe('local');
    expect(await executorSettings({}, { type: 'slurm', partition: 'cpu', account: 'lab' })).toEqual({ type: 'slurm', partition: 'cpu', account: 'lab' });
    expect(await executorSettings({ executorConfig: file }, { type: 'slurm', partition: 'cpu', account: 'lab' })).toEqual({
      type: 'slurm',
      partition: 'gpu',
      account: 'lab',
      time: '01:00:00',
      flags: ['--qos=low'],
    });
    expect(await executorSettings({ executorConfig: file, partition: 'big', sbatchFlag: ['--exclusive'] }, undefined)).toMatchObject({ partition: 'big', flags: ['--exclusive'] });
    // --executor local wins over a workflow that asks for Slurm.
    expect((await executorSettings({ executor: 'local' }, { type: 'slurm' })).type).toBe('local');
  });

  it('refuses an unknown executor, Slurm options without Slurm, and a bad config file', async () => {
    const p = tempProject('repro-slurm-');
    await expect(executorSettings({ executor: 'k8s' }, undefined)).rejects.toThrow("--executor must be local or slurm, got 'k8s'");
    const err = await executorSettings({ partition: 'gpu' }, undefined).catch((e) => e);
    expect(err).toBeInstanceOf(ReproError);
    expect(err.message).toBe('--partition: only for the Slurm executor');
    const bad = join(p, 'bad.yaml');
    writeFileSync(bad, 'type: slurm\npartiton: gpu\n');
    await expect(readExecutorConfig(bad)).rejects.toThrow('unknown executor setting `partiton`');
    await expect(readExecutorConfig(join(p, 'missing.yaml'))).rejects.toThrow('no such file');
  });
});

describe('the job result protocol', () => {
  const executor = { name: 'slurm', jobId: '41', node: 'n7' };
  const resolved = {
    with: {},
    fingerprint: 'f'.repeat(64),
    components: { format: 'repro-fingerprint/1', kind: 'run', version: '1', with: {}, inputPaths: {}, environment: {}, facts: {} } as never,
    inputs: { 'steps.a.outputs.out': { type: 'file' as const, sha256: 'a'.repeat(64), storePath: 'objects/aa' } },
  };

  it('gives back the outcome the job wrote, field for field', () => {
    const p = tempProject('repro-slurm-');
    mkdirSync(jobsDir(p), { recursive: true });
    const outcome: StepOutcome = {
      status: 'succeeded',
      resolved,
      outputs: { out: { type: 'value', sha256: 'b'.repeat(64), value: 3 } },
      facts: { engine: 'tfjs', device: 'cpu' },
      summary: 'acc 0.61',
      logFile: join(p, 'logs', 'b.log'),
      startedAt: '2026-12-07T00:00:00.000Z',
      finishedAt: '2026-12-07T00:00:01.000Z',
      durationMs: 1000,
    };
    writeJobResult(p, 'b[seed=1]', jobResult(outcome, executor));
    const back = readJobResult(p, 'b[seed=1]')!;
    expect(back.format).toBe(JOB_RESULT_FORMAT);
    expect(outcomeOf(back, { ...executor, state: 'COMPLETED' })).toEqual({ ...outcome, executor: { ...executor, state: 'COMPLETED' } });
    // A step that failed before it was resolved carries no fingerprint, and none comes back.
    writeJobResult(p, 'c', jobResult({ status: 'failed', error: 'upstream step a left no result' }, executor));
    expect(outcomeOf(readJobResult(p, 'c')!, executor)).toEqual({ status: 'failed', error: 'upstream step a left no result', executor });
    expect(readJobResult(p, 'absent')).toBeNull();
  });

  it('turns a result of another version or a damaged one into a failure that says so', () => {
    const p = tempProject('repro-slurm-');
    mkdirSync(jobsDir(p), { recursive: true });
    // What exec-step wrote before the protocol had a version: no format.
    writeFileSync(jobFile(p, 'old', 'result.json'), JSON.stringify({ status: 'succeeded', fingerprint: '', components: null, inputs: {}, executor }));
    const old = readJobResult(p, 'old')!;
    expect(old.status).toBe('failed');
    expect(old.error).toContain('format null, expected repro-job-result/1');
    writeFileSync(jobFile(p, 'newer', 'result.json'), JSON.stringify({ ...jobResult({ status: 'succeeded' }, executor), format: 'repro-job-result/2' }));
    expect(readJobResult(p, 'newer')!.hint).toContain('it wrote repro-job-result/2');
    writeFileSync(jobFile(p, 'bad', 'result.json'), JSON.stringify({ ...jobResult({ status: 'succeeded' }, executor), status: 'done' }));
    expect(readJobResult(p, 'bad')).toMatchObject({ status: 'failed', error: expect.stringContaining('status "done" is not a step status') });
  });
});

describe('the job worker', () => {
  function runWithJobs(p: string, script: string) {
    const plan = makePlan(p, [{ id: 'a', with: { command: nodeCmd(script) }, outputs: { out: 'out.txt' } }]);
    const runDir = join(p, 'results', 'test-wf', 'r1');
    const store = join(p, '.repro');
    mkdirSync(jobsDir(runDir), { recursive: true });
    mkdirSync(store, { recursive: true });
    const spec: JobSpec = { format: JOB_SPEC_FORMAT, runId: 'r1', store, cwd: p, plan: serializablePlan(plan), stepOptions: {}, force: [] };
    writeJson(join(jobsDir(runDir), 'spec.json'), spec);
    const task: JobTask = { step: 'a', n: 1, upstream: {}, pendingDeps: [] };
    writeJson(jobFile(runDir, 'a', 'task.json'), task);
    return { runDir, store };
  }

  it("runs the step against the store and leaves a result the runner reads; a second job finds it cached", async () => {
    const p = tempProject('repro-slurm-');
    const { runDir, store } = runWithJobs(p, "require('fs').writeFileSync('out.txt', 'from the job')");
    writeJson(join(store, 'lock'), { record: join(runDir, 'run.json') });
    const env = { SLURM_JOB_ID: '77', SLURMD_NODENAME: 'n3' };
    const r = await runJobStep(runDir, 'a', { lookupKind: getStepKind, env });
    expect(r).toMatchObject({ format: JOB_RESULT_FORMAT, status: 'succeeded', executor: { name: 'slurm', jobId: '77', node: 'n3' } });
    expect(readJobResult(runDir, 'a')).toEqual(JSON.parse(JSON.stringify(r)));
    expect(readFileSync(join(store, r.outputs!.out!.storePath!), 'utf8')).toBe('from the job');
    expect(r.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(readFileSync(jobFile(runDir, 'a', 'events.jsonl'), 'utf8')).toContain('step-started');
    const again = await runJobStep(runDir, 'a', { lookupKind: getStepKind, env });
    expect(again.status).toBe('cached');
    expect(again.fingerprint).toBe(r.fingerprint);
  });

  it('refuses to work for a run whose runner does not hold the store lock', async () => {
    const p = tempProject('repro-slurm-');
    const { runDir } = runWithJobs(p, '');
    await expect(runJobStep(runDir, 'a', { lookupKind: getStepKind })).rejects.toThrow('is not in progress');
    expect(readJobResult(runDir, 'a')).toBeNull();
  });
});

describe('repro exec-step', () => {
  it('refuses a directory that is not a run with jobs (exit 2, no stack trace)', () => {
    const p = tempProject('repro-slurm-');
    const r = repro(['exec-step', p, 'a']);
    expect(r.code).toBe(ExitCode.INVALID);
    expect(r.stderr).toContain('is not a run with jobs');
    expect(r.stderr).not.toContain('    at ');
  });

  it('is hidden from --help', () => {
    const r = repro(['--help']);
    expect(r.stdout).toContain('run');
    expect(r.stdout).not.toContain('exec-step');
  });
});
