// Facts about where a step ran (or will run) that can change its result.

/** e.g. { engine: 'tfjs', backend: 'wasm', device: 'cpu', threads: 2 }. They enter the fingerprint and run.json. */
export interface ExecutionFacts {
  [key: string]: string | number | boolean | null;
}
