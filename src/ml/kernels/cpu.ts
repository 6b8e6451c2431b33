// Gradient kernels for the pure-JS cpu backend. Its stock Conv2DBackpropFilter walks the batch and
// the image in its innermost loops with strided reads; ours does rank-1 updates over contiguous
// output channels (several times faster), and MaxPoolGrad / leading-axis Sum / the ReLU gradient get
// one-pass loops.
import * as tf from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { conv2dBackpropFilterLoops, leadingAxesSum, maxPoolBackprop, reluBackprop, sumRows } from './loops.js';
import { RELU_GRAD } from './names.js';

type Info = tf.TensorInfo;
type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };
type Kernel = (args: KernelArgs) => Info;

function values(backend: MathBackendCPU, t: Info): Float32Array {
  return backend.data.get(t.dataId)!.values as Float32Array;
}

export function registerCpuKernels(): void {
  const stockSum = tf.getKernel('Sum', 'cpu')!.kernelFunc as unknown as Kernel;

  const backpropFilter: Kernel = ({ inputs, backend, attrs }) => {
    const be = backend as MathBackendCPU;
    const { x, dy } = inputs as { x: Info; dy: Info };
    const { strides, pad, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
    const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    const dw = new Float32Array(tf.util.sizeFromShape(filterShape));
    conv2dBackpropFilterLoops(values(be, x), values(be, dy), info, dw);
    return be.makeTensorInfo(filterShape, 'float32', dw);
  };

  const maxPoolGrad: Kernel = ({ inputs, backend, attrs }) => {
    const be = backend as MathBackendCPU;
    const { dy, input, output } = inputs as { dy: Info; input: Info; output: Info };
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as tf.MaxPoolGradAttrs;
    const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
    const dx = new Float32Array(tf.util.sizeFromShape(input.shape));
    maxPoolBackprop(values(be, input), values(be, output), values(be, dy), info, dx);
    return be.makeTensorInfo(input.shape, 'float32', dx);
  };

  const fastSum: Kernel = (args) => {
    const be = args.backend as MathBackendCPU;
    const { x } = args.inputs as { x: Info };
    const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
    const sum = x.dtype === 'float32' ? leadingAxesSum(x.shape, tf.util.parseAxisParam(axis, x.shape), keepDims) : null;
    if (!sum) return stockSum(args);
    const out = new Float32Array(sum.cols);
    sumRows(values(be, x), sum.rows, sum.cols, out);
    return be.makeTensorInfo(sum.outShape, 'float32', out);
  };

  replaceKernel('Conv2DBackpropFilter', backpropFilter);
  replaceKernel('MaxPoolGrad', maxPoolGrad);
  const reluGrad: Kernel = ({ inputs, backend }) => {
    const be = backend as MathBackendCPU;
    const { dy, x } = inputs as { dy: Info; x: Info };
    const out = new Float32Array(tf.util.sizeFromShape(x.shape));
    reluBackprop(values(be, dy), values(be, x), out);
    return be.makeTensorInfo(x.shape, 'float32', out);
  };

  replaceKernel('Sum', fastSum);
  replaceKernel(RELU_GRAD, reluGrad);
}

function replaceKernel(kernelName: string, kernelFunc: Kernel): void {
  if (tf.getKernel(kernelName, 'cpu')) tf.unregisterKernel(kernelName, 'cpu');
  tf.registerKernel({ kernelName, backendName: 'cpu', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
}
