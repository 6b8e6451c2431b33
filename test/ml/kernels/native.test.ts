// The native kernels (src/ml/kernels/native) against the wasm path they replace, bit for bit: Conv2D,
// its input and filter gradients, and BatchMatMul (transposed, batched, broadcast), on random shapes with
// odd sizes, strides, 'same'/'valid'/numeric padding and the models' own layers, on every code path this
// CPU runs (scalar, AVX2, AVX-512). The wasm path (XNNPACK and our SIMD kernels) is the reference.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, shutdownBackend } from '../../../src/ml/backend/index.js';
import { setNativeKernels } from '../../../src/ml/kernels/wasm.js';
import { RELU_GRAD } from '../../../src/ml/kernels/names.js';
import { NATIVE_PATHS, addonFile, kernelChoice, loadNativeKernels, type NativeKernels } from '../../../src/ml/kernels/native/index.js';
import { mulberry32 } from '../../../src/core/rng.js';
import { geometry, type Pad } from './reference.js';
import { weightedSum } from '../../../src/ml/gradients.js';
import { conv2dBiasRelu } from '../../../src/ml/kernels/fused.js';
import { makeOptimizer } from '../../../src/ml/optimizers.js';
import type { OptimizerSpec } from '../../../src/ml/types.js';
import { tempDir } from '../../support/index.js';

const available = existsSync(addonFile());

/** Normal-ish values of mixed magnitudes, so that summing in another order changes the rounding. */
function randoms(count: number, seed: number): Float32Array {
  const next = mulberry32(seed);
  return Float32Array.from({ length: count }, () => (next() - 0.5) * 2 ** Math.floor(next() * 8 - 4));
}

/** Index of the first element whose bits differ, or -1. */
function firstDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

function read(t: tf.Tensor): Float32Array {
  const v = t.dataSync().slice() as Float32Array;
  t.dispose();
  return v;
}

interface ConvCase {
  n: number; h: number; w: number; ci: number; co: number; kh: number; kw: number; stride: [number, number]; pad: Pad; dilation?: number;
}

/** Forward output, input gradient and filter gradient of one convolution on the kernels now set. */
function convOutputs(c: ConvCase, seed: number): Float32Array[] {
  const [sh, sw] = c.stride;
  const d = c.dilation ?? 1;
  const oh = geometry(c.h, (c.kh - 1) * d + 1, sh, c.pad).out;
  const ow = geometry(c.w, (c.kw - 1) * d + 1, sw, c.pad).out;
  return tf.tidy(() => {
    const x = tf.tensor4d(randoms(c.n * c.h * c.w * c.ci, seed), [c.n, c.h, c.w, c.ci]);
    const f = tf.tensor4d(randoms(c.kh * c.kw * c.ci * c.co, seed + 1), [c.kh, c.kw, c.ci, c.co]);
    const dy = tf.tensor4d(randoms(c.n * oh * ow * c.co, seed + 2), [c.n, oh, ow, c.co]);
    const y = tf.conv2d(x, f, c.stride, c.pad as 'same', 'NHWC', d);
    if (d > 1) return [y]; // tfjs has no conv2d gradient with dilations
    const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad as 'same'), dy)))([x, f]);
    return [y, dx!, df!];
  }).map(read);
}

const convCases: ConvCase[] = [
  // The models' layers (small-cnn at 28×28×1 and 64×64×3, alxs), on small batches.
  { n: 2, h: 28, w: 28, ci: 1, co: 32, kh: 3, kw: 3, stride: [1, 1], pad: 'same' },
  { n: 2, h: 14, w: 14, ci: 32, co: 64, kh: 3, kw: 3, stride: [1, 1], pad: 'same' },
  { n: 2, h: 64, w: 64, ci: 3, co: 32, kh: 3, kw: 3, stride: [1, 1], pad: 'same' },
  { n: 1, h: 71, w: 71, ci: 3, co: 24, kh: 7, kw: 7, stride: [4, 4], pad: 'valid' },
  { n: 2, h: 8, w: 8, ci: 24, co: 64, kh: 5, kw: 5, stride: [1, 1], pad: 'same' },
  // Odd sizes and channel counts (tails of every tile), strides, numeric and asymmetric padding.
  { n: 3, h: 9, w: 11, ci: 5, co: 7, kh: 3, kw: 3, stride: [2, 2], pad: 'same' },
  { n: 2, h: 10, w: 7, ci: 2, co: 3, kh: 3, kw: 3, stride: [2, 2], pad: 2 },
  { n: 1, h: 13, w: 6, ci: 17, co: 33, kh: 1, kw: 1, stride: [1, 1], pad: 'valid' },
  { n: 2, h: 12, w: 15, ci: 6, co: 20, kh: 2, kw: 4, stride: [1, 3], pad: 'same' },
  { n: 1, h: 9, w: 9, ci: 4, co: 36, kh: 5, kw: 5, stride: [3, 2], pad: 'valid' },
  { n: 2, h: 11, w: 9, ci: 3, co: 16, kh: 3, kw: 3, stride: [1, 1], pad: 'same', dilation: 2 },
];

interface MatMulCase { a: number[]; b: number[]; transA: boolean; transB: boolean }
const matMulCases: MatMulCase[] = [
  { a: [32, 3136], b: [3136, 128], transA: false, transB: false }, // fc1 forward (K blocks carry the sum)
  { a: [32, 3136], b: [32, 128], transA: true, transB: false }, // fc1 weight gradient
  { a: [32, 128], b: [3136, 128], transA: false, transB: true }, // fc1 input gradient
  { a: [32, 128], b: [128, 10], transA: false, transB: false }, // the output layer (XNNPACK on wasm)
  { a: [7, 300], b: [300, 13], transA: false, transB: false },
  { a: [9, 5], b: [6, 9], transA: true, transB: true },
  { a: [3, 6, 5], b: [3, 5, 8], transA: false, transB: false }, // batched
  { a: [3, 6, 5], b: [1, 8, 5], transA: false, transB: true }, // one b broadcast over the batch
];

function matMulOutput(c: MatMulCase, seed: number): Float32Array {
  return read(
    tf.tidy(() => {
      const a = tf.tensor(randoms(c.a.reduce((p, q) => p * q), seed), c.a);
      const b = tf.tensor(randoms(c.b.reduce((p, q) => p * q), seed + 1), c.b);
      return tf.matMul(a, b, c.transA, c.transB);
    }),
  );
}

describe.skipIf(!available)('native kernels give the wasm path’s bits', () => {
  const paths: NativeKernels[] = [];

  beforeAll(async () => {
    const facts = await initBackend('wasm', 1);
    expect(facts.simd).toBe(true);
    const best = loadNativeKernels('native')!;
    for (const path of NATIVE_PATHS.slice(0, NATIVE_PATHS.indexOf(best.path) + 1)) paths.push(loadNativeKernels(path)!);
  });
  afterAll(async () => {
    setNativeKernels(null);
    await shutdownBackend();
  });

  /** The kernels, counting the calls of each (so a case the native kernels declined cannot pass unseen). */
  function counted(kernels: NativeKernels, calls: Map<string, number>): NativeKernels {
    const out: Record<string, unknown> = { ...kernels };
    for (const [name, f] of Object.entries(kernels)) {
      if (typeof f !== 'function') continue;
      out[name] = (...args: unknown[]) => {
        calls.set(name, (calls.get(name) ?? 0) + 1);
        return (f as (...a: unknown[]) => unknown)(...args);
      };
    }
    return out as unknown as NativeKernels;
  }

  /** The outputs on the wasm path, then on each native path: each must match the wasm path bit for bit. */
  function compare(compute: () => Float32Array[], expectedCalls: string[]): void {
    setNativeKernels(null);
    const reference = compute();
    for (const kernels of paths) {
      const calls = new Map<string, number>();
      setNativeKernels(counted(kernels, calls));
      const outputs = compute();
      for (const name of expectedCalls) expect(calls.has(name), `${kernels.path} ran ${name}`).toBe(true);
      if (expectedCalls.length === 0) expect(calls.size).toBe(0);
      outputs.forEach((out, i) => {
        const at = firstDifference(out, reference[i]!);
        expect(at, `${kernels.path}, output ${i}: element ${at} is ${out[at]}, the wasm path gives ${reference[i]![at]}`).toBe(-1);
      });
    }
    setNativeKernels(null);
  }

  it('runs every code path this CPU has (AVX-512 on this machine kind where it has it)', () => {
    expect(paths.map((p) => p.path)).toContain('native-scalar');
    expect(paths.length).toBeGreaterThanOrEqual(1);
  });

  for (const [i, c] of convCases.entries()) {
    const name = `conv ${c.kh}×${c.kw} stride ${c.stride.join('×')} pad ${c.pad}${c.dilation ? ` dilation ${c.dilation}` : ''} (${c.n}×${c.h}×${c.w}×${c.ci} → ${c.co}): forward, input and filter gradients`;
    it(name, () => compare(() => convOutputs(c, 100 + 10 * i), c.dilation ? ['conv'] : ['conv', 'backpropInput', 'filterGrad']));
  }

  /** relu(conv + bias) and its gradients for x, filter and bias, through the fused op (src/ml/kernels/fused.ts). */
  function convBiasReluOutputs(c: ConvCase, seed: number, values: (count: number, seed: number) => Float32Array): Float32Array[] {
    const stride = c.stride[0];
    const pad = c.pad as 'same' | 'valid';
    const oh = geometry(c.h, c.kh, stride, pad).out;
    const ow = geometry(c.w, c.kw, stride, pad).out;
    return tf.tidy(() => {
      const x = tf.tensor4d(values(c.n * c.h * c.w * c.ci, seed), [c.n, c.h, c.w, c.ci]);
      const f = tf.tensor4d(randoms(c.kh * c.kw * c.ci * c.co, seed + 1), [c.kh, c.kw, c.ci, c.co]);
      const b = tf.tensor1d(randoms(c.co, seed + 3));
      const dy = tf.tensor4d(randoms(c.n * oh * ow * c.co, seed + 2), [c.n, oh, ow, c.co]);
      const y = conv2dBiasRelu(x, f, b, stride, pad);
      const [dx, df, db] = tf.grads((p: tf.Tensor, q: tf.Tensor, r: tf.Tensor) => tf.sum(tf.mul(conv2dBiasRelu(p as tf.Tensor4D, q as tf.Tensor4D, r, stride, pad), dy)))([x, f, b]);
      return [y, dx!, df!, db!];
    }).map(read);
  }

  // The fused layer against the three stock ops (the wasm path declines the fused kernel): forward and
  // all three gradients, on the models' layers and odd shapes; then with NaN and ±∞ in the input, where
  // the fused kernel sees NaN pre-activations and the op must fall back to the unfused ops.
  const fusedCases = convCases.filter((c) => !c.dilation && typeof c.pad === 'string' && c.stride[0] === c.stride[1]);
  for (const [i, c] of fusedCases.entries()) {
    it(`conv + bias + ReLU fused ${c.kh}×${c.kw}/${c.stride[0]} ${c.pad} (${c.n}×${c.h}×${c.w}×${c.ci} → ${c.co}): forward and gradients`, () =>
      compare(() => convBiasReluOutputs(c, 300 + 10 * i, randoms), ['convBiasRelu', 'backpropInput', 'filterGrad']));
  }
  // NaN pre-activations (from NaN inputs and Inf − Inf): the fused kernel sees them and declines, and
  // the op computes the unfused ops, on the same kernels. (Against the wasm path a NaN may differ in
  // sign and payload: the native and XNNPACK convolutions add the same terms in the same order, but which
  // NaN an addition of two NaNs keeps depends on the operands' order in the instruction; docs/ml-speed.md.)
  it('conv + bias + ReLU fused, NaN pre-activations of both signs: the unfused ops’ bits, on every path', () => {
    const c = fusedCases[1]!;
    // Finite values and a few ±∞, whose sums Inf − Inf give the CPU's default NaN (sign bit set).
    const infinities = (count: number, seed: number) => {
      const next = mulberry32(seed + 7);
      return specials(count, seed).map((v) => (next() < 0.5 ? (next() < 0.01 ? (next() < 0.5 ? Infinity : -Infinity) : 0.25) : Number.isNaN(v) ? 1 : v));
    };
    const unfused = (): Float32Array[] => {
      const dy = tf.tensor4d(randoms(c.n * c.h * c.w * c.co, 392), [c.n, c.h, c.w, c.co]);
      const out = tf.tidy(() => {
        const x = tf.tensor4d(infinities(c.n * c.h * c.w * c.ci, 390), [c.n, c.h, c.w, c.ci]);
        const f = tf.tensor4d(randoms(c.kh * c.kw * c.ci * c.co, 391), [c.kh, c.kw, c.ci, c.co]);
        const b = tf.tensor1d(randoms(c.co, 393));
        const layer = (p: tf.Tensor, q: tf.Tensor, r: tf.Tensor) => tf.relu(tf.add(tf.conv2d(p as tf.Tensor4D, q as tf.Tensor4D, 1, 'same'), r));
        const [dx, df, db] = tf.grads((p: tf.Tensor, q: tf.Tensor, r: tf.Tensor) => tf.sum(tf.mul(layer(p, q, r), dy)))([x, f, b]);
        return [layer(x, f, b), dx!, df!, db!, tf.add(tf.conv2d(x, f, 1, 'same'), b)];
      }).map(read);
      dy.dispose();
      return out;
    };
    for (const kernels of paths) {
      setNativeKernels(kernels);
      const expected = unfused();
      const calls = new Map<string, number>();
      setNativeKernels(counted(kernels, calls));
      const got = convBiasReluOutputs(c, 390, infinities);
      expect(calls.get('convBiasRelu'), kernels.path).toBeGreaterThan(0);
      // The case is real: NaN pre-activations, and a negative NaN that the ReLU made +0 (a gradient NaN where y is 0).
      expect(expected[1]!.some(Number.isNaN)).toBe(true);
      const [y, , , , pre] = expected as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array];
      expect(y.some((v, k) => v === 0 && Number.isNaN(pre[k]))).toBe(true);
      got.forEach((out, k) => {
        const at = firstDifference(out, expected[k]!);
        expect(at, `${kernels.path}, output ${k}: element ${at} is ${out[at]}, unfused ${expected[k]![at]}`).toBe(-1);
      });
    }
    setNativeKernels(null);
  });

  for (const [i, c] of matMulCases.entries()) {
    it(`matMul ${c.a.join('×')}${c.transA ? 'ᵀ' : ''} · ${c.b.join('×')}${c.transB ? 'ᵀ' : ''}`, () => compare(() => [matMulOutput(c, 500 + 10 * i)], ['matMul']));
  }

  /** Values with the special cases the gradient rules distinguish: zeros of both signs, NaN, ±∞, ties. */
  function specials(count: number, seed: number): Float32Array {
    const next = mulberry32(seed);
    const pool = [0, -0, NaN, -Infinity, Infinity, 1, -1, 0.5];
    return Float32Array.from({ length: count }, () => (next() < 0.3 ? pool[Math.floor(next() * pool.length)]! : Math.round((next() - 0.5) * 6) / 2));
  }

  // The shard average of src/ml/gradients.ts: two shards (the default) and more, shares of uneven shards,
  // and the values where the two formulas differ (zeros of both signs: 0 + (−0) is +0).
  for (const shares of [[0.5, 0.5], [21 / 64, 21 / 64, 22 / 64], [0.2, 0.2, 0.2, 0.2, 0.2]]) {
    it(`shard average of ${shares.length} shards (±0, NaN, ±∞)`, () => {
      const n = 1037;
      const parts = shares.map((_, i) => (i % 2 ? randoms(n, 950 + i) : specials(n, 960 + i)));
      const expected = new Float32Array(n);
      weightedSum(parts, Float64Array.from(shares), expected);
      for (const kernels of paths) {
        const out = new Float32Array(n).fill(7);
        kernels.weightedSum(parts, Float64Array.from(shares), out);
        const at = firstDifference(out, expected);
        expect(at, `${kernels.path}: element ${at} is ${out[at]}, the JS average gives ${expected[at]}`).toBe(-1);
      }
    });
  }
  it('the shard average would have caught another order', () => {
    const parts = [Float32Array.of(1e8, -0), Float32Array.of(-1e8, -0), Float32Array.of(1, -0)];
    const shares = Float64Array.of(1, 1, 1e-9);
    const ours = new Float32Array(2);
    weightedSum(parts, shares, ours);
    expect(ours[0]).toBe(Math.fround(1e-9)); // in another order (1e8 + 1e-9 first) float64 would lose it: 1.49e-8
    expect(Object.is(ours[1], 0)).toBe(true); // the running sum from +0: never −0
    const two = new Float32Array(1);
    weightedSum([Float32Array.of(-0), Float32Array.of(-0)], Float64Array.of(0.5, 0.5), two);
    expect(Object.is(two[0], -0)).toBe(true); // two shards: s0·g0 + s1·g1, −0 + −0
    for (const kernels of paths) {
      const out = new Float32Array(1);
      kernels.weightedSum([Float32Array.of(-0), Float32Array.of(-0)], Float64Array.of(0.5, 0.5), out);
      expect(Object.is(out[0], -0), kernels.path).toBe(true);
    }
  });

  // The optimiser's update: native against the SIMD kernels, weights and slots, over five steps; 1031
  // weights take the SIMD kernels' vector loop and their scalar tail (where Adam's rounding differs).
  for (const spec of [
    { kind: 'adam', lr: 0.01, weightDecay: 0.1 },
    { kind: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 },
    { kind: 'sgd', lr: 0.05, momentum: 0.9 },
    { kind: 'sgd', lr: 0.1 },
  ] as OptimizerSpec[]) {
    it(`optimiser step ${JSON.stringify(spec)}: the SIMD kernels' bits`, () => {
      const n = 1031;
      const run = (native: boolean): { kernels: string; values: Float32Array[] } => {
        const w = tf.variable(tf.tensor1d(randoms(n, 970)), true, `opt${Math.random()}`);
        const opt = makeOptimizer(spec, new Map([['w', w]]), { native });
        for (let t = 1; t <= 5; t++) opt.step({ [w.name]: randoms(n, 980 + t) }, spec.lr * (1 + t / 10));
        const values = [w.dataSync().slice() as Float32Array, ...opt.save().slots];
        w.dispose();
        return { kernels: opt.kernels, values };
      };
      const reference = run(false);
      expect(reference.kernels).toBe('simd');
      const before = process.env.REPRO_KERNELS;
      try {
        for (const kernels of paths) {
          process.env.REPRO_KERNELS = kernels.path;
          const got = run(true);
          expect(got.kernels).toBe(kernels.path);
          got.values.forEach((out, k) => {
            const at = firstDifference(out, reference.values[k]!);
            expect(at, `${kernels.path}, ${k ? `slot ${k}` : 'weights'}: element ${at} is ${out[at]}, SIMD ${reference.values[k]![at]}`).toBe(-1);
          });
        }
      } finally {
        if (before === undefined) delete process.env.REPRO_KERNELS;
        else process.env.REPRO_KERNELS = before;
      }
    });
  }

  it('ReLU gradient (NaN, ±0, ±∞)', () =>
    compare(() => {
      const x = tf.tensor(specials(4 * 1000, 900), [8, 500]);
      const dy = tf.tensor(randoms(4 * 1000, 901), [8, 500]);
      const out = tf.engine().runKernel(RELU_GRAD, { dy, x }) as tf.Tensor;
      tf.dispose([x, dy]);
      return [read(out)];
    }, ['reluGrad']));

  for (const shape of [
    [2, 8, 6, 8],
    [3, 7, 9, 4], // odd sizes: a row and a column no window covers
    [1, 28, 28, 32],
    [2, 6, 6, 20], // channels in vectors and a tail
  ] as Array<[number, number, number, number]>) {
    it(`max-pool 2×2 gradient ${shape.join('×')} (ties, NaN, −∞)`, () =>
      compare(() => {
        const x = tf.tensor4d(specials(shape.reduce((p, q) => p * q), 910 + shape[1]), shape);
        const dx = tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, 2, 2, 'valid'), 1.5)))(x));
        x.dispose();
        return [read(dx)];
      }, ['maxPool2x2Grad']));
  }

  // The max-pool forward: native where no input is NaN or −0 (ties of equal values have one bit pattern
  // then), the stock kernel otherwise (the gradient tests above feed it NaN and −0 too).
  for (const shape of [
    [2, 8, 6, 8],
    [3, 7, 9, 4],
    [1, 28, 28, 32],
    [2, 6, 6, 20],
  ] as Array<[number, number, number, number]>) {
    const ties = (count: number, seed: number) => {
      const next = mulberry32(seed);
      const values = [0, 0.5, 1, 2, Infinity, -Infinity, -3];
      return Float32Array.from({ length: count }, () => (next() < 0.5 ? values[Math.floor(next() * values.length)]! : next() - 0.5));
    };
    it(`max-pool 2×2 forward ${shape.join('×')} (ties, ±∞)`, () =>
      compare(() => [read(tf.tidy(() => tf.maxPool(tf.tensor4d(ties(shape.reduce((p, q) => p * q), 940 + shape[1]), shape), 2, 2, 'valid')))], ['maxPool2x2']));
  }

  // Add: a bias over the last axis (either operand), two tensors of one shape; other broadcasts stay stock.
  const addCases: Array<{ a: number[]; b: number[]; native: boolean }> = [
    { a: [2, 5, 7, 32], b: [32], native: true },
    { a: [3, 13], b: [1, 13], native: true },
    { a: [17], b: [4, 6, 17], native: true },
    { a: [3, 7, 5], b: [3, 7, 5], native: true },
    { a: [4, 1], b: [1, 5], native: false },
  ];
  for (const [i, c] of addCases.entries()) {
    it(`add ${c.a.join('×')} + ${c.b.join('×')}${c.native ? '' : ' (stock)'}`, () =>
      compare(
        () => [
          read(tf.tidy(() => tf.add(tf.tensor(randoms(c.a.reduce((p, q) => p * q), 700 + i), c.a), tf.tensor(randoms(c.b.reduce((p, q) => p * q), 800 + i), c.b)))),
        ],
        c.native ? ['addRows'] : [],
      ));
  }

  it('would see another summation order: the same product summed with k descending differs', () => {
    const c = matMulCases[4]!;
    const [M, K] = c.a as [number, number];
    const N = c.b[1]!;
    const a = randoms(M * K, 540);
    const b = randoms(K * N, 541);
    const reversed = new Float32Array(M * N);
    for (let m = 0; m < M; m++)
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = K - 1; k >= 0; k--) s = Math.fround(s + Math.fround(a[m * K + k]! * b[k * N + n]!));
        reversed[m * N + n] = s;
      }
    setNativeKernels(null);
    expect(firstDifference(reversed, matMulOutput(c, 540))).not.toBe(-1);
  });
});

describe('REPRO_KERNELS', () => {
  it('accepts the kernel paths and refuses anything else, naming the choices', () => {
    expect(kernelChoice({})).toBe('auto');
    expect(kernelChoice({ REPRO_KERNELS: 'native-avx2' })).toBe('native-avx2');
    expect(kernelChoice({ REPRO_KERNELS: 'simd' })).toBe('simd');
    expect(() => kernelChoice({ REPRO_KERNELS: 'fast' })).toThrow(/simd, native, native-scalar/);
  });

  it('a bad value stops the backend from starting, with a hint (auto must not fall through to another backend)', async () => {
    const saved = process.env.REPRO_KERNELS;
    process.env.REPRO_KERNELS = 'fast';
    try {
      await expect(initBackend('auto', 1)).rejects.toMatchObject({ name: 'BackendUnavailableError', message: expect.stringMatching(/REPRO_KERNELS=fast/), hint: expect.stringMatching(/unset REPRO_KERNELS/) });
    } finally {
      if (saved === undefined) delete process.env.REPRO_KERNELS;
      else process.env.REPRO_KERNELS = saved;
    }
  });

  it('simd never loads the native kernels', () => {
    expect(loadNativeKernels('simd')).toBeNull();
  });

  it('falls back to the wasm path with one line on stderr where the binary is missing or does not load; a forced native path is an error', () => {
    const dir = tempDir('repro-kernels-');
    const broken = join(dir, 'repro-kernels.node');
    writeFileSync(broken, 'not a shared object');
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(loadNativeKernels('auto', join(dir, 'missing.node'))).toBeNull();
      expect(loadNativeKernels('auto', broken)).toBeNull();
      const lines = write.mock.calls.map((c) => String(c[0]));
      expect(lines).toHaveLength(1); // once per process
      expect(lines[0]).toMatch(/^repro: native kernels unavailable \(.+\); using the wasm kernels \(same results, slower\)\n$/);
    } finally {
      write.mockRestore();
    }
    expect(() => loadNativeKernels('native', broken)).toThrow(/REPRO_KERNELS=native: the native kernels do not load here/);
  });
});

describe.skipIf(process.platform !== 'linux' || process.arch !== 'x64')('the npm package', () => {
  it('carries the prebuilt linux-x64 binary (small) and the compiled loader; sources stay in the repository', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { encoding: 'utf8' });
    const files = (JSON.parse(out) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
    expect(files).toContain('prebuilds/linux-x64/repro-kernels.node');
    expect(files).toContain('dist/ml/kernels/native/index.js');
    expect(statSync('prebuilds/linux-x64/repro-kernels.node').size).toBeLessThan(512 * 1024);
  });
});
