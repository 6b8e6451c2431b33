// `npm run bench ml`: training speed of the tfjs library, one line per figure:
//   bench: ml.backend.wasm 2 threads (tfjs-backend-wasm 4.22.0, simd)
//   bench: train.wasm.28x28.xe 720 ex/s          (batch 64 / median step time)
//   bench: train.wasm.28x28.emd2_vs_xe 1.01 ratio
//   bench: ml.wasm.threads_back_on 0.02 ms      (1 → N threads with the workers kept from before)
// for every backend that starts here (tensorflow when @tensorflow/tfjs-node(-gpu) is installed, wasm, cpu)
// × {28×28, 64×64} × every loss. A step is what the trainer does per batch: computeGradients()
// (src/ml/gradients.ts, data-parallel over all cores on wasm/cpu) plus our SGD update (momentum 0.9); the model is the
// small CNN (conv32-pool-conv64-pool-fc128, 'same' 3×3 convolutions, ReLU, 2×2 max-pool), batch 64,
// 3 channels, 5 classes, random inputs (a step's speed does not depend on the pixels).
// On wasm, the native kernels against the wasm SIMD ones, on one thread, the two alternating step by step
// (so that load from elsewhere hits both alike):
//   bench: train.wasm.28x28.xe.1thread.native-avx512 1500 ex/s
//   bench: train.wasm.28x28.xe.1thread.simd 800 ex/s
//   bench: train.wasm.28x28.native_vs_simd 1.9 ratio
// The other wasm figures use the kernels REPRO_KERNELS chooses (by default the native ones where they load).
// REPRO_BENCH_BACKENDS=wasm,cpu limits the backends tried. REPRO_BENCH_SECONDS sets the time per figure (default 3 s; the slow cpu backend runs the minimum:
// 2 timed steps per figure, and only xe at 64×64). The whole area takes about 3 minutes on 2 cores.
import os from 'node:os';
import type { LossKind, LossSpec, ModelSpec } from '../ml/types.js';
import { LOSS_KINDS } from '../ml/loss-table.js';
import { initBackend, shutdownBackend, type BackendPreference } from '../ml/backend/index.js';
import { loadNativeKernels } from '../ml/kernels/native/index.js';

const BATCH = 64;
const CLASSES = 5;
const SIZES = [28, 64];
/** Training before the first figure of a fresh pool of workers (their first ~100 steps run slower while V8 compiles tfjs). */
export const WARM_UP_SECONDS = 4;
const LOSSES: readonly LossKind[] = LOSS_KINDS;

type Tf = typeof import('@tensorflow/tfjs-core');

export async function bench(): Promise<void> {
  const seconds = Number(process.env.REPRO_BENCH_SECONDS ?? 3);
  const threads = Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  const tf = await import('@tensorflow/tfjs-core');
  const all: Array<Exclude<BackendPreference, 'auto'>> = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];
  const only = process.env.REPRO_BENCH_BACKENDS?.split(',').map((b) => b.trim());
  const candidates = only ? all.filter((b) => only.includes(b)) : all;
  for (const preference of candidates) {
    let facts;
    try {
      facts = await initBackend(preference, threads);
    } catch (error) {
      console.log(`bench: ml.backend.${preference} skipped: ${(error as Error).message}`);
      continue;
    }
    const name = facts.backend === 'tensorflow' ? `tensorflow-${facts.device}` : facts.backend;
    const load = os.loadavg()[0]!.toFixed(1);
    console.log(`bench: ml.backend.${name} ${facts.threads} threads (${facts.backend} ${facts.backendVersion}, device ${facts.device}${facts.simd ? ', simd' : ''}, kernels ${facts.kernels}; load average ${load} when it started)`);
    // The pure-JS cpu backend is a last resort, tens of times slower: the shortest runs, and at 64×64 only xe.
    const slow = facts.backend === 'cpu';
    const budget = slow ? 0 : seconds;
    // Fresh workers run their first hundred steps or so slower (V8 compiles tfjs's code as it goes).
    if (!slow) await warmUp(tf, WARM_UP_SECONDS);
    for (const size of SIZES) {
      const losses = slow && size > 28 ? LOSSES.slice(0, 1) : LOSSES;
      for (const loss of losses) {
        const rate = await trainingRate(tf, size, { kind: loss }, budget);
        console.log(`bench: train.${name}.${size}x${size}.${loss} ${rate.toFixed(size > 28 && slow ? 1 : 0)} ex/s`);
      }
      if (!(slow && size > 28)) {
        console.log(`bench: train.${name}.${size}x${size}.emd2_vs_xe ${(await stepTimeRatio(tf, size, budget)).toFixed(3)} ratio (EMD² step time / XE step time, interleaved, medians)`);
      }
    }
    if (facts.threads > 1 && facts.backend !== 'cpu') {
      // The same figure on one thread shows what the data-parallel workers add.
      await initBackend(preference, 1);
      console.log(`bench: train.${name}.28x28.xe.1thread ${(await trainingRate(tf, 28, { kind: 'xe' }, budget)).toFixed(0)} ex/s`);
      // Back to all threads: the workers started above are kept, so this is a switch, not a start.
      const t0 = performance.now();
      await initBackend(preference, facts.threads);
      console.log(`bench: ml.${name}.threads_back_on ${(performance.now() - t0).toFixed(2)} ms (1 → ${facts.threads} threads, workers already started)`);
    }
    if (facts.backend === 'wasm') await compareKernels(tf, budget);
  }
  await shutdownBackend();
}

interface Trainer {
  step(): void;
  dispose(): void;
}

async function trainer(tf: Tf, size: number, lossSpec: LossSpec): Promise<Trainer> {
  const { buildModel } = await import('../ml/models.js');
  const { makeLoss } = await import('../ml/losses.js');
  const { computeGradients } = await import('../ml/gradients.js');
  const { makeOptimizer } = await import('../ml/optimizers.js');
  const spec: ModelSpec = { arch: 'small-cnn', inputShape: [size, size, 3], classes: CLASSES };
  const model = buildModel(spec, 0);
  const loss = makeLoss(lossSpec, CLASSES).loss;
  const x = tf.randomUniform([BATCH, size, size, 3], -1, 1, 'float32', 1) as import('@tensorflow/tfjs-core').Tensor4D;
  const y = tf.tensor1d(Array.from({ length: BATCH }, (_, i) => i % CLASSES), 'int32');
  const optimizer = makeOptimizer({ kind: 'sgd', lr: 0.01, momentum: 0.9 }, model.weights);
  return {
    step() {
      optimizer.step(computeGradients(model, loss, x, y).grads, 0.01);
    },
    dispose() {
      tf.dispose([x, y]);
      model.dispose();
    },
  };
}

/** Steps of the small CNN at 28×28 for `seconds`, to leave the workers' warm-up out of the figures. */
async function warmUp(tf: Tf, seconds: number): Promise<void> {
  const t = await trainer(tf, 28, { kind: 'xe' });
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) t.step();
  t.dispose();
}

/**
 * Examples per second from the median step time over `seconds` (at least 2 steps), after warm-up steps
 * (the first ones create XNNPACK operators and grow the wasm memory). The median keeps a burst of load
 * from other processes on a shared machine out of the figure.
 */
async function trainingRate(tf: Tf, size: number, lossSpec: LossSpec, seconds: number): Promise<number> {
  const t = await trainer(tf, size, lossSpec);
  for (let i = 0; i < (seconds > 0 ? 3 : 1); i++) t.step();
  const times: number[] = [];
  const t0 = performance.now();
  while (times.length < 2 || performance.now() - t0 < seconds * 1000) {
    const s = performance.now();
    t.step();
    times.push(performance.now() - s);
  }
  t.dispose();
  return (BATCH * 1000) / median(times);
}

/** EMD² over XE step time, the two alternating step by step so that load from elsewhere hits both alike. */
async function stepTimeRatio(tf: Tf, size: number, seconds: number): Promise<number> {
  const xe = await trainer(tf, size, { kind: 'xe' });
  const emd2 = await trainer(tf, size, { kind: 'emd2' });
  for (let i = 0; i < (seconds > 0 ? 3 : 1); i++) {
    xe.step();
    emd2.step();
  }
  const times: { xe: number[]; emd2: number[] } = { xe: [], emd2: [] };
  const t0 = performance.now();
  while (times.xe.length < 3 || performance.now() - t0 < seconds * 1000) {
    for (const [name, t] of [['xe', xe], ['emd2', emd2]] as const) {
      const s = performance.now();
      t.step();
      times[name].push(performance.now() - s);
    }
  }
  xe.dispose();
  emd2.dispose();
  return median(times.emd2) / median(times.xe);
}

/** Native against wasm SIMD kernels at both sizes, on this thread (the workers keep the kernels they loaded). */
async function compareKernels(tf: Tf, seconds: number): Promise<void> {
  const { setNativeKernels } = await import('../ml/kernels/wasm.js');
  let native;
  try {
    native = loadNativeKernels('native');
  } catch (error) {
    console.log(`bench: train.wasm.native_vs_simd skipped: ${(error as Error).message}`);
    return;
  }
  await initBackend('wasm', 1);
  for (const size of SIZES) {
    const a = await trainer(tf, size, { kind: 'xe' });
    const b = await trainer(tf, size, { kind: 'xe' });
    const timed = (t: Trainer, kernels: typeof native) => {
      setNativeKernels(kernels);
      const s = performance.now();
      t.step();
      return performance.now() - s;
    };
    for (let i = 0; i < 3; i++) {
      timed(a, native);
      timed(b, null);
    }
    const times: { native: number[]; simd: number[] } = { native: [], simd: [] };
    const t0 = performance.now();
    while (times.native.length < 3 || performance.now() - t0 < 2 * seconds * 1000) {
      times.native.push(timed(a, native));
      times.simd.push(timed(b, null));
    }
    a.dispose();
    b.dispose();
    const load = os.loadavg()[0]!.toFixed(1);
    console.log(`bench: train.wasm.${size}x${size}.xe.1thread.${native!.path} ${((BATCH * 1000) / median(times.native)).toFixed(0)} ex/s`);
    console.log(`bench: train.wasm.${size}x${size}.xe.1thread.simd ${((BATCH * 1000) / median(times.simd)).toFixed(0)} ex/s`);
    console.log(`bench: train.wasm.${size}x${size}.native_vs_simd ${(median(times.simd) / median(times.native)).toFixed(2)} ratio (step time simd / native, 1 thread, interleaved, medians; load average ${load})`);
  }
  setNativeKernels(loadNativeKernels());
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
