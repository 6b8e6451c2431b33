// The one interface of an ML engine: facts known before a step runs, train, evaluate. TensorFlow.js
// runs in process (src/ml/train.ts, evaluate.ts); PyTorch out of process (src/ml/torch.ts →
// engines/torch). The train and evaluate steps know the engines only through this module; each
// implementation is imported when first used, so planning loads neither tfjs nor a Python probe.
import type { ExecutionFacts } from '../core/facts.js';
import { StepError } from '../core/errors.js';
import type { EvalConfig, TrainConfig, TrainIO, TrainOutcome } from './types.js';
import { BackendUnavailableError, DEFAULT_SHARDS, plannedBackend, shardsBatches } from './backend/index.js';
import { chooseEngine, torchPlannedFacts, trainWithTorch, evaluateWithTorch } from './torch.js';

export type EngineName = 'tfjs' | 'torch';

export interface EvalOutcome {
  /** metrics.json (src/formats/metrics.ts EvaluationMetrics). */
  metricsFile: string;
  predictionsFile: string;
  facts: ExecutionFacts;
}

export interface MlEngine {
  name: EngineName;
  /**
   * Facts known before the step runs that can change its result (they enter the fingerprint).
   * `evaluate` asks before the model (hence its engine) exists: see steps/evaluate.ts.
   */
  plannedFacts(step: 'train' | 'evaluate', options: Record<string, unknown>): Promise<ExecutionFacts>;
  train(config: TrainConfig, io: TrainIO): Promise<TrainOutcome>;
  evaluate(config: EvalConfig, io: TrainIO): Promise<EvalOutcome>;
}

/** A backend that cannot start (no GPU, no wasm) is the user's to fix: a StepError with its hint. */
async function userFacing<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof BackendUnavailableError) throw new StepError(error.message, error.hint);
    throw error;
  }
}

const tfjs: MlEngine = {
  name: 'tfjs',
  async plannedFacts(step, options): Promise<ExecutionFacts> {
    const planned = plannedBackend(typeof options.backend === 'string' ? (options.backend as never) : 'auto');
    if (step === 'evaluate') return { backend: planned.backend, device: planned.device };
    // wasm, cpu: the bits depend on the shards each batch is cut into (recorded as `threads`, see
    // trainingFacts in train.ts), not on the threads that run them. libtensorflow: on its threads.
    const threads = shardsBatches(planned.backend) ? Number(options.shards) || DEFAULT_SHARDS : Number(options.threads) || 1;
    return { engine: 'tfjs', backend: planned.backend, device: planned.device, threads };
  },
  async train(config, io) {
    const { trainModel } = await import('./train.js');
    return userFacing(() => trainModel(config, io));
  },
  async evaluate(config, io) {
    const { evaluateModel } = await import('./evaluate.js');
    return userFacing(() => evaluateModel(config, io));
  },
};

const torch: MlEngine = {
  name: 'torch',
  async plannedFacts(_step, options) {
    return torchPlannedFacts(options);
  },
  async train(config, io) {
    return trainWithTorch(config, io);
  },
  async evaluate(config, io) {
    return evaluateWithTorch(config, io);
  },
};

const ENGINES: Record<EngineName, MlEngine> = { tfjs, torch };

export function mlEngine(name: EngineName): MlEngine {
  return ENGINES[name];
}

/** The engine a step asked for (`--engine` over the workflow's `engine:`, default tfjs); `auto` is torch when found. */
export async function chooseMlEngine(fromWorkflow: EngineName | 'auto' | undefined, options: Record<string, unknown>): Promise<MlEngine> {
  const cli = options.engine;
  const requested = cli === 'tfjs' || cli === 'torch' || cli === 'auto' ? cli : (fromWorkflow ?? 'tfjs');
  const python = typeof options.python === 'string' && options.python ? options.python : undefined;
  return ENGINES[await chooseEngine(requested, python)];
}
