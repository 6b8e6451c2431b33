// Float64 reference implementations straight from the definitions (no tfjs), and small helpers,
// for checking our gradient kernels.
export type Pad = 'same' | 'valid' | number;

export interface ConvCase {
  n: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  k: number;
  stride: number;
  pad: Pad;
}

/** Output size and leading padding exactly as TensorFlow defines them. */
export function geometry(size: number, k: number, stride: number, pad: Pad): { out: number; before: number } {
  if (pad === 'valid') return { out: Math.ceil((size - k + 1) / stride), before: 0 };
  if (pad === 'same') {
    const out = Math.ceil(size / stride);
    const total = Math.max(0, (out - 1) * stride + k - size);
    return { out, before: Math.floor(total / 2) };
  }
  return { out: Math.floor((size + 2 * pad - k) / stride) + 1, before: pad };
}

/** A deterministic pseudo-random vector in [-1, 1) (LCG), so cases need no seeded tfjs RNG. */
export function values(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** dW and dx of y = conv2d(x, W) for an upstream gradient dy, in float64. */
export function convGradients(c: ConvCase, x: Float32Array, w: Float32Array, dy: Float32Array): { dw: Float64Array; dx: Float64Array } {
  const gh = geometry(c.h, c.k, c.stride, c.pad);
  const gw = geometry(c.w, c.k, c.stride, c.pad);
  const dw = new Float64Array(c.k * c.k * c.ci * c.co);
  const dx = new Float64Array(c.n * c.h * c.w * c.ci);
  for (let n = 0; n < c.n; n++)
    for (let oh = 0; oh < gh.out; oh++)
      for (let ow = 0; ow < gw.out; ow++)
        for (let kh = 0; kh < c.k; kh++)
          for (let kw = 0; kw < c.k; kw++) {
            const ih = oh * c.stride + kh - gh.before;
            const iw = ow * c.stride + kw - gw.before;
            if (ih < 0 || ih >= c.h || iw < 0 || iw >= c.w) continue;
            for (let ci = 0; ci < c.ci; ci++)
              for (let co = 0; co < c.co; co++) {
                const g = dy[((n * gh.out + oh) * gw.out + ow) * c.co + co]!;
                const xi = ((n * c.h + ih) * c.w + iw) * c.ci + ci;
                const wi = ((kh * c.k + kw) * c.ci + ci) * c.co + co;
                dw[wi]! += x[xi]! * g;
                dx[xi]! += w[wi]! * g;
              }
          }
  return { dw, dx };
}

export function matMul64(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) out[i * n + j]! += a[i * k + p]! * b[p * n + j]!;
  return out;
}

/** Largest |got − want| relative to the largest |want| (≥ 1e-30): one number per comparison. */
export function relativeError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) return Infinity;
  let err = 0;
  let scale = 1e-30;
  for (let i = 0; i < want.length; i++) {
    err = Math.max(err, Math.abs(got[i]! - want[i]!));
    scale = Math.max(scale, Math.abs(want[i]!));
  }
  return err / scale;
}
