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

/**
 * Facts that name which code computed, not what it computed: in run.json, never in a step's outputs.
 * `workers`: the threads that computed a tfjs training's shards, which change none of its bits.
 */
export const RECORD_ONLY_FACTS: readonly string[] = ['kernels', 'workers'];

/**
 * The facts without RECORD_ONLY_FACTS, for files a step writes into its outputs (a model's metadata, a
 * training history): outputs hash the same whichever kernels ran, so downstream steps stay cached.
 */
export function outputFacts(facts: ExecutionFacts): ExecutionFacts {
  const out: ExecutionFacts = {};
  for (const [key, value] of Object.entries(facts)) if (!RECORD_ONLY_FACTS.includes(key)) out[key] = value;
  return out;
}
