/**
 * Our kernel for the ReLU gradient dy·step(x) in one pass (tfjs computes step(x), then a product). Its
 * own name, registered on the backends that have it (wasm, cpu); the gradient falls back to the two
 * stock kernels elsewhere.
 */
export const RELU_GRAD = 'ReproReluGrad';

/**
 * relu(conv2d(x, filter) + bias) in one kernel (src/ml/kernels/fused.ts): registered on the wasm backend,
 * which computes it with the native kernels where they run; elsewhere the op is the three stock ones.
 */
export const CONV_BIAS_RELU = 'ReproConv2DBiasRelu';
