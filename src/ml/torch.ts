// Placeholder: the PyTorch engine's launcher (engines/torch/), replaced by the torch-engine issue.
import type { EvalConfig, TrainConfig, TrainIO, TrainOutcome } from './types.js';

export interface TorchInfo {
  python: string;
  torch: string;
  cuda: boolean;
  device: string;
  blas?: string;
}

/** The Python with torch: --python, else /usr/bin/python3, then python3; null when none has torch. */
export async function findTorch(_python?: string): Promise<TorchInfo | null> {
  return null;
}

export async function trainWithTorch(_config: TrainConfig, _io: TrainIO): Promise<TrainOutcome> {
  throw new Error('the torch engine is not implemented yet');
}

export async function evaluateWithTorch(_config: EvalConfig, _io: TrainIO): Promise<{ metricsFile: string; predictionsFile: string; facts: Record<string, string | number | boolean | null> }> {
  throw new Error('the torch engine is not implemented yet');
}
