// Chooses and starts the TensorFlow.js backend at run time, and says what actually runs.
//   auto: tensorflow-gpu (libtensorflow with CUDA) > tensorflow (libtensorflow on the CPU) > wasm > cpu
// @tensorflow/tfjs-node(-gpu) are optional dependencies that cannot install everywhere (their install
// downloads libtensorflow), so they are loaded with a dynamic import in try/catch. The facts record the
// backend that ran, never the one asked for: a tfjs-node-gpu without a visible GPU reports device 'cpu'.
// On the wasm and cpu backends (single-threaded in Node) `threads` > 1 starts data-parallel workers
// (src/ml/parallel), which computeGradients() uses.
import { createRequire } from 'node:module';
import path from 'node:path';
import type { KernelSet } from '../kernels/index.js';
import { kernelChoice, loadNativeKernels } from '../kernels/native/index.js';

/**
 * The shards a tfjs training cuts each batch into when its train step does not say: the 2 workers of
 * the 2-core machine every recorded number was trained on, so those numbers keep their bits.
 */
export const DEFAULT_SHARDS = 2;

/** The backends that compute on one thread in Node, where a batch is cut into shards (workers or not). */
export function shardsBatches(backend: string): boolean {
  return backend === 'wasm' || backend === 'cpu';
}

export type BackendPreference = 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_PREFERENCES: readonly BackendPreference[] = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

export interface BackendFacts {
  [key: string]: string | number | boolean | null;
  engine: 'tfjs';
  /** The tfjs backend name that runs: 'tensorflow' (libtensorflow, CPU or GPU), 'wasm' or 'cpu'. */
  backend: string;
  /** Version of the package providing it (@tensorflow/tfjs-node(-gpu), -backend-wasm or -backend-cpu). */
  backendVersion: string;
  device: 'gpu' | 'cpu';
  /**
   * What the bits depend on. wasm, cpu: the shards each batch is cut into (a training's facts; the
   * backend's own facts say the workers started, 1 = this thread). tensorflow: libtensorflow's intra-op threads.
   */
  threads: number;
  /** wasm only: whether the SIMD build runs. */
  simd: boolean | null;
  /**
   * What computes the heavy work: our native kernels by code path (wasm: native-avx512, native-avx2,
   * native-scalar), our SIMD kernels (wasm), our plain-JS loops, or the backend's own (tensorflow: native).
   * Not in the fingerprint: the native paths give the SIMD path's bits.
   */
  kernels: KernelSet;
}

/** The user asked for a backend this machine cannot run (printed without a stack trace by the step). */
export class BackendUnavailableError extends Error {
  constructor(
    message: string,
    public readonly hint?: string,
  ) {
    super(message);
    this.name = 'BackendUnavailableError';
  }
}

const require = createRequire(import.meta.url);

function resolves(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

/**
 * The backend `initBackend(preference)` would pick, without loading anything (for the step fingerprint).
 * It checks only that the packages are installed; a tfjs-node-gpu that finds no GPU at start is reported
 * as device 'cpu' by initBackend.
 */
export function plannedBackend(preference: BackendPreference = 'auto'): { backend: string; device: 'gpu' | 'cpu' } {
  if (preference === 'tensorflow-gpu' || (preference === 'auto' && resolves('@tensorflow/tfjs-node-gpu'))) return { backend: 'tensorflow', device: 'gpu' };
  if (preference === 'tensorflow' || (preference === 'auto' && resolves('@tensorflow/tfjs-node'))) return { backend: 'tensorflow', device: 'cpu' };
  if (preference === 'cpu') return { backend: 'cpu', device: 'cpu' };
  return { backend: 'wasm', device: 'cpu' };
}

interface Started {
  preference: BackendPreference;
  facts: BackendFacts;
}

let started: Promise<Started> | null = null;

/**
 * Starts tfjs on the preferred backend with `threads` computing threads, once per process: a second call
 * with another preference switches backend, one with only another thread count resizes the worker pool.
 * Resolves to the facts of what runs. Throws BackendUnavailableError when an explicitly requested
 * backend cannot start; 'auto' falls through to the next one.
 */
export async function initBackend(preference: BackendPreference = 'auto', threads: number = 1): Promise<BackendFacts> {
  if (!BACKEND_PREFERENCES.includes(preference)) {
    throw new BackendUnavailableError(`unknown backend '${preference}' (expected one of: ${BACKEND_PREFERENCES.join(', ')})`);
  }
  await checkKernelChoice();
  const wanted = Math.max(1, Math.floor(threads));
  const previous = started ? await started.catch(() => null) : null;
  if (previous?.preference === preference && previous.facts.threads === wanted) return previous.facts;
  started = (async () => {
    if (previous?.preference === preference && (previous.facts.backend === 'wasm' || previous.facts.backend === 'cpu')) {
      return { preference, facts: { ...previous.facts, threads: await workersFor(previous.facts.backend, wanted) } };
    }
    if (previous) {
      const { stopWorkers } = await import('../parallel/pool.js');
      await stopWorkers();
    }
    return { preference, facts: await start(preference, wanted) };
  })();
  return (await started).facts;
}

/**
 * REPRO_KERNELS checked before any backend starts: a bad value, or a native path that cannot run here,
 * is the user's to fix, and must not send 'auto' on to the next backend.
 */
async function checkKernelChoice(): Promise<void> {
  try {
    const choice = kernelChoice();
    if (choice !== 'auto' && choice !== 'simd') loadNativeKernels(choice);
  } catch (error) {
    throw new BackendUnavailableError((error as Error).message, 'unset REPRO_KERNELS, or set it to simd (the wasm kernels, everywhere) or native');
  }
}

/** The facts of the running backend, or null before initBackend. */
export async function backendFacts(): Promise<BackendFacts | null> {
  return started ? (await started.catch(() => null))?.facts ?? null : null;
}

/** Stops the data-parallel workers (tests; a process that ends stops them anyway). */
export async function shutdownBackend(): Promise<void> {
  const { stopWorkers } = await import('../parallel/pool.js');
  await stopWorkers();
  started = null;
}

async function start(preference: BackendPreference, threads: number): Promise<BackendFacts> {
  const tf = await import('@tensorflow/tfjs-core');
  await registerGradients();
  // PROD silences tfjs's console banners ("looks like you are running TensorFlow.js in Node.js");
  // it changes no computation.
  tf.env().set('PROD', true);
  const order: Array<Exclude<BackendPreference, 'auto'>> = preference === 'auto' ? ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] : [preference];
  const failures: string[] = [];
  for (const candidate of order) {
    try {
      return await startOne(tf, candidate, threads);
    } catch (error) {
      if (preference !== 'auto') throw error;
      failures.push(`${candidate}: ${(error as Error).message}`);
    }
  }
  throw new BackendUnavailableError(`no TensorFlow.js backend could start (${failures.join('; ')})`);
}

/**
 * tfjs-core's Node bundle registers no gradient functions (tf.grad fails with "gradient function not
 * found"); the @tensorflow/tfjs bundle registers all of them into the shared engine.
 */
async function registerGradients(): Promise<void> {
  await import('@tensorflow/tfjs');
}

type Tf = typeof import('@tensorflow/tfjs-core');

/** Starts one backend, or throws why it cannot ('auto' then moves on to the next). */
async function startOne(tf: Tf, candidate: Exclude<BackendPreference, 'auto'>, threads: number): Promise<BackendFacts> {
  if (candidate === 'tensorflow-gpu' || candidate === 'tensorflow') {
    const pkg = candidate === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
    if (!resolves(pkg)) {
      throw new BackendUnavailableError(`the '${candidate}' backend needs ${pkg}, which is not installed`, `npm install ${pkg}@4.22.0 (its install downloads libtensorflow), or use --backend wasm`);
    }
    // libtensorflow reads its thread count from the environment when it loads.
    process.env.TF_NUM_INTRAOP_THREADS ??= String(threads);
    process.env.TF_NUM_INTEROP_THREADS ??= '1';
    const node = (await import(pkg)) as { version?: Record<string, string> };
    await tf.setBackend('tensorflow');
    await tf.ready();
    const onGpu = Boolean((tf.backend() as unknown as { isUsingGpuDevice?: boolean }).isUsingGpuDevice);
    if (candidate === 'tensorflow-gpu' && !onGpu) {
      throw new BackendUnavailableError('tfjs-node-gpu loaded but libtensorflow sees no GPU', 'check the CUDA/cuDNN install and the driver, or use --backend tensorflow');
    }
    return {
      engine: 'tfjs',
      backend: 'tensorflow',
      backendVersion: node.version?.['tfjs-node'] ?? packageVersion(pkg),
      device: onGpu ? 'gpu' : 'cpu',
      threads: Number(process.env.TF_NUM_INTRAOP_THREADS) || threads,
      simd: null,
      kernels: 'native',
    };
  }
  if (candidate === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // In Node the .wasm binaries are read from files: point tfjs at the package's dist/ folder.
    wasm.setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep);
    if (!(await tf.setBackend('wasm'))) throw new BackendUnavailableError('the wasm backend failed to start');
    await tf.ready();
    const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    return finishInProcess('wasm', wasm.version_wasm, threads, simd);
  }
  const cpu = await import('@tensorflow/tfjs-backend-cpu');
  if (!(await tf.setBackend('cpu'))) throw new BackendUnavailableError('the cpu backend failed to start');
  await tf.ready();
  return finishInProcess('cpu', cpu.version_cpu, threads, null);
}

/** wasm and cpu: our gradient kernels, then the data-parallel workers when more than one thread. */
async function finishInProcess(backend: 'wasm' | 'cpu', version: string, threads: number, simd: boolean | null): Promise<BackendFacts> {
  const { registerFastKernels } = await import('../kernels/index.js');
  const kernels = await registerFastKernels(backend);
  return { engine: 'tfjs', backend, backendVersion: version, device: 'cpu', threads: await workersFor(backend, threads), simd, kernels };
}

/**
 * With threads > 1, that many workers compute (the main thread only hands out shards and combines);
 * with 1, this thread computes. Returns the thread count that computes.
 */
async function workersFor(backend: 'wasm' | 'cpu', threads: number): Promise<number> {
  const { useWorkers } = await import('../parallel/pool.js');
  await useWorkers(backend, threads > 1 ? threads : 0);
  return threads;
}

function packageVersion(pkg: string): string {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

