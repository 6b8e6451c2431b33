// Our kernels, registered over the stock ones of the backend that runs (see wasm.ts and cpu.ts for
// what each replaces and why). Once per backend per process: re-registering would wrap our own kernels.
const done = new Set<string>();

export async function registerFastKernels(backend: string): Promise<void> {
  if (done.has(backend)) return;
  if (backend === 'wasm') (await import('./wasm.js')).registerWasmKernels();
  else if (backend === 'cpu') (await import('./cpu.js')).registerCpuKernels();
  else return; // tensorflow (libtensorflow) has its own native gradient kernels
  done.add(backend);
}
