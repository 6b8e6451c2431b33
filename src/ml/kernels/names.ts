/**
 * Our kernel for the ReLU gradient dy·step(x) in one pass (tfjs computes step(x), then a product). Its
 * own name, registered on the backends that have it (wasm, cpu); the gradient falls back to the two
 * stock kernels elsewhere.
 */
export const RELU_GRAD = 'ReproReluGrad';
