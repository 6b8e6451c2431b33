// Loads the native kernels (kernels.c, addon.c here; built by scripts/build-native.sh into
// prebuilds/<platform>-<arch>/repro-kernels.node, committed for linux-x64). They compute the wasm
// backend's convolutions and matrix products on its own memory and give its exact bits (see kernels.c);
// where the binary is missing or cannot load (another platform), the wasm path runs, after a one-line note.
// REPRO_KERNELS forces a path: simd (the wasm kernels), native (the best native path this CPU runs), or
// one of native-avx512, native-avx2, native-scalar (tests compare them).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';

/** The native code paths, slowest first (the addon's level 0, 1, 2). */
export const NATIVE_PATHS = ['native-scalar', 'native-avx2', 'native-avx512'] as const;
export type NativePath = (typeof NATIVE_PATHS)[number];
export type KernelChoice = 'auto' | 'simd' | 'native' | NativePath;
const CHOICES: readonly string[] = ['auto', 'simd', 'native', ...NATIVE_PATHS];

/** The addon's exports: float arrays are views of the wasm heap; the level picks the code path. */
interface Addon {
  level(): number;
  conv(level: number, x: Float32Array, f: Float32Array, y: Float32Array, geometry: Int32Array): void;
  convBiasRelu(level: number, x: Float32Array, f: Float32Array, bias: Float32Array, y: Float32Array, geometry: Int32Array): boolean;
  backpropInput(level: number, dy: Float32Array, w: Float32Array, dx: Float32Array, geometry: Int32Array): void;
  filterGrad(level: number, x: Float32Array, dy: Float32Array, dw: Float32Array, geometry: Int32Array): void;
  matMul(level: number, a: Float32Array, b: Float32Array, c: Float32Array, M: number, K: number, N: number, transA: number, transB: number): void;
  addRows(level: number, x: Float32Array, b: Float32Array, y: Float32Array, rows: number, cols: number): void;
  reluGrad(level: number, dy: Float32Array, x: Float32Array, out: Float32Array): void;
  maxPool2x2(level: number, x: Float32Array, y: Float32Array, dims: Int32Array): boolean;
  maxPool2x2Grad(level: number, x: Float32Array, y: Float32Array, dy: Float32Array, dx: Float32Array, dims: Int32Array): void;
  weightedSum(level: number, parts: Float32Array[], shares: Float64Array, out: Float32Array): void;
  sgdStep(level: number, w: Float32Array, g: Float32Array, v: Float32Array, out: Float32Array, lr: number, momentum: number, nesterov: number, wd: number): void;
  adamStep(level: number, w: Float32Array, g: Float32Array, m: Float32Array, s: Float32Array, out: Float32Array, step: number, beta1: number, nb1: number, beta2: number, nb2: number, c2: number, eps: number, wd: number): void;
}

/**
 * A convolution as the kernels see it (kernels.h, same order): output pixel (oh, ow), tap (kh, kw) reads
 * input row oh·sh + kh·dh − pt of the input spread by uh (rows at multiples of uh); columns alike.
 */
export interface ConvGeometry {
  N: number; H: number; W: number; C: number; OH: number; OW: number; CO: number; KH: number; KW: number;
  sh: number; sw: number; dh: number; dw: number; pt: number; pl: number; uh: number; uw: number;
}

export interface NativeKernels {
  path: NativePath;
  /** y[N, OH, OW, CO] = x[N, H, W, C] ⊛ f[KH, KW, C, CO]. */
  conv(x: Float32Array, f: Float32Array, y: Float32Array, g: ConvGeometry): void;
  /**
   * y = relu(x ⊛ f + bias), each output added and rectified as tfjs's wasm Add and Relu would (the same
   * bits); true where some x ⊛ f + bias was NaN (the caller then takes the unfused ops: see fused.ts).
   */
  convBiasRelu(x: Float32Array, f: Float32Array, bias: Float32Array, y: Float32Array, g: ConvGeometry): boolean;
  /** dx of a convolution, itself a convolution of dy (g: see addon.c); w is the forward filter. */
  backpropInput(dy: Float32Array, w: Float32Array, dx: Float32Array, g: ConvGeometry): void;
  /** dw[KH, KW, C, CO] = Σ over output pixels of x · dy (g: the forward convolution). */
  filterGrad(x: Float32Array, dy: Float32Array, dw: Float32Array, g: ConvGeometry): void;
  /** c[M, N] = op(a) · op(b), op transposing where asked. */
  matMul(a: Float32Array, b: Float32Array, c: Float32Array, M: number, K: number, N: number, transA: boolean, transB: boolean): void;
  /** y[r, c] = x[r, c] + b[c] (a bias on every row; rows = 1 adds two tensors of one shape). */
  addRows(x: Float32Array, b: Float32Array, y: Float32Array, rows: number, cols: number): void;
  /** The ReLU gradient as the SIMD kernel computes it: dy where x > 0, NaN where x is NaN, else 0. */
  reluGrad(dy: Float32Array, x: Float32Array, out: Float32Array): void;
  /**
   * A 2×2, stride-2 'valid' max-pool; false (y then incomplete) where an input is NaN or −0, whose
   * maximum XNNPACK picks by rules of its own: the caller then runs the wasm kernel.
   */
  maxPool2x2(x: Float32Array, y: Float32Array, N: number, H: number, W: number, C: number, OH: number, OW: number): boolean;
  /** The 2×2, stride-2 'valid' max-pool gradient as the SIMD kernel computes it (first maximum wins). */
  maxPool2x2Grad(x: Float32Array, y: Float32Array, dy: Float32Array, dx: Float32Array, N: number, H: number, W: number, C: number, OH: number, OW: number): void;
  /** out[e] = Σ_i shares[i] · parts[i][e] in float64, rounded once: the shard average of src/ml/gradients.ts, the same bits. */
  weightedSum(parts: Float32Array[], shares: Float64Array, out: Float32Array): void;
  /**
   * One SGD or Adam step of out.length weights into out, as the SIMD kernels sgdStep and adamStep compute
   * it (the same bits); the scalars are rounded to float32 as those kernels' parameters are. v (SGD
   * without momentum: any array as long as out, neither read nor written) and m, s are updated in place.
   */
  sgdStep(w: Float32Array, g: Float32Array, v: Float32Array, out: Float32Array, lr: number, momentum: number, nesterov: boolean, wd: number): void;
  adamStep(w: Float32Array, g: Float32Array, m: Float32Array, s: Float32Array, out: Float32Array, step: number, beta1: number, nb1: number, beta2: number, nb2: number, c2: number, eps: number, wd: number): void;
}

/** The prebuilt binary for this platform (the same path from src/ and from dist/). */
export function addonFile(): string {
  return fileURLToPath(new URL(`../../../../prebuilds/${process.platform}-${process.arch}/repro-kernels.node`, import.meta.url));
}

/** What REPRO_KERNELS asks for ('auto' when unset). */
export function kernelChoice(env: NodeJS.ProcessEnv = process.env): KernelChoice {
  const value = env.REPRO_KERNELS?.trim() || 'auto';
  if (!CHOICES.includes(value)) throw new Error(`REPRO_KERNELS=${value} is not a kernel path (expected one of: ${CHOICES.join(', ')})`);
  return value as KernelChoice;
}

const GEOMETRY_ORDER: Array<keyof ConvGeometry> = ['N', 'H', 'W', 'C', 'OH', 'OW', 'CO', 'KH', 'KW', 'sh', 'sw', 'dh', 'dw', 'pt', 'pl', 'uh', 'uw'];
function packed(g: ConvGeometry): Int32Array {
  return Int32Array.from(GEOMETRY_ORDER, (k) => g[k]);
}

/** Each binary tried, loaded once per thread: the addon, or why it does not load. */
const addons = new Map<string, Addon | string>();
let noted = false;

function loadAddon(file: string): Addon | string {
  let addon = addons.get(file);
  if (addon === undefined) {
    try {
      addon = createRequire(import.meta.url)(file) as Addon;
      if (typeof addon.level !== 'function') addon = `${file} is not the repro kernels addon`;
    } catch (error) {
      addon = (error as Error).message.split('\n')[0]!;
    }
    addons.set(file, addon);
  }
  return addon;
}

/**
 * The native kernels `choice` asks for, or null for the wasm path ('simd', or 'auto' where the binary
 * does not load: then a one-line note on stderr, once per process). A forced native path that cannot
 * run here is an error: the user asked for it by name.
 */
export function loadNativeKernels(choice: KernelChoice = kernelChoice(), file: string = addonFile()): NativeKernels | null {
  if (choice === 'simd') return null;
  const lib = loadAddon(file);
  if (typeof lib === 'string') {
    if (choice !== 'auto') throw new Error(`REPRO_KERNELS=${choice}: the native kernels do not load here (${lib}); run scripts/build-native.sh, or unset REPRO_KERNELS`);
    if (isMainThread && !noted) {
      noted = true;
      process.stderr.write(`repro: native kernels unavailable (${lib}); using the wasm kernels (same results, slower)\n`);
    }
    return null;
  }
  const best = lib.level();
  const level = choice === 'auto' || choice === 'native' ? best : NATIVE_PATHS.indexOf(choice);
  if (level > best) throw new Error(`REPRO_KERNELS=${choice}: this CPU runs at most ${NATIVE_PATHS[best]}`);
  return {
    path: NATIVE_PATHS[level]!,
    conv: (x, f, y, g) => lib.conv(level, x, f, y, packed(g)),
    convBiasRelu: (x, f, bias, y, g) => lib.convBiasRelu(level, x, f, bias, y, packed(g)),
    backpropInput: (dy, w, dx, g) => lib.backpropInput(level, dy, w, dx, packed(g)),
    filterGrad: (x, dy, dw, g) => lib.filterGrad(level, x, dy, dw, packed(g)),
    matMul: (a, b, c, M, K, N, transA, transB) => lib.matMul(level, a, b, c, M, K, N, transA ? 1 : 0, transB ? 1 : 0),
    addRows: (x, b, y, rows, cols) => lib.addRows(level, x, b, y, rows, cols),
    reluGrad: (dy, x, out) => lib.reluGrad(level, dy, x, out),
    maxPool2x2: (x, y, N, H, W, C, OH, OW) => lib.maxPool2x2(level, x, y, Int32Array.of(N, H, W, C, OH, OW)),
    maxPool2x2Grad: (x, y, dy, dx, N, H, W, C, OH, OW) => lib.maxPool2x2Grad(level, x, y, dy, dx, Int32Array.of(N, H, W, C, OH, OW)),
    weightedSum: (parts, shares, out) => lib.weightedSum(level, parts, shares, out),
    sgdStep: (w, g, v, out, lr, momentum, nesterov, wd) => lib.sgdStep(level, w, g, v, out, lr, momentum, nesterov ? 1 : 0, wd),
    adamStep: (w, g, m, s, out, step, beta1, nb1, beta2, nb2, c2, eps, wd) => lib.adamStep(level, w, g, m, s, out, step, beta1, nb1, beta2, nb2, c2, eps, wd),
  };
}
