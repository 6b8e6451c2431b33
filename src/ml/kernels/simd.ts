// Loads our SIMD kernels (simd/kernels.ts, compiled to simd.wasm by `npm run build`), either onto the
// wasm backend's own memory, so they work on tensors in place, or onto a memory of their own (an arena)
// for plain arrays such as the optimiser's. Null where they cannot run (a runtime without wasm SIMD, a
// missing build): callers then use their plain-JS loops, and the backend facts say which ran.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { TensorInfo } from '@tensorflow/tfjs-core';

/** The exports of simd.wasm; pointers are byte offsets in the backend's memory (see simd/kernels.ts). */
interface Exports {
  convFilterGrad(x: number, dy: number, dw: number, N: number, H: number, W: number, CI: number, OH: number, OW: number, CO: number, KH: number, KW: number, sh: number, sw: number, dh: number, dw_: number, pt: number, pl: number): void;
  matMul(a: number, b: number, c: number, M: number, K: number, N: number): void;
  maxPool2x2Grad(x: number, y: number, dy: number, dx: number, N: number, H: number, W: number, C: number, OH: number, OW: number): void;
  reluGrad(dy: number, x: number, out: number, size: number): void;
  columnSums(x: number, out: number, rows: number, cols: number): void;
  adamStep(w: number, g: number, m: number, s: number, n: number, stepSize: number, beta1: number, oneMinusBeta1: number, beta2: number, oneMinusBeta2: number, c2: number, eps: number, wd: number): void;
  sgdStep(w: number, g: number, v: number, n: number, lr: number, momentum: number, nesterov: number, wd: number): void;
}

export interface SimdKernels {
  exports: Exports;
  /** Where a tensor's data starts in the backend's memory. */
  pointer(t: TensorInfo): number;
}

/** The compiled module: next to this file in dist/, or in dist/ when running from src/ (vitest). */
function wasmFile(): string {
  const url = import.meta.url.endsWith('.ts') ? new URL('../../../dist/ml/kernels/simd.wasm', import.meta.url) : new URL('./simd.wasm', import.meta.url);
  return fileURLToPath(url);
}

/** Node's WebAssembly, typed here: TypeScript declares it only in the DOM library, which we do not load. */
interface WasmApi {
  Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
  validate(bytes: Uint8Array): boolean;
}
const WebAssembly = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

type WasmModule = BackendWasm['wasm'] & { asm?: { memory?: object } };
type DataIds = { dataIdMap: { get(id: object): { memoryOffset: number } | undefined } };

let compiled: object | null | undefined;

/** simd.wasm compiled once per thread; null where it is missing or this runtime has no wasm SIMD. */
function simdModule(): object | null {
  if (compiled !== undefined) return compiled;
  const file = wasmFile();
  const bytes = existsSync(file) ? readFileSync(file) : null;
  compiled = bytes && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  return compiled;
}

function instantiate(module: object, memory: object): Exports {
  const abort = () => {
    throw new Error('a SIMD kernel aborted');
  };
  return new WebAssembly.Instance(module, { env: { memory, abort } }).exports as unknown as Exports;
}

export function loadSimdKernels(backend: BackendWasm): SimdKernels | null {
  const memory = (backend.wasm as WasmModule).asm?.memory;
  const module = simdModule();
  if (!module || !(memory instanceof WebAssembly.Memory)) return null;
  const exports = instantiate(module, memory);
  const ids = (backend as unknown as DataIds).dataIdMap;
  return {
    exports,
    pointer(t) {
      const data = ids.get(t.dataId);
      if (!data) throw new Error('a tensor passed to a SIMD kernel has no data on the wasm backend');
      return data.memoryOffset;
    },
  };
}

export interface SimdArena {
  exports: Exports;
  /** The whole arena; float k is at byte pointer 4k. It never grows, so views on it stay valid. */
  floats: Float32Array;
}

/** Our kernels on a fresh memory of `floats` float32 values, or null where they cannot run. */
export function simdArena(floats: number): SimdArena | null {
  const module = simdModule();
  if (!module) return null;
  const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil((floats * 4) / 65536)) });
  return { exports: instantiate(module, memory), floats: new Float32Array(memory.buffer, 0, floats) };
}
