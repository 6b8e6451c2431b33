// Shared by the torch tests: whether torch is here (else the tests skip, saying why), a tiny
// repro-tensors dataset, and a TrainIO that records what the engine said.
import { writeDataset } from '../../src/data/tensors.js';
import { findTorch, pythonCandidates, type TorchInfo } from '../../src/ml/torch.js';
import type { TrainIO } from '../../src/ml/types.js';

export const torch: TorchInfo | null = await findTorch(process.env.REPRO_PYTHON);
if (!torch) {
  console.log(
    `torch tests skipped: no Python with PyTorch (tried ${pythonCandidates(process.env.REPRO_PYTHON).join(', ')}); ` +
      'install python3-torch libopenblas0-pthread to run them',
  );
}

/**
 * A small 5-class, 8×8×3 uint8 dataset where the class sets the image's brightness (plus noise),
 * so a CNN can learn it in an epoch or two.
 */
export function writeTinyDataset(dir: string, perSplit = { train: 80, val: 20, test: 20 }, size = 8): string {
  let state = 12345;
  const rand = () => ((state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const split = (n: number) => {
    const images = new Uint8Array(n * size * size * 3);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = i % 5;
      for (let p = 0; p < size * size * 3; p++) images[i * size * size * 3 + p] = Math.min(255, labels[i]! * 50 + Math.floor(rand() * 40));
    }
    return { images, labels, shape: [n, size, size, 3] as [number, number, number, number] };
  };
  writeDataset(
    dir,
    {
      name: 'tiny-ordered',
      classes: ['g0', 'g1', 'g2', 'g3', 'g4'],
      ordered: true,
      positions: [0, 1, 2, 3, 4],
      normalization: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
      sources: [],
    },
    { train: split(perSplit.train), val: split(perSplit.val), test: split(perSplit.test) },
  );
  return dir;
}

export interface RecordingIO extends TrainIO {
  logs: string[];
  progress: TrainIO['progress'] & { calls: Array<[number | null, string]> };
}

export function recordingIO(options: Record<string, unknown> = {}, signal = new AbortController().signal): RecordingIO {
  const logs: string[] = [];
  const calls: Array<[number | null, string]> = [];
  const progress = Object.assign((f: number | null, m: string) => void calls.push([f, m]), { calls });
  return { log: (l) => void logs.push(l), progress, signal, threads: 1, options: { python: process.env.REPRO_PYTHON, ...options }, logs };
}
