// Our gradient kernels (src/ml/kernels) against float64 references computed from the definitions, on
// both backends they serve (wasm, cpu): strides 1/2, 'same'/'valid'/numeric padding, filter sizes
// 1/3/5/7, batch > 1, several channels, non-square images. Max-pool ties are checked against the stock
// tfjs cpu kernel, whose first-maximum rule defines the expected result.
// (tfjs's conv2d gradient rejects dilations > 1 before any kernel runs, so there is nothing to test there.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, shutdownBackend } from '../../../src/ml/backend/index.js';
import { convGradients, geometry, matMul64, relativeError, values, type ConvCase } from './reference.js';

const convCases: ConvCase[] = [];
for (const k of [1, 3, 5, 7])
  for (const stride of [1, 2])
    for (const pad of ['same', 'valid'] as const) convCases.push({ n: 2, h: 9, w: 11, ci: 3, co: 4, k, stride, pad });
convCases.push({ n: 3, h: 8, w: 8, ci: 5, co: 2, k: 3, stride: 1, pad: 1 });
convCases.push({ n: 2, h: 10, w: 7, ci: 2, co: 3, k: 3, stride: 2, pad: 2 });
// Output channels in fours and sixteens, odd input channels: every tile of the SIMD filter gradient on wasm.
convCases.push({ n: 3, h: 7, w: 9, ci: 3, co: 20, k: 3, stride: 1, pad: 'same' });
convCases.push({ n: 2, h: 9, w: 8, ci: 5, co: 32, k: 3, stride: 2, pad: 'same' });

const name = (c: ConvCase) => `${c.k}×${c.k} stride ${c.stride} pad ${c.pad} (${c.n}×${c.h}×${c.w}×${c.ci} → ${c.co})`;

/** Float32 relative tolerance: sums of up to a few hundred products of O(1) values. */
const TOL = 2e-6;

function convGradsOnBackend(c: ConvCase): { dw: Float32Array; dx: Float32Array } {
  const x = values(c.n * c.h * c.w * c.ci, 1);
  const w = values(c.k * c.k * c.ci * c.co, 2);
  const out = [geometry(c.h, c.k, c.stride, c.pad).out, geometry(c.w, c.k, c.stride, c.pad).out];
  const dy = values(c.n * out[0]! * out[1]! * c.co, 3);
  const [dx, dw] = tf.tidy(() => {
    const xt = tf.tensor4d(x, [c.n, c.h, c.w, c.ci]);
    const wt = tf.tensor4d(w, [c.k, c.k, c.ci, c.co]);
    const dyt = tf.tensor4d(dy, [c.n, out[0]!, out[1]!, c.co]);
    return tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad), dyt)))([xt, wt]);
  });
  return { dw: read(dw!), dx: read(dx!) };
}

/** The values of a tensor, which is then disposed. (tf.tidy must return tensors, not typed arrays: it walks its result element by element.) */
function read(t: tf.Tensor): Float32Array {
  const v = t.dataSync().slice() as Float32Array;
  t.dispose();
  return v;
}

function reference(c: ConvCase) {
  const x = values(c.n * c.h * c.w * c.ci, 1);
  const w = values(c.k * c.k * c.ci * c.co, 2);
  const out = [geometry(c.h, c.k, c.stride, c.pad).out, geometry(c.w, c.k, c.stride, c.pad).out];
  return convGradients(c, x, w, values(c.n * out[0]! * out[1]! * c.co, 3));
}

interface PoolCase {
  shape: [number, number, number, number];
  size: number;
  stride: number;
  pad: 'same' | 'valid';
}
const poolCases: PoolCase[] = [
  { shape: [2, 8, 6, 3], size: 2, stride: 2, pad: 'valid' },
  { shape: [2, 7, 9, 3], size: 2, stride: 2, pad: 'valid' }, // odd sizes: a row and a column no window covers
  { shape: [2, 9, 9, 2], size: 3, stride: 2, pad: 'valid' }, // overlapping windows
  { shape: [1, 7, 8, 4], size: 3, stride: 2, pad: 'same' },
  { shape: [1, 6, 6, 2], size: 2, stride: 1, pad: 'same' },
  // Channels in fours: the SIMD kernel on wasm (even and odd sizes).
  { shape: [2, 8, 6, 8], size: 2, stride: 2, pad: 'valid' },
  { shape: [1, 7, 5, 4], size: 2, stride: 2, pad: 'valid' },
];

/** ReLU-like inputs on a coarse grid: many exact ties (zeros and repeats) inside pooling windows. */
function tiedInput(size: number, seed: number): Float32Array {
  return values(size, seed).map((v) => Math.max(0, Math.round(v * 3)));
}

function poolGrad(c: PoolCase): Float32Array {
  return read(
    tf.tidy(() => {
      const x = tf.tensor4d(tiedInput(c.shape.reduce((a, b) => a * b), 7), c.shape);
      const y = tf.maxPool(x, c.size, c.stride, c.pad);
      const dy = tf.tensor(values(y.size, 8), y.shape);
      return tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, c.size, c.stride, c.pad), dy)))(x);
    }),
  );
}

function matMulGrads(batch: number | null, m: number, k: number, n: number): { da: Float32Array; db: Float32Array; y: Float32Array } {
  const [da, db, y] = tf.tidy(() => {
    const shapeA = batch ? [batch, m, k] : [m, k];
    const shapeB = batch ? [batch, k, n] : [k, n];
    const a = tf.tensor(values(shapeA.reduce((p, q) => p * q), 4), shapeA);
    const b = tf.tensor(values(shapeB.reduce((p, q) => p * q), 5), shapeB);
    const dyShape = batch ? [batch, m, n] : [m, n];
    const dy = tf.tensor(values(dyShape.reduce((p, q) => p * q), 6), dyShape);
    const f = (p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(tf.matMul(p, q), dy));
    const [da, db] = tf.grads(f)([a, b]);
    // And the transposed forms directly: (Bᵀ)ᵀ = B.
    const y = tf.matMul(a, tf.transpose(b, batch ? [0, 2, 1] : [1, 0]), false, true);
    return [da!, db!, y];
  });
  return { da: read(da!), db: read(db!), y: read(y!) };
}

const stockPoolGrads: Float32Array[] = [];

beforeAll(async () => {
  // The stock cpu kernels first (nothing of ours registered yet): they define max-pool tie breaking.
  await import('@tensorflow/tfjs');
  await tf.setBackend('cpu');
  for (const c of poolCases) stockPoolGrads.push(poolGrad(c));
});

afterAll(() => shutdownBackend());

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`gradient kernels on ${backend}`, () => {
    beforeAll(async () => {
      const facts = await initBackend(backend, 1);
      expect(facts.backend).toBe(backend);
    });

    for (const c of convCases) {
      it(`Conv2DBackpropFilter and Conv2DBackpropInput, ${name(c)}`, () => {
        const got = convGradsOnBackend(c);
        const want = reference(c);
        expect(relativeError(got.dw, want.dw)).toBeLessThan(TOL);
        expect(relativeError(got.dx, want.dx)).toBeLessThan(TOL);
      });
    }

    // Only wasm builds im2col buffers (the cpu kernel loops directly): a wasm-only case, not a skipped one.
    if (backend === 'wasm') it('Conv2DBackpropFilter over a batch larger than one im2col buffer (chunked, summed in batch order)', () => {
      const c: ConvCase = { n: 2, h: 64, w: 64, ci: 44, co: 2, k: 7, stride: 1, pad: 'same' }; // 7·7·44·64·64 > 2²³ floats per image
      const got = convGradsOnBackend(c);
      expect(relativeError(got.dw, reference(c).dw)).toBeLessThan(1e-5);
    });

    poolCases.forEach((c, i) => {
      const overlapping = c.stride < c.size;
      it(`MaxPoolGrad ${c.size}×${c.size} stride ${c.stride} ${c.pad} on ${c.shape.join('×')} with ties: same winners as tfjs's cpu kernel`, () => {
        const got = poolGrad(c);
        const want = stockPoolGrads[i]!;
        // The gradient lands on exactly the same inputs (the first maximum of each window) ...
        expect(Array.from(got, (v) => v !== 0)).toEqual(Array.from(want, (v) => v !== 0));
        // ... with the same values: bit-identical where windows do not overlap; where they do, an input
        // that wins several windows sums their dy in another order.
        if (overlapping) expect(relativeError(got, want)).toBeLessThan(TOL);
        else expect(Array.from(got)).toEqual(Array.from(want));
      });
    });

    // The last two: dy·Bᵀ with a big B, computed as (B·dyᵀ)ᵀ.
    // N % 4 == 0 and one product: the SIMD matrix product on wasm (odd M and K: every tile).
    for (const [batch, m, k, n] of [[null, 5, 7, 3], [2, 4, 6, 5], [null, 2, 3, 40], [3, 2, 3, 30], [null, 7, 300, 20], [null, 33, 5, 8]] as const) {
      it(`BatchMatMul gradients (transposed operands) ${batch ? `batch ${batch} ` : ''}${m}×${k}·${k}×${n}`, () => {
        const { da, db, y } = matMulGrads(batch, m, k, n);
        const B = batch ?? 1;
        const a = values(B * m * k, 4);
        const b = values(B * k * n, 5);
        const dy = values(B * m * n, 6);
        for (let i = 0; i < B; i++) {
          const ai = a.subarray(i * m * k, (i + 1) * m * k);
          const bi = b.subarray(i * k * n, (i + 1) * k * n);
          const dyi = dy.subarray(i * m * n, (i + 1) * m * n);
          const bT = new Float32Array(n * k);
          const aT = new Float32Array(k * m);
          for (let p = 0; p < k; p++) for (let q = 0; q < n; q++) bT[q * k + p] = bi[p * n + q]!;
          for (let p = 0; p < m; p++) for (let q = 0; q < k; q++) aT[q * m + p] = ai[p * k + q]!;
          expect(relativeError(da.subarray(i * m * k, (i + 1) * m * k), matMul64(dyi, bT, m, n, k))).toBeLessThan(TOL);
          expect(relativeError(db.subarray(i * k * n, (i + 1) * k * n), matMul64(aT, dyi, k, m, n))).toBeLessThan(TOL);
          expect(relativeError(y.subarray(i * m * n, (i + 1) * m * n), matMul64(ai, bi, m, k, n))).toBeLessThan(TOL);
        }
      });
    }

    it('Sum over leading axes with columns in fours (the SIMD column sums on wasm)', () => {
      const x = values(7 * 3 * 12, 10);
      const got = read(tf.tidy(() => tf.sum(tf.tensor3d(x, [7, 3, 12]), [0, 1])));
      const want = new Float64Array(12);
      for (let i = 0; i < x.length; i++) want[i % 12]! += x[i]!;
      expect(relativeError(got, want)).toBeLessThan(TOL);
    });

    it('Sum over leading axes (bias gradients), with and without keepDims, and over other axes', () => {
      const x = values(2 * 3 * 4 * 5, 9);
      const t = tf.tensor4d(x, [2, 3, 4, 5]);
      const lead = tf.sum(t, [0, 1, 2]);
      const keep = tf.sum(t, [1, 0], true);
      const inner = tf.sum(t, [3]);
      expect(lead.shape).toEqual([5]);
      expect(keep.shape).toEqual([1, 1, 4, 5]);
      const want = new Float64Array(5);
      for (let i = 0; i < x.length; i++) want[i % 5]! += x[i]!;
      expect(relativeError(lead.dataSync(), want)).toBeLessThan(TOL);
      const wantKeep = new Float64Array(20);
      for (let i = 0; i < x.length; i++) wantKeep[i % 20]! += x[i]!;
      expect(relativeError(keep.dataSync(), wantKeep)).toBeLessThan(TOL);
      const wantInner = new Float64Array(24);
      for (let i = 0; i < x.length; i++) wantInner[Math.floor(i / 5)]! += x[i]!;
      expect(relativeError(inner.dataSync(), wantInner)).toBeLessThan(TOL);
      tf.dispose([t, lead, keep, inner]);
    });

    // 60 values: the SIMD kernel on wasm; 63: the plain loop.
    for (const size of [60, 63]) {
      it(`ReLU gradient in one pass (${size} values): dy where x > 0, 0 where x ≤ 0, NaN where x is NaN`, () => {
        const x = values(size, 11).map((v, i) => (i % 7 === 0 ? 0 : i === 5 ? NaN : v)); // exact zeros: the gradient there is 0
        const dy = values(size, 12);
        const got = read(tf.tidy(() => tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.relu(a), tf.tensor1d(dy))))(tf.tensor1d(x))));
        // (+ 0 turns a −0 into 0.)
        expect(Array.from(got, (v) => v + 0)).toEqual(Array.from(x, (v, i) => (Number.isNaN(v) ? NaN : v > 0 ? dy[i]! : 0)));
      });
    }

    it('leaves no tensors behind', () => {
      const before = tf.memory().numTensors;
      convGradsOnBackend(convCases[3]!);
      poolGrad(poolCases[0]!);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}
