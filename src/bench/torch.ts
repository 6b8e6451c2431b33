// `npm run bench torch`: training examples/s of the PyTorch engine and of tfjs side by side, on the
// same model (small CNN), the same batch (64) and the same losses, at 28×28 and 64×64, all cores.
// tfjs runs on each kernel path of the wasm backend (REPRO_KERNELS: the native kernels where they load,
// and the wasm SIMD ones; the workers restart in between, since each loads its kernels once). Torch and
// the two paths take turns for 3 rounds and each figure is the best of its rounds. PyTorch runs at all
// threads and at one, and keeps its best; a fresh pool of tfjs workers warms up for 4 s first:
//   bench: train.torch-cpu.28x28.xe 1400 ex/s
//   bench: train.tfjs-wasm-native-avx512.28x28.xe 1700 ex/s
//   bench: train.tfjs-wasm-simd.28x28.xe 900 ex/s
//   bench: train.tfjs-over-torch.native-avx512.28x28.xe 1.21 x
//   bench: torch.load_average 3.1–4.2 (…)
// The load average matters: on a shared machine, load from elsewhere changes every figure.
// REPRO_BENCH_KERNELS=simd (or native) runs one path only.
// Random inputs: the speed of a step does not depend on the pixel values.
import os from 'node:os';
import { findTorch, OMP_WAIT_POLICY, TORCH_ENGINE_MAIN } from '../ml/torch.js';
import type { LossKind, ModelSpec } from '../ml/types.js';
import { initTfjs } from '../ml/runtime.js';
import { shutdownBackend } from '../ml/backend/index.js';
import { loadNativeKernels } from '../ml/kernels/native/index.js';
import { WARM_UP_SECONDS } from './ml.js';

const BATCH = 64;
const SIZES = [28, 64];
const LOSSES: LossKind[] = ['xe', 'emd2'];
const CLASSES = 5;
/** Each tfjs figure gets this much time over all rounds (after one warm-up step per round). */
const TFJS_SECONDS = 6;
/** Torch and each tfjs kernel path take turns for this many rounds; every figure is the best of its rounds. */
const ROUNDS = 3;
/** A first step slower than this means a backend without fast kernels: report it and stop there. */
const SLOW_STEP_SECONDS = 15;

export async function bench(): Promise<void> {
  const threads = Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  const asked = process.env.REPRO_BENCH_KERNELS?.split(',').map((k) => k.trim());
  let paths = ['native', 'simd'].filter((k) => !asked || asked.includes(k));
  const before = process.env.REPRO_KERNELS;
  // Round by round, torch and each kernel path in turn, each keeping its best: load from elsewhere on a
  // shared machine comes and goes, and interleaving lets it hit every side alike.
  const best = new Map<string, Map<string, number>>();
  const keep = (side: string, rates: Map<string, number>) => {
    const mine = best.get(side) ?? best.set(side, new Map()).get(side)!;
    for (const [key, rate] of rates) mine.set(key, Math.max(rate, mine.get(key) ?? 0));
  };
  const loads: number[] = [];
  let slow = false;
  let torchSide = 'torch';
  for (let round = 0; round < ROUNDS && !slow; round++) {
    const theirs = await benchTorch(threads, round === 0);
    torchSide = `torch-${theirs.device}`;
    keep(torchSide, theirs.rates);
    for (const kernels of paths) {
      // The workers read REPRO_KERNELS when they start: a fresh pool per path.
      process.env.REPRO_KERNELS = kernels;
      await shutdownBackend();
      try {
        const run = await benchTfjs(threads, round === 0);
        keep(`tfjs-${run.name}`, run.rates);
        slow ||= run.slow;
        if (!run.wasm) paths = [kernels]; // another backend (tfjs-node) has its own kernels: one path says it all
      } catch (error) {
        console.log(`bench: train.tfjs.${kernels} skipped: ${(error as Error).message}`);
        paths = paths.filter((k) => k !== kernels);
      }
    }
    loads.push(os.loadavg()[0]!);
  }
  if (before === undefined) delete process.env.REPRO_KERNELS;
  else process.env.REPRO_KERNELS = before;
  await shutdownBackend();

  const torch = best.get(torchSide) ?? new Map<string, number>();
  for (const [side, rates] of best) {
    for (const [key, rate] of rates) {
      const note = side === torchSide && bestThreads.has(key) ? ` (${bestThreads.get(key)} thread${bestThreads.get(key) === 1 ? '' : 's'}, its best of ${torchThreadCounts(threads).join(' and ')})` : '';
      console.log(`bench: train.${side}.${key} ${rate.toFixed(rate < 10 ? 1 : 0)} ex/s${note}`);
    }
  }
  for (const [side, rates] of best) {
    if (side === torchSide) continue;
    for (const [key, rate] of rates) {
      const theirs = torch.get(key);
      if (theirs) console.log(`bench: train.tfjs-over-torch.${side.replace(/^tfjs-[^-]+-/, '')}.${key} ${(rate / theirs).toFixed(2)} x`);
    }
  }
  console.log(`bench: torch.load_average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} (1-minute, after each of ${loads.length} rounds, ${os.cpus().length} cores; best of the rounds per figure)`);
}

/** One pass over the sizes and losses in the torch engine (each its own process, best of its own rounds). */
/** PyTorch's thread counts tried: all cores and one. */
const torchThreadCounts = (threads: number): number[] => [...new Set([threads, 1])];

/** The thread count of PyTorch's best figure so far, per size and loss. */
const bestThreads = new Map<string, number>();

async function benchTorch(threads: number, announce: boolean): Promise<{ device: string; rates: Map<string, number> }> {
  const rates = new Map<string, number>();
  let device = 'cpu';
  const info = await findTorch(process.env.REPRO_PYTHON);
  if (!info) {
    if (announce) console.log('bench: torch skipped: no Python with PyTorch (install python3-torch libopenblas0-pthread, or set REPRO_PYTHON)');
    return { device, rates };
  }
  const { execa } = await import('execa');
  if (announce) console.log(`torch: ${info.torch} (${info.python}, Python ${info.version}), device ${info.device} (${info.deviceName}), ${threads} threads (OMP_WAIT_POLICY=${OMP_WAIT_POLICY}), BLAS ${info.blas ?? 'unknown'}`);
  // PyTorch at all threads and at one: on small inputs its threads can cost more than they give (28×28
  // here: one thread was the faster), and the comparison is with its best.
  const counts = torchThreadCounts(threads);
  for (const size of SIZES) {
    for (const loss of LOSSES) {
      const steps = size <= 32 ? 15 : 5;
      for (const count of counts) {
        const r = await execa(
          info.python,
          [TORCH_ENGINE_MAIN, 'bench', '--size', String(size), '--batch', String(BATCH), '--steps', String(steps), '--loss', loss, '--threads', String(count)],
          { env: { PYTHONDONTWRITEBYTECODE: '1', OMP_NUM_THREADS: String(count), OPENBLAS_NUM_THREADS: String(count), OMP_WAIT_POLICY } },
        );
        const result = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { examples_per_second: number; device: string };
        const key = `${size}x${size}.${loss}`;
        if (result.examples_per_second > (rates.get(key) ?? 0)) {
          rates.set(key, result.examples_per_second);
          bestThreads.set(key, count);
        }
        device = result.device;
      }
    }
  }
  return { device, rates };
}

/**
 * One window per size and loss of the tfjs trainer's step: computeGradients (src/ml/gradients.ts) and our
 * SGD (momentum 0.9, as the torch side), on the kernels REPRO_KERNELS asks for.
 */
async function benchTfjs(threads: number, announce: boolean): Promise<{ name: string; wasm: boolean; slow: boolean; rates: Map<string, number> }> {
  const rates = new Map<string, number>();
  const tf = await import('@tensorflow/tfjs-core');
  const { buildModel } = await import('../ml/models.js');
  const { makeLoss } = await import('../ml/losses.js');
  const { computeGradients } = await import('../ml/gradients.js');
  const { makeOptimizer } = await import('../ml/optimizers.js');
  const { setNativeKernels } = await import('../ml/kernels/wasm.js');
  const runtime = await initTfjs('auto', threads);
  const { backend, device } = runtime.facts;
  // The main thread registered its kernels once per process; the path asked for now holds on it too.
  const native = backend === 'wasm' ? loadNativeKernels() : null;
  if (backend === 'wasm') setNativeKernels(native);
  const kernels = backend === 'wasm' ? native?.path ?? 'simd' : runtime.facts.kernels;
  const name = `${backend}-${kernels}`;
  if (announce) console.log(`tfjs: ${runtime.facts.backendVersion} backend ${backend}, device ${device}, ${runtime.facts.threads} threads, kernels ${kernels} (load average ${os.loadavg()[0]!.toFixed(1)})`);
  let warm = false;
  for (const size of SIZES) {
    for (const lossKind of LOSSES) {
      const spec: ModelSpec = { arch: 'small-cnn', inputShape: [size, size, 3], classes: CLASSES };
      const model = buildModel(spec, 0);
      const loss = makeLoss({ kind: lossKind }, CLASSES).loss;
      const x = tf.randomUniform([BATCH, size, size, 3], -1, 1, 'float32', 1) as import('@tensorflow/tfjs-core').Tensor4D;
      const y = tf.tensor1d(Array.from({ length: BATCH }, (_, i) => i % CLASSES), 'int32');
      const optimizer = makeOptimizer({ kind: 'sgd', lr: 0.01, momentum: 0.9 }, model.weights);
      const step = () => optimizer.step(computeGradients(model, loss, x, y).grads, 0.01);
      const w0 = performance.now();
      step();
      const warmSeconds = (performance.now() - w0) / 1000;
      const key = `${size}x${size}.${lossKind}`;
      if (warmSeconds <= SLOW_STEP_SECONDS) {
        // Workers just started run their first hundred steps or so slower (V8 compiles tfjs's code as it
        // goes): the first figure after a start warms up for WARM_UP_SECONDS, the others for 3 steps, as
        // the torch side does.
        const w1 = performance.now();
        for (let i = 0; i < 3 || (!warm && performance.now() - w1 < WARM_UP_SECONDS * 1000); i++) step();
        warm = true;
      }
      if (warmSeconds > SLOW_STEP_SECONDS) {
        // The stock cpu backend (no fast kernels registered) takes minutes per step: one step is the figure.
        rates.set(key, BATCH / warmSeconds);
        console.log(`bench: ${name}: one step of ${warmSeconds.toFixed(0)} s; larger inputs and further rounds skipped`);
        tf.dispose([x, y]);
        model.dispose();
        return { name, wasm: backend === 'wasm', slow: true, rates };
      }
      // One window of the round (bench() keeps the best): other processes only slow a window down.
      let steps = 0;
      const t0 = performance.now();
      while (steps < 50 && (performance.now() - t0) / 1000 < TFJS_SECONDS / ROUNDS) {
        step();
        steps++;
      }
      rates.set(key, (steps * BATCH) / ((performance.now() - t0) / 1000));
      tf.dispose([x, y]);
      model.dispose();
    }
  }
  return { name, wasm: backend === 'wasm', slow: false, rates };
}
