// Facts about where a step ran (or will run) that can change its result.

/**
 * e.g. { engine: 'tfjs', backend: 'wasm', device: 'cpu', threads: 2 }. The facts a kind plans before
 * the step runs enter the fingerprint; the facts the step reports after running go to run.json and may
 * say more: `kernels` (native-avx512, native-avx2, native-scalar, simd, js…) names the code that computed,
 * which is recorded but never planned, since every wasm kernel path gives the same bits.
 */
export interface ExecutionFacts {
  [key: string]: string | number | boolean | null;
}
