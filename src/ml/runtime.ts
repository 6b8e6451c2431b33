// Kept for callers written before src/ml/backend landed (bench/torch.ts, test/torch): starting tfjs
// is initBackend()'s job; this only adapts its answer to the older { facts } shape.
import { initBackend, plannedBackend, type BackendFacts, type BackendPreference } from './backend/index.js';

export interface TfjsRuntime {
  facts: BackendFacts;
}

/** Starts tfjs once per process with the preferred backend ('auto' | 'wasm' | 'cpu' …). */
export async function initTfjs(preference: string = 'auto', threads: number = 1): Promise<TfjsRuntime> {
  return { facts: await initBackend(preference as BackendPreference, threads) };
}

/** The backend initTfjs would choose, without starting it (for the fingerprint). */
export function plannedTfjsBackend(preference: string = 'auto'): { backend: string; device: string } {
  return plannedBackend(preference as BackendPreference);
}
