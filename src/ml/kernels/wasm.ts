// Gradient kernels for the wasm backend. Stock tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter
// (a CNN cannot train), and its Conv2DBackpropInput, MaxPoolGrad, transposed BatchMatMul and
// leading-axis Sum are naive loops, 10–40× slower than its XNNPACK convolution and matrix product.
// Where wasm SIMD runs, our SIMD kernels (simd/kernels.ts) do the heavy ones in place on the backend's
// memory; XNNPACK repacks the right operand of every product, which costs more than the product when
// that operand is new each step (gradients, the weights being trained):
//   Conv2DBackpropFilter  SIMD, straight from x and dy      (else im2col in JS · dy → XNNPACK product)
//   BatchMatMul           SIMD for one product with N % 4 == 0 (else XNNPACK); a transposed operand is
//                         transposed first (wasm Transpose), or the product computed as (B·Aᵀ)ᵀ
//   MaxPoolGrad 2×2/2, ReLU gradient, Sum over leading axes (bias gradients): SIMD, else one JS pass
//   Conv2DBackpropInput   dy (zeros inserted if strided) ⊛ flipped W → Conv2D (XNNPACK; the filter is small)
//   Identity (tfjs clones every tensor saved for the backward pass): shares the data, as cpu does.
// Where the native kernels load (native/), they compute Conv2D, Conv2DBackpropInput,
// Conv2DBackpropFilter and BatchMatMul instead, on the same memory and with the same bits (native/kernels.c
// says why), Add of two float32 tensors of one shape or of a bias over the last axis (tfjs's wasm Add
// broadcasts in a slow loop; an addition is one IEEE operation, the same bits anywhere), and where the
// SIMD ones would run, the ReLU and 2×2 max-pool gradients (bit selections, the SIMD kernels' rules); the
// paths above stay as the fallback and the reference the tests compare them with.
// Registered after the backend has initialised, so the stock kernels we call have run their setup.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { flipFilter, im2colTransposed, insertZeros, leadingAxesSum, maxPoolBackprop, reluBackprop, sumRows } from './loops.js';
import { loadSimdKernels } from './simd.js';
import { CONV_BIAS_RELU, RELU_GRAD } from './names.js';
import { declineConvBiasRelu, type ConvBiasReluAttrs } from './fused.js';
import type { ConvGeometry, NativeKernels } from './native/index.js';

type Info = tf.TensorInfo;
type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };
type Kernel = (args: KernelArgs) => Info;

/** At most this many floats in one im2col buffer; larger batches are done in chunks of images. */
const MAX_COLS = 1 << 23;

function stockKernel(name: string): Kernel {
  const config = tf.getKernel(name, 'wasm');
  if (!config) throw new Error(`the wasm backend has no ${name} kernel to build on`);
  return config.kernelFunc as unknown as Kernel;
}

/** The same data seen with another shape (the wasm kernels read only ids and the shapes they are given). */
function view(t: Info, shape: number[]): Info {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

function heap(backend: BackendWasm, t: Info): Float32Array {
  // Re-read after every allocation: growing the wasm memory detaches older views.
  return backend.typedArrayFromHeap(t) as Float32Array;
}

/** The native kernels in use, or null for the wasm path (set by registerWasmKernels, or by tests). */
let native: NativeKernels | null = null;

/** Switches between the native kernels and the wasm path (tests compare their outputs in one process). */
export function setNativeKernels(kernels: NativeKernels | null): void {
  native = kernels;
}

/** The forward convolution of `info` as the native kernels see it. */
function forwardGeometry(info: tf.backend_util.Conv2DInfo): ConvGeometry {
  return {
    N: info.batchSize, H: info.inHeight, W: info.inWidth, C: info.inChannels, OH: info.outHeight, OW: info.outWidth, CO: info.outChannels,
    KH: info.filterHeight, KW: info.filterWidth, sh: info.strideHeight, sw: info.strideWidth, dh: info.dilationHeight, dw: info.dilationWidth,
    pt: info.padInfo.top, pl: info.padInfo.left, uh: 1, uw: 1,
  };
}

/** Taps of one native convolution at most (kernels.c: MAX_SEGS); larger filters take the wasm path. */
const NATIVE_MAX_TAPS = 64;

/** Registers our kernels, with `nativeKernels` where they loaded; returns whether the SIMD ones run (else the plain-JS loops do). */
export function registerWasmKernels(nativeKernels: NativeKernels | null = null): boolean {
  native = nativeKernels;
  const simd = loadSimdKernels(tf.backend() as BackendWasm);
  const ptr = (t: Info) => simd!.pointer(t);
  const conv2d = stockKernel('Conv2D');
  const batchMatMul = stockKernel('BatchMatMul');
  const transpose = stockKernel('Transpose');
  const add = stockKernel('Add');
  const stockBackpropInput = stockKernel('Conv2DBackpropInput');
  const stockSum = stockKernel('Sum');
  const stockMaxPool = stockKernel('MaxPool');

  /** A·B for untransposed operands: our SIMD product when it applies (one product, N % 4 == 0), else XNNPACK's. */
  const matMul = (backend: BackendWasm, a: Info, b: Info): Info => {
    const [M, K] = a.shape.slice(-2) as [number, number];
    const N = b.shape[b.shape.length - 1]!;
    const batches = (t: Info) => tf.util.sizeFromShape(t.shape.slice(0, -2));
    if (!simd || batches(a) !== 1 || batches(b) !== 1 || N % 4 !== 0 || a.dtype !== 'float32' || b.dtype !== 'float32') {
      return batchMatMul({ inputs: { a, b }, backend, attrs: { transposeA: false, transposeB: false } });
    }
    const outer = tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const c = backend.makeOutput([...outer, M, N], 'float32');
    simd.exports.matMul(ptr(a), ptr(b), ptr(c), M, K, N);
    return c;
  };

  /** The forward convolution x ⊛ filter where the native kernels compute it (NHWC float32, taps they take, outputs), else null. */
  const nativeConvInfo = (x: Info, filter: Info, strides: tf.Conv2DAttrs['strides'], dilations: tf.Conv2DAttrs['dilations'], pad: tf.Conv2DAttrs['pad'], dimRoundingMode?: tf.Conv2DAttrs['dimRoundingMode']) => {
    if (!native || x.dtype !== 'float32' || filter.dtype !== 'float32' || x.shape.length !== 4 || filter.shape.length !== 4) return null;
    const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filter.shape as [number, number, number, number], strides, dilations, pad, dimRoundingMode, false, 'channelsLast');
    return info.filterHeight * info.filterWidth > NATIVE_MAX_TAPS || tf.util.sizeFromShape(info.outShape) === 0 ? null : info;
  };

  const fastConv2d: Kernel = (args) => {
    const be = args.backend as BackendWasm;
    const { x, filter } = args.inputs as { x: Info; filter: Info };
    const { strides, pad, dataFormat, dilations, dimRoundingMode } = args.attrs as unknown as tf.Conv2DAttrs;
    const info = dataFormat === 'NHWC' ? nativeConvInfo(x, filter, strides, dilations, pad, dimRoundingMode) : null;
    if (!native || !info) return conv2d(args);
    const y = be.makeOutput(info.outShape, 'float32');
    native.conv(heap(be, x), heap(be, filter), heap(be, y), forwardGeometry(info));
    return y;
  };

  // relu(x ⊛ filter + bias) by the native kernels (fused.ts); anything else is declined, and the op
  // computes the stock ops instead (which the wasm path always does: it is the reference).
  const convBiasRelu: Kernel = (args) => {
    const be = args.backend as BackendWasm;
    const { x, filter, bias } = args.inputs as { x: Info; filter: Info; bias: Info };
    const { strides, pad } = args.attrs as unknown as ConvBiasReluAttrs;
    const info = nativeConvInfo(x, filter, strides, 1, pad);
    if (!native || !info || bias.dtype !== 'float32' || bias.shape.length !== 1 || bias.shape[0] !== info.outChannels) {
      declineConvBiasRelu();
      return be.makeOutput([0], 'float32');
    }
    const y = be.makeOutput(info.outShape, 'float32');
    if (native.convBiasRelu(heap(be, x), heap(be, filter), heap(be, bias), heap(be, y), forwardGeometry(info))) declineConvBiasRelu();
    return y;
  };

  const backpropFilter: Kernel = ({ inputs, backend, attrs }) => {
    const be = backend as BackendWasm;
    const { x, dy } = inputs as { x: Info; dy: Info };
    const { strides, pad, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
    const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    const { batchSize: N, outHeight: OH, outWidth: OW, outChannels: CO } = info;
    const perImage = info.filterHeight * info.filterWidth * info.inChannels * OH * OW;
    // The native kernel sums as the SIMD one does; the im2col path below sums chunks of images with Add,
    // in another order than one running sum: the native kernel takes over where the SIMD one would run,
    // or where the im2col path would sum in one piece.
    if (native && x.dtype === 'float32' && ((simd && CO % 4 === 0) || N * perImage <= MAX_COLS) && tf.util.sizeFromShape(filterShape) > 0) {
      const dw = be.makeOutput(filterShape, 'float32');
      native.filterGrad(heap(be, x), heap(be, dy), heap(be, dw), forwardGeometry(info));
      return dw;
    }
    if (simd && CO % 4 === 0 && x.dtype === 'float32') {
      const dw = be.makeOutput(filterShape, 'float32');
      heap(be, dw).fill(0);
      const { inHeight: H, inWidth: W, inChannels: CI, filterHeight: KH, filterWidth: KW } = info;
      simd.exports.convFilterGrad(ptr(x), ptr(dy), ptr(dw), N, H, W, CI, OH, OW, CO, KH, KW, info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth, info.padInfo.top, info.padInfo.left);
      return dw;
    }
    const K = info.filterHeight * info.filterWidth * info.inChannels;
    const chunk = Math.max(1, Math.min(N, Math.floor(MAX_COLS / perImage)));
    const planes = transpose({ inputs: { x }, backend: be, attrs: { perm: [3, 0, 1, 2] } }); // [CI, N, H, W]
    let total: Info | null = null;
    for (let n0 = 0; n0 < N; n0 += chunk) {
      const count = Math.min(chunk, N - n0);
      const P = count * OH * OW;
      const cols = be.makeOutput([1, K, P], 'float32');
      im2colTransposed(heap(be, planes), info, n0, count, heap(be, cols));
      const dyChunk: Info = n0 === 0 && count === N ? view(dy, [1, P, CO]) : sliceRows(be, dy, n0 * OH * OW * CO, P * CO, [1, P, CO]);
      const part = matMul(be, cols, dyChunk);
      be.disposeData(cols.dataId);
      if (dyChunk.dataId !== dy.dataId) be.disposeData(dyChunk.dataId);
      if (total === null) total = part;
      else {
        // Chunks are summed in batch order: a fixed order, so the result is deterministic.
        const sum = add({ inputs: { a: total, b: part }, backend: be });
        be.disposeData(total.dataId);
        be.disposeData(part.dataId);
        total = sum;
      }
    }
    be.disposeData(planes.dataId);
    return view(total!, filterShape);
  };

  const backpropInput: Kernel = (args) => {
    const be = args.backend as BackendWasm;
    const { dy, filter } = args.inputs as { dy: Info; filter: Info };
    const { strides, pad, dimRoundingMode, inputShape } = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
    const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    const { batchSize: N, inHeight: H, inWidth: W, inChannels: CI, outHeight: OH, outWidth: OW, outChannels: CO } = info;
    const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = info;
    const DH = (OH - 1) * sh + 1;
    const DW = (OW - 1) * sw + 1;
    // Padding of the equivalent forward convolution over the (zero-inserted) dy.
    const top = KH - 1 - info.padInfo.top;
    const left = KW - 1 - info.padInfo.left;
    const bottom = H - DH + info.padInfo.top;
    const right = W - DW + info.padInfo.left;
    if (top < 0 || left < 0 || bottom < 0 || right < 0) return stockBackpropInput(args); // exotic explicit padding
    if (native && dy.dtype === 'float32' && KH * KW <= NATIVE_MAX_TAPS && N * H * W * CI > 0) {
      // The same convolution as below (the zero-inserted dy ⊛ the flipped filter), without building either.
      const dx = be.makeOutput(inputShape, 'float32');
      const g = { N, H: OH, W: OW, C: CO, OH: H, OW: W, CO: CI, KH, KW, sh: 1, sw: 1, dh: 1, dw: 1, pt: top, pl: left, uh: sh, uw: sw };
      native.backpropInput(heap(be, dy), heap(be, filter), heap(be, dx), g);
      return dx;
    }
    const flipped = be.makeOutput([KH, KW, CO, CI], 'float32');
    flipFilter(heap(be, filter), KH, KW, CI, CO, heap(be, flipped));
    let spread = dy;
    if (sh > 1 || sw > 1) {
      spread = be.makeOutput([N, DH, DW, CO], 'float32');
      insertZeros(heap(be, dy), N, OH, OW, CO, sh, sw, heap(be, spread));
    }
    const dx = conv2d({
      inputs: { x: spread, filter: flipped },
      backend: be,
      attrs: { strides: [1, 1], dilations: [1, 1], pad: [[0, 0], [top, bottom], [left, right], [0, 0]], dataFormat: 'NHWC', dimRoundingMode: undefined } as unknown as tf.NamedAttrMap,
    });
    be.disposeData(flipped.dataId);
    if (spread !== dy) be.disposeData(spread.dataId);
    return dx;
  };

  /** A 2×2, stride-2 pooling whose windows lie inside the input ('valid', or 'same' on even sizes). */
  const tiles2x2 = (info: tf.backend_util.Conv2DInfo) =>
    info.filterHeight === 2 && info.filterWidth === 2 && info.strideHeight === 2 && info.strideWidth === 2 && info.padInfo.top === 0 && info.padInfo.left === 0 &&
    2 * info.outHeight <= info.inHeight && 2 * info.outWidth <= info.inWidth && info.dilationHeight === 1 && info.dilationWidth === 1;

  // The native 2×2 max-pool where it gives XNNPACK's bits (no NaN or −0 in the input; else the stock kernel).
  const maxPool: Kernel = (args) => {
    const be = args.backend as BackendWasm;
    const { x } = args.inputs as { x: Info };
    const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as tf.MaxPoolAttrs;
    if (!native || x.dtype !== 'float32' || x.shape.length !== 4) return stockMaxPool(args);
    const info = tf.backend_util.computePool2DInfo(x.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
    if (!tiles2x2(info) || tf.util.sizeFromShape(info.outShape) === 0) return stockMaxPool(args);
    const y = be.makeOutput(info.outShape, 'float32');
    if (native.maxPool2x2(heap(be, x), heap(be, y), info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth)) return y;
    be.disposeData(y.dataId);
    return stockMaxPool(args);
  };

  const maxPoolGrad: Kernel = ({ inputs, backend, attrs }) => {
    const be = backend as BackendWasm;
    const { dy, input, output } = inputs as { dy: Info; input: Info; output: Info };
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as tf.MaxPoolGradAttrs;
    const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
    const dx = be.makeOutput(input.shape, 'float32');
    const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
    if (simd && tiles2x2(info) && C % 4 === 0) {
      if (2 * OH !== H || 2 * OW !== W) heap(be, dx).fill(0); // a last row or column no window covers
      if (native) native.maxPool2x2Grad(heap(be, input), heap(be, output), heap(be, dy), heap(be, dx), N, H, W, C, OH, OW);
      else simd.exports.maxPool2x2Grad(ptr(input), ptr(output), ptr(dy), ptr(dx), N, H, W, C, OH, OW);
    } else {
      maxPoolBackprop(heap(be, input), heap(be, output), heap(be, dy), info, heap(be, dx));
    }
    return dx;
  };

  const transposed = (be: BackendWasm, t: Info): Info => {
    const r = t.shape.length;
    const perm = [...Array(r).keys()];
    [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
    return transpose({ inputs: { x: t }, backend: be, attrs: { perm } });
  };

  /** op(A)·op(B) by the native kernel, one product per batch; null where the batches broadcast otherwise than 1 against n. */
  const nativeBatchMatMul = (be: BackendWasm, a: Info, b: Info, transA: boolean, transB: boolean): Info | null => {
    if (!native || a.dtype !== 'float32' || b.dtype !== 'float32') return null;
    const [a1, a2] = a.shape.slice(-2) as [number, number];
    const [b1, b2] = b.shape.slice(-2) as [number, number];
    const [M, K, N] = [transA ? a2 : a1, transA ? a1 : a2, transB ? b1 : b2];
    if ((transB ? b2 : b1) !== K) return null; // the stock kernel says what is wrong
    const outer = tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const batches = tf.util.sizeFromShape(outer);
    const batchesA = tf.util.sizeFromShape(a.shape.slice(0, -2));
    const batchesB = tf.util.sizeFromShape(b.shape.slice(0, -2));
    if ((batchesA !== batches && batchesA !== 1) || (batchesB !== batches && batchesB !== 1) || batches * M * N === 0) return null;
    const c = be.makeOutput([...outer, M, N], 'float32');
    const [av, bv, cv] = [heap(be, a), heap(be, b), heap(be, c)];
    for (let i = 0; i < batches; i++) {
      const ai = batchesA === 1 ? 0 : i;
      const bi = batchesB === 1 ? 0 : i;
      native.matMul(av.subarray(ai * M * K, (ai + 1) * M * K), bv.subarray(bi * K * N, (bi + 1) * K * N), cv.subarray(i * M * N, (i + 1) * M * N), M, K, N, transA, transB);
    }
    return c;
  };

  const fastBatchMatMul: Kernel = (args) => {
    const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
    const be = args.backend as BackendWasm;
    const { a, b } = args.inputs as { a: Info; b: Info };
    const byNative = nativeBatchMatMul(be, a, b, Boolean(transposeA), Boolean(transposeB));
    if (byNative) return byNative;
    if (!transposeA && !transposeB) return matMul(be, a, b);
    if (transposeB && !transposeA) {
      // A·Bᵀ = (B·Aᵀ)ᵀ: when B is the big one (a dense layer's input gradient, dy·Wᵀ), transposing A and
      // C moves less memory than transposing B (and XNNPACK, where it runs, packs the smaller operand).
      const size = (t: Info) => tf.util.sizeFromShape(t.shape);
      const sizeC = (size(a) / a.shape[a.shape.length - 1]!) * b.shape[b.shape.length - 2]!;
      if (2 * size(a) + sizeC < 2 * size(b)) {
        const aT = transposed(be, a);
        const cT = matMul(be, b, aT);
        be.disposeData(aT.dataId);
        const c = transposed(be, cT);
        be.disposeData(cT.dataId);
        return c;
      }
    }
    const a2 = transposeA ? transposed(be, a) : a;
    const b2 = transposeB ? transposed(be, b) : b;
    const out = matMul(be, a2, b2);
    if (a2 !== a) be.disposeData(a2.dataId);
    if (b2 !== b) be.disposeData(b2.dataId);
    return out;
  };

  const fastAdd: Kernel = (args) => {
    const be = args.backend as BackendWasm;
    const { a, b } = args.inputs as { a: Info; b: Info };
    if (!native || a.dtype !== 'float32' || b.dtype !== 'float32') return add(args);
    const size = (t: Info) => tf.util.sizeFromShape(t.shape);
    const same = tf.util.arraysEqual(a.shape, b.shape);
    // A bias: a vector (or [1, …, 1, C]) whose length is the other's last axis.
    const bias = (x: Info, v: Info) => x.shape.length >= v.shape.length && v.shape.slice(0, -1).every((d) => d === 1) && v.shape.at(-1) === x.shape.at(-1);
    const [x, v] = same ? [a, b] : bias(a, b) ? [a, b] : bias(b, a) ? [b, a] : [null, null];
    if (!x || !v || size(x) === 0) return add(args);
    const y = be.makeOutput(x.shape, 'float32');
    const cols = same ? size(x) : v.shape.at(-1)!;
    native.addRows(heap(be, x), heap(be, v), heap(be, y), size(x) / cols, cols);
    return y;
  };

  const fastSum: Kernel = (args) => {
    const be = args.backend as BackendWasm;
    const { x } = args.inputs as { x: Info };
    const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
    const sum = x.dtype === 'float32' ? leadingAxesSum(x.shape, tf.util.parseAxisParam(axis, x.shape), keepDims) : null;
    if (!sum) return stockSum(args);
    const out = be.makeOutput(sum.outShape, 'float32');
    if (simd && sum.cols % 4 === 0) simd.exports.columnSums(ptr(x), ptr(out), sum.rows, sum.cols);
    else sumRows(heap(be, x), sum.rows, sum.cols, heap(be, out));
    return out;
  };

  const reluGrad: Kernel = ({ inputs, backend }) => {
    const be = backend as BackendWasm;
    const { dy, x } = inputs as { dy: Info; x: Info };
    const out = be.makeOutput(x.shape, 'float32');
    const size = tf.util.sizeFromShape(x.shape);
    if (native && simd && size % 4 === 0) native.reluGrad(heap(be, dy), heap(be, x), heap(be, out));
    else if (simd && size % 4 === 0) simd.exports.reluGrad(ptr(dy), ptr(x), ptr(out), size);
    else reluBackprop(heap(be, dy), heap(be, x), heap(be, out));
    return out;
  };

  // tfjs clones every tensor a gradient will need (saveTensorsForBackwardMode); the stock wasm Identity
  // copies the data, the cpu backend's shares it. Tensors are immutable, so sharing is what we do too.
  const identity: Kernel = ({ inputs, backend }) => {
    const { x } = inputs as { x: Info };
    (backend as BackendWasm).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };

  replaceKernel('Identity', identity);
  replaceKernel('Conv2D', fastConv2d);
  replaceKernel(CONV_BIAS_RELU, convBiasRelu);
  replaceKernel('Add', fastAdd);
  replaceKernel('Conv2DBackpropFilter', backpropFilter);
  replaceKernel('Conv2DBackpropInput', backpropInput);
  replaceKernel('MaxPool', maxPool);
  replaceKernel('MaxPoolGrad', maxPoolGrad);
  replaceKernel('BatchMatMul', fastBatchMatMul);
  replaceKernel('Sum', fastSum);
  replaceKernel(RELU_GRAD, reluGrad);
  return simd !== null;
}

/** Rows [start, start+size) of a tensor copied into a new one (a chunk of images). */
function sliceRows(be: BackendWasm, t: Info, start: number, size: number, shape: number[]): Info {
  const out = be.makeOutput(shape, 'float32');
  heap(be, out).set(heap(be, t).subarray(start, start + size));
  return out;
}

function replaceKernel(kernelName: string, kernelFunc: Kernel): void {
  if (tf.getKernel(kernelName, 'wasm')) tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
}
