// `npm run bench torch`: training examples/s of the PyTorch engine and of tfjs side by side, on the
// same model (small CNN), the same batch (64) and the same losses, at 28×28 and 64×64, all cores.
// tfjs runs once per kernel path of the wasm backend (REPRO_KERNELS: the native kernels where they
// load, then the wasm SIMD ones; the workers restart in between, since each loads its kernels once):
//   bench: train.torch-cpu.28x28.xe 1400 ex/s
//   bench: train.tfjs-wasm-native-avx512.28x28.xe 1700 ex/s
//   bench: train.tfjs-wasm-simd.28x28.xe 900 ex/s
//   bench: train.tfjs-over-torch.native-avx512.28x28.xe 1.21 x
// Each kernels line says the load average: the machine may be shared, and load from elsewhere changes
// every figure. REPRO_BENCH_KERNELS=simd (or native) runs one path only.
// Random inputs: the speed of a step does not depend on the pixel values.
import os from 'node:os';
import { findTorch, OMP_WAIT_POLICY, TORCH_ENGINE_MAIN } from '../ml/torch.js';
import type { LossKind, ModelSpec } from '../ml/types.js';

const BATCH = 64;
const SIZES = [28, 64];
const LOSSES: LossKind[] = ['xe', 'emd2'];
const CLASSES = 5;
/** Each tfjs measurement runs until this much time has passed (after one warm-up step). */
const TFJS_SECONDS = 6;
/** Both sides report the best of this many timed rounds. */
const ROUNDS = 3;
/** A first step slower than this means a backend without fast kernels: report it and stop there. */
const SLOW_STEP_SECONDS = 15;

export async function bench(): Promise<void> {
  const threads = Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  const torchRates = await benchTorch(threads);
  const { shutdownBackend } = await import('../ml/backend/index.js');
  const asked = process.env.REPRO_BENCH_KERNELS?.split(',').map((k) => k.trim());
  const before = process.env.REPRO_KERNELS;
  for (const kernels of ['native', 'simd'].filter((k) => !asked || asked.includes(k))) {
    // The workers read REPRO_KERNELS when they start: a fresh pool per path.
    process.env.REPRO_KERNELS = kernels;
    await shutdownBackend();
    let run;
    try {
      run = await benchTfjs(threads);
    } catch (error) {
      console.log(`bench: train.tfjs.${kernels} skipped: ${(error as Error).message}`);
      continue;
    }
    for (const [key, rate] of torchRates) {
      const other = run.rates.get(key);
      if (other) console.log(`bench: train.tfjs-over-torch.${run.kernels}.${key} ${(other / rate).toFixed(2)} x`);
    }
    if (!run.wasm) break; // another backend (tfjs-node) has its own kernels: one run says it all
  }
  if (before === undefined) delete process.env.REPRO_KERNELS;
  else process.env.REPRO_KERNELS = before;
  await shutdownBackend();
}

async function benchTorch(threads: number): Promise<Map<string, number>> {
  const rates = new Map<string, number>();
  const info = await findTorch(process.env.REPRO_PYTHON);
  if (!info) {
    console.log('bench: torch skipped: no Python with PyTorch (install python3-torch libopenblas0-pthread, or set REPRO_PYTHON)');
    return rates;
  }
  const { execa } = await import('execa');
  console.log(`torch: ${info.torch} (${info.python}, Python ${info.version}), device ${info.device} (${info.deviceName}), ${threads} threads (OMP_WAIT_POLICY=${OMP_WAIT_POLICY}), BLAS ${info.blas ?? 'unknown'}`);
  for (const size of SIZES) {
    for (const loss of LOSSES) {
      const steps = size <= 32 ? 15 : 5;
      const r = await execa(
        info.python,
        [TORCH_ENGINE_MAIN, 'bench', '--size', String(size), '--batch', String(BATCH), '--steps', String(steps), '--loss', loss, '--threads', String(threads)],
        { env: { PYTHONDONTWRITEBYTECODE: '1', OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads), OMP_WAIT_POLICY } },
      );
      const result = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { examples_per_second: number; device: string };
      const key = `${size}x${size}.${loss}`;
      rates.set(key, result.examples_per_second);
      console.log(`bench: train.torch-${result.device}.${key} ${result.examples_per_second.toFixed(0)} ex/s`);
    }
  }
  return rates;
}

/** One optimisation step as the tfjs trainer takes it: computeGradients (src/ml/gradients.ts) and our SGD (momentum 0.9, as the torch side). */
async function benchTfjs(threads: number): Promise<{ kernels: string; wasm: boolean; rates: Map<string, number> }> {
  const rates = new Map<string, number>();
  const tf = await import('@tensorflow/tfjs-core');
  const { initTfjs } = await import('../ml/runtime.js');
  const { buildModel } = await import('../ml/models.js');
  const { makeLoss } = await import('../ml/losses.js');
  const { computeGradients } = await import('../ml/gradients.js');
  const { makeOptimizer } = await import('../ml/optimizers.js');
  const { loadNativeKernels } = await import('../ml/kernels/native/index.js');
  const { setNativeKernels } = await import('../ml/kernels/wasm.js');
  const runtime = await initTfjs('auto', threads);
  const { backend, device } = runtime.facts;
  // The main thread registered its kernels once per process; the path asked for now holds on it too.
  const native = backend === 'wasm' ? loadNativeKernels() : null;
  if (backend === 'wasm') setNativeKernels(native);
  const kernels = backend === 'wasm' ? native?.path ?? 'simd' : runtime.facts.kernels;
  const name = `${backend}-${kernels}`;
  console.log(`tfjs: ${runtime.facts.backendVersion} backend ${backend}, device ${device}, ${runtime.facts.threads} threads, kernels ${kernels} (load average ${os.loadavg()[0]!.toFixed(1)})`);
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
      if (warmSeconds > SLOW_STEP_SECONDS) {
        // The stock cpu backend (no fast kernels registered) takes minutes per step: one step is the figure.
        rates.set(key, BATCH / warmSeconds);
        console.log(`bench: train.tfjs-${name}.${key} ${(BATCH / warmSeconds).toFixed(1)} ex/s (one step of ${warmSeconds.toFixed(0)} s; larger inputs skipped)`);
        tf.dispose([x, y]);
        model.dispose();
        return { kernels, wasm: backend === 'wasm', rates };
      }
      // Best of ROUNDS windows, as the torch side: other processes on a shared machine only slow a window down.
      let best = 0;
      for (let round = 0; round < ROUNDS; round++) {
        let steps = 0;
        const t0 = performance.now();
        while (steps < 50 && (performance.now() - t0) / 1000 < TFJS_SECONDS / ROUNDS) {
          step();
          steps++;
        }
        best = Math.max(best, (steps * BATCH) / ((performance.now() - t0) / 1000));
      }
      rates.set(key, best);
      console.log(`bench: train.tfjs-${name}.${key} ${best.toFixed(0)} ex/s`);
      tf.dispose([x, y]);
      model.dispose();
    }
  }
  return { kernels, wasm: backend === 'wasm', rates };
}
