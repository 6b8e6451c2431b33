// The local executor: runs steps in this process, as many at once as CPU tokens (--jobs) and
// GPUs allow. A step takes `resources.cpu` tokens (at most all of them) and, on a machine with
// GPUs, `resources.gpu` GPUs of its own.
import { detectGpus, type GpuInfo } from '../environment.js';
import { runStepInProcess } from './step.js';
import type { ExecutorRun, StepExecutor, StepOutcome, StepTask } from './types.js';
import { cpuTokens, defaultJobs } from '../resources.js';

export interface LocalExecutorOptions {
  /** CPU tokens (default: the number of cores). */
  jobs?: number;
  /** GPUs to schedule on (default: what nvidia-smi reports). */
  gpus?: GpuInfo[];
}

export class LocalExecutor implements StepExecutor {
  readonly name = 'local';
  readonly handsOverAhead = false;
  readonly jobs: number;
  private run!: ExecutorRun;
  private gpus: GpuInfo[] = [];
  private freeCpu: number;
  private readonly freeGpus = new Set<number>();
  private started = 0;

  constructor(private readonly options: LocalExecutorOptions = {}) {
    this.jobs = defaultJobs(options.jobs);
    this.freeCpu = this.jobs;
  }

  async open(run: ExecutorRun): Promise<void> {
    this.run = run;
    this.gpus = this.options.gpus ?? (await detectGpus());
    for (const g of this.gpus) this.freeGpus.add(g.index);
  }

  start(task: StepTask): Promise<StepOutcome> | null {
    const { step, resolved } = task;
    if (!resolved) throw new Error(`local executor: ${step.id} was handed over before its upstream finished`);
    const cpu = cpuTokens(step, this.jobs);
    if (cpu > this.freeCpu) return null;
    // A step asking for GPUs takes real ones when the machine has them; on a machine without
    // any it runs as a CPU step (and says so in its log). It never waits for GPUs that do not exist.
    const gpuRequest = Math.max(0, Math.ceil(step.resources?.gpu ?? 0));
    const wantGpu = this.gpus.length ? Math.min(gpuRequest, this.gpus.length) : 0;
    if (wantGpu > this.freeGpus.size) return null;
    const gpuIds = [...this.freeGpus].sort((a, b) => a - b).slice(0, wantGpu);
    for (const g of gpuIds) this.freeGpus.delete(g);
    this.freeCpu -= cpu;
    const kind = this.run.lookupKind(step.uses)!;
    return runStepInProcess(this.run, {
      step,
      kind,
      resolved,
      reason: task.reason ?? '',
      n: ++this.started,
      threads: cpu,
      gpus: gpuIds,
      signal: this.run.signal,
    }).finally(() => {
      this.freeCpu += cpu;
      for (const g of gpuIds) this.freeGpus.add(g);
    });
  }

  async close(): Promise<void> {
    /* in-process steps end with the run */
  }
}
