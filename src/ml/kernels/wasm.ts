// Gradient kernels for the wasm backend. Stock tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter
// (a CNN cannot train), and its Conv2DBackpropInput, MaxPoolGrad, transposed BatchMatMul and
// leading-axis Sum are naive loops, 10–40× slower than its XNNPACK convolution and matrix product.
// We express every heavy gradient through those two fast kernels:
//   Conv2DBackpropFilter  im2col (transposed, JS on the heap) · dy      → BatchMatMul (XNNPACK)
//   Conv2DBackpropInput   dy (zeros inserted if strided) ⊛ flipped W    → Conv2D (XNNPACK)
//   BatchMatMul ᵀ         transpose the operand (wasm Transpose), then the untransposed product
//   MaxPoolGrad, Sum over leading axes (bias gradients): one JS pass over the heap.
//   Identity (tfjs clones every tensor saved for the backward pass): shares the data, as cpu does.
// Registered after the backend has initialised, so the stock kernels we call have run their setup.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { flipFilter, im2colTransposed, insertZeros, leadingAxesSum, maxPoolBackprop, sumRows } from './loops.js';

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

export function registerWasmKernels(): void {
  const conv2d = stockKernel('Conv2D');
  const batchMatMul = stockKernel('BatchMatMul');
  const transpose = stockKernel('Transpose');
  const add = stockKernel('Add');
  const stockBackpropInput = stockKernel('Conv2DBackpropInput');
  const stockSum = stockKernel('Sum');

  const matMul = (backend: BackendWasm, a: Info, b: Info): Info =>
    batchMatMul({ inputs: { a, b }, backend, attrs: { transposeA: false, transposeB: false } });

  const backpropFilter: Kernel = ({ inputs, backend, attrs }) => {
    const be = backend as BackendWasm;
    const { x, dy } = inputs as { x: Info; dy: Info };
    const { strides, pad, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
    const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    const { batchSize: N, outHeight: OH, outWidth: OW, outChannels: CO } = info;
    const K = info.filterHeight * info.filterWidth * info.inChannels;
    const perImage = K * OH * OW;
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

  const maxPoolGrad: Kernel = ({ inputs, backend, attrs }) => {
    const be = backend as BackendWasm;
    const { dy, input, output } = inputs as { dy: Info; input: Info; output: Info };
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as tf.MaxPoolGradAttrs;
    const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
    const dx = be.makeOutput(input.shape, 'float32');
    maxPoolBackprop(heap(be, input), heap(be, output), heap(be, dy), info, heap(be, dx));
    return dx;
  };

  const transposed = (be: BackendWasm, t: Info): Info => {
    const r = t.shape.length;
    const perm = [...Array(r).keys()];
    [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
    return transpose({ inputs: { x: t }, backend: be, attrs: { perm } });
  };

  const fastBatchMatMul: Kernel = (args) => {
    const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
    if (!transposeA && !transposeB) return batchMatMul(args);
    const be = args.backend as BackendWasm;
    const { a, b } = args.inputs as { a: Info; b: Info };
    if (transposeB && !transposeA) {
      // A·Bᵀ = (B·Aᵀ)ᵀ. XNNPACK repacks its right operand on every call, so when B is the big one
      // (a dense layer's input gradient, dy·Wᵀ) transposing and packing A and then C is cheaper.
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

  const fastSum: Kernel = (args) => {
    const be = args.backend as BackendWasm;
    const { x } = args.inputs as { x: Info };
    const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
    const sum = x.dtype === 'float32' ? leadingAxesSum(x.shape, tf.util.parseAxisParam(axis, x.shape), keepDims) : null;
    if (!sum) return stockSum(args);
    const out = be.makeOutput(sum.outShape, 'float32');
    sumRows(heap(be, x), sum.rows, sum.cols, heap(be, out));
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
  replaceKernel('Conv2DBackpropFilter', backpropFilter);
  replaceKernel('Conv2DBackpropInput', backpropInput);
  replaceKernel('MaxPoolGrad', maxPoolGrad);
  replaceKernel('BatchMatMul', fastBatchMatMul);
  replaceKernel('Sum', fastSum);
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
