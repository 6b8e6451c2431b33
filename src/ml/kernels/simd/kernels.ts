// SIMD kernels in AssemblyScript (compiled by `npm run build` to dist/ml/kernels/simd.wasm; loaded by
// ../simd.ts). The module imports its memory: for the wasm backend's gradient kernels it is tfjs's own, so
// they read and write tensors in place; for the optimiser's update (adamStep, sgdStep) it is an arena of
// the optimiser's. Every pointer is a byte offset in that memory.
// Why our own: XNNPACK (inside tfjs-backend-wasm) repacks the right operand of a matrix product on every
// call, which costs more than the product itself when that operand is new each step, as the operands of
// gradients and the weights of a training model are (measured: 7 ms to pack dy for a 28×28×3→32 filter
// gradient that then takes 3 ms). These kernels read their operands where they lie.
// Sums run in a fixed order (rows, then pixels, in memory order), so results are bit-identical from run
// to run; for the filter gradient and the matrix product the order is XNNPACK's, and so are the bits.
// All data is NHWC float32; callers check the shape conditions stated on each function.

/** Output rows per block: their x and dy rows stay in cache while every (tap, channel tile) passes over them. */
const ROWS: i32 = 8;

@inline function min(a: i32, b: i32): i32 { return a < b ? a : b; }
@inline function max(a: i32, b: i32): i32 { return a > b ? a : b; }

/**
 * Filter gradient of a 2-D convolution, accumulated into dw[KH, KW, CI, CO] (zeroed by the caller):
 * dw[kh, kw, ci, co] += Σ over output pixels p of x[input pixel that tap (kh, kw) meets at p, ci] · dy[p, co].
 * Any stride, dilation and padding; CO % 4 == 0. Tiles of 2 input × 16 output channels keep 8 vector
 * accumulators in registers while the pixels stream by (no im2col buffer).
 */
export function convFilterGrad(
  x: usize, dy: usize, dw: usize,
  N: i32, H: i32, W: i32, CI: i32, OH: i32, OW: i32, CO: i32,
  KH: i32, KW: i32, sh: i32, sw: i32, dh: i32, dwd: i32, pt: i32, pl: i32,
): void {
  const rows = N * OH;
  const xstep = <usize>(sw * CI) << 2;
  const dstep = <usize>CO << 2;
  for (let r0 = 0; r0 < rows; r0 += ROWS) {
    const r1 = min(r0 + ROWS, rows);
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const shift = kw * dwd - pl;
        // Output columns [from, to) meet input columns ow·sw + shift inside [0, W).
        const from = min(OW, max(0, (-shift + sw - 1) / sw));
        const to = max(from, min(OW, (W - shift + sw - 1) / sw));
        if (to <= from) continue;
        const count = to - from;
        const wtap = dw + (<usize>((kh * KW + kw) * CI * CO) << 2);
        let ci = 0;
        for (; ci + 2 <= CI; ci += 2) {
          let co = 0;
          for (; co + 16 <= CO; co += 16) {
            const w0 = wtap + (<usize>(ci * CO + co) << 2);
            const w1 = w0 + dstep;
            let a0 = v128.load(w0), a1 = v128.load(w0, 16), a2 = v128.load(w0, 32), a3 = v128.load(w0, 48);
            let b0 = v128.load(w1), b1 = v128.load(w1, 16), b2 = v128.load(w1, 32), b3 = v128.load(w1, 48);
            for (let r = r0; r < r1; r++) {
              const n = r / OH, oh = r - n * OH;
              const ih = oh * sh + kh * dh - pt;
              if (ih < 0 || ih >= H) continue;
              let xp = x + (<usize>(((n * H + ih) * W + from * sw + shift) * CI + ci) << 2);
              let dp = dy + (<usize>((r * OW + from) * CO + co) << 2);
              for (let i = 0; i < count; i++) {
                const s0 = v128.load32_splat(xp), s1 = v128.load32_splat(xp, 4);
                const d0 = v128.load(dp), d1 = v128.load(dp, 16), d2 = v128.load(dp, 32), d3 = v128.load(dp, 48);
                a0 = f32x4.add(a0, f32x4.mul(s0, d0)); a1 = f32x4.add(a1, f32x4.mul(s0, d1));
                a2 = f32x4.add(a2, f32x4.mul(s0, d2)); a3 = f32x4.add(a3, f32x4.mul(s0, d3));
                b0 = f32x4.add(b0, f32x4.mul(s1, d0)); b1 = f32x4.add(b1, f32x4.mul(s1, d1));
                b2 = f32x4.add(b2, f32x4.mul(s1, d2)); b3 = f32x4.add(b3, f32x4.mul(s1, d3));
                xp += xstep; dp += dstep;
              }
            }
            v128.store(w0, a0); v128.store(w0, a1, 16); v128.store(w0, a2, 32); v128.store(w0, a3, 48);
            v128.store(w1, b0); v128.store(w1, b1, 16); v128.store(w1, b2, 32); v128.store(w1, b3, 48);
          }
          for (; co + 4 <= CO; co += 4) {
            const w0 = wtap + (<usize>(ci * CO + co) << 2);
            const w1 = w0 + dstep;
            let a0 = v128.load(w0), b0 = v128.load(w1);
            for (let r = r0; r < r1; r++) {
              const n = r / OH, oh = r - n * OH;
              const ih = oh * sh + kh * dh - pt;
              if (ih < 0 || ih >= H) continue;
              let xp = x + (<usize>(((n * H + ih) * W + from * sw + shift) * CI + ci) << 2);
              let dp = dy + (<usize>((r * OW + from) * CO + co) << 2);
              for (let i = 0; i < count; i++) {
                const d0 = v128.load(dp);
                a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(xp), d0));
                b0 = f32x4.add(b0, f32x4.mul(v128.load32_splat(xp, 4), d0));
                xp += xstep; dp += dstep;
              }
            }
            v128.store(w0, a0); v128.store(w1, b0);
          }
        }
        for (; ci < CI; ci++) {
          let co = 0;
          for (; co + 16 <= CO; co += 16) {
            const w0 = wtap + (<usize>(ci * CO + co) << 2);
            let a0 = v128.load(w0), a1 = v128.load(w0, 16), a2 = v128.load(w0, 32), a3 = v128.load(w0, 48);
            for (let r = r0; r < r1; r++) {
              const n = r / OH, oh = r - n * OH;
              const ih = oh * sh + kh * dh - pt;
              if (ih < 0 || ih >= H) continue;
              let xp = x + (<usize>(((n * H + ih) * W + from * sw + shift) * CI + ci) << 2);
              let dp = dy + (<usize>((r * OW + from) * CO + co) << 2);
              for (let i = 0; i < count; i++) {
                const s0 = v128.load32_splat(xp);
                a0 = f32x4.add(a0, f32x4.mul(s0, v128.load(dp))); a1 = f32x4.add(a1, f32x4.mul(s0, v128.load(dp, 16)));
                a2 = f32x4.add(a2, f32x4.mul(s0, v128.load(dp, 32))); a3 = f32x4.add(a3, f32x4.mul(s0, v128.load(dp, 48)));
                xp += xstep; dp += dstep;
              }
            }
            v128.store(w0, a0); v128.store(w0, a1, 16); v128.store(w0, a2, 32); v128.store(w0, a3, 48);
          }
          for (; co + 4 <= CO; co += 4) {
            const w0 = wtap + (<usize>(ci * CO + co) << 2);
            let a0 = v128.load(w0);
            for (let r = r0; r < r1; r++) {
              const n = r / OH, oh = r - n * OH;
              const ih = oh * sh + kh * dh - pt;
              if (ih < 0 || ih >= H) continue;
              let xp = x + (<usize>(((n * H + ih) * W + from * sw + shift) * CI + ci) << 2);
              let dp = dy + (<usize>((r * OW + from) * CO + co) << 2);
              for (let i = 0; i < count; i++) {
                a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(xp), v128.load(dp)));
                xp += xstep; dp += dstep;
              }
            }
            v128.store(w0, a0);
          }
        }
      }
    }
  }
}

/** Rows of B per block: a block of B stays in cache while every tile of C passes over it. */
const KC: i32 = 256;

/** C[M, N] = A[M, K] · B[K, N], row-major; N % 4 == 0. Tiles of 2 rows × 16 columns of C. */
export function matMul(a: usize, b: usize, c: usize, M: i32, K: i32, N: i32): void {
  const bstep = <usize>N << 2;
  const astep = <usize>K << 2;
  memory.fill(c, 0, <usize>(M * N) << 2);
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = min(KC, K - k0);
    let m = 0;
    for (; m + 2 <= M; m += 2) {
      let n = 0;
      for (; n + 16 <= N; n += 16) {
        const c0 = c + (<usize>(m * N + n) << 2);
        const c1 = c0 + bstep;
        let a0 = v128.load(c0), a1 = v128.load(c0, 16), a2 = v128.load(c0, 32), a3 = v128.load(c0, 48);
        let b0 = v128.load(c1), b1 = v128.load(c1, 16), b2 = v128.load(c1, 32), b3 = v128.load(c1, 48);
        let ap = a + (<usize>(m * K + k0) << 2);
        let bp = b + (<usize>(k0 * N + n) << 2);
        for (let k = 0; k < kc; k++) {
          const s0 = v128.load32_splat(ap), s1 = v128.load32_splat(ap + astep);
          const d0 = v128.load(bp), d1 = v128.load(bp, 16), d2 = v128.load(bp, 32), d3 = v128.load(bp, 48);
          a0 = f32x4.add(a0, f32x4.mul(s0, d0)); a1 = f32x4.add(a1, f32x4.mul(s0, d1));
          a2 = f32x4.add(a2, f32x4.mul(s0, d2)); a3 = f32x4.add(a3, f32x4.mul(s0, d3));
          b0 = f32x4.add(b0, f32x4.mul(s1, d0)); b1 = f32x4.add(b1, f32x4.mul(s1, d1));
          b2 = f32x4.add(b2, f32x4.mul(s1, d2)); b3 = f32x4.add(b3, f32x4.mul(s1, d3));
          ap += 4; bp += bstep;
        }
        v128.store(c0, a0); v128.store(c0, a1, 16); v128.store(c0, a2, 32); v128.store(c0, a3, 48);
        v128.store(c1, b0); v128.store(c1, b1, 16); v128.store(c1, b2, 32); v128.store(c1, b3, 48);
      }
      for (; n + 4 <= N; n += 4) {
        const c0 = c + (<usize>(m * N + n) << 2);
        const c1 = c0 + bstep;
        let a0 = v128.load(c0), b0 = v128.load(c1);
        let ap = a + (<usize>(m * K + k0) << 2);
        let bp = b + (<usize>(k0 * N + n) << 2);
        for (let k = 0; k < kc; k++) {
          const d0 = v128.load(bp);
          a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(ap), d0));
          b0 = f32x4.add(b0, f32x4.mul(v128.load32_splat(ap + astep), d0));
          ap += 4; bp += bstep;
        }
        v128.store(c0, a0); v128.store(c1, b0);
      }
    }
    for (; m < M; m++) {
      let n = 0;
      for (; n + 16 <= N; n += 16) {
        const c0 = c + (<usize>(m * N + n) << 2);
        let a0 = v128.load(c0), a1 = v128.load(c0, 16), a2 = v128.load(c0, 32), a3 = v128.load(c0, 48);
        let ap = a + (<usize>(m * K + k0) << 2);
        let bp = b + (<usize>(k0 * N + n) << 2);
        for (let k = 0; k < kc; k++) {
          const s0 = v128.load32_splat(ap);
          a0 = f32x4.add(a0, f32x4.mul(s0, v128.load(bp))); a1 = f32x4.add(a1, f32x4.mul(s0, v128.load(bp, 16)));
          a2 = f32x4.add(a2, f32x4.mul(s0, v128.load(bp, 32))); a3 = f32x4.add(a3, f32x4.mul(s0, v128.load(bp, 48)));
          ap += 4; bp += bstep;
        }
        v128.store(c0, a0); v128.store(c0, a1, 16); v128.store(c0, a2, 32); v128.store(c0, a3, 48);
      }
      for (; n + 4 <= N; n += 4) {
        const c0 = c + (<usize>(m * N + n) << 2);
        let a0 = v128.load(c0);
        let ap = a + (<usize>(m * K + k0) << 2);
        let bp = b + (<usize>(k0 * N + n) << 2);
        for (let k = 0; k < kc; k++) {
          a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(ap), v128.load(bp)));
          ap += 4; bp += bstep;
        }
        v128.store(c0, a0);
      }
    }
  }
}

/**
 * Gradient of a 2×2, stride-2 'valid' max-pool (windows tile the input) over NHWC with C % 4 == 0:
 * each window's dy goes to its first tap equal to the window's maximum y (row-major scan order).
 * A window whose maximum is NaN or −∞ gets no gradient. Every element of dx in a window is written.
 */
export function maxPool2x2Grad(x: usize, y: usize, dy: usize, dx: usize, N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32): void {
  const row = <usize>(W * C) << 2;
  const tap = <usize>C << 2;
  const low = f32x4.splat(-Infinity);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const a = <usize>(((n * H + 2 * oh) * W + 2 * ow) * C) << 2;
        const g = <usize>(((n * OH + oh) * OW + ow) * C) << 2;
        for (let c: usize = 0; c < (<usize>C << 2); c += 16) {
          const m = v128.load(y + g + c);
          const gv = v128.and(v128.load(dy + g + c), f32x4.gt(m, low));
          const pa = x + a + c;
          const ea = f32x4.eq(v128.load(pa), m);
          const eb = v128.andnot(f32x4.eq(v128.load(pa + tap), m), ea);
          const seen = v128.or(ea, eb);
          const ec = v128.andnot(f32x4.eq(v128.load(pa + row), m), seen);
          const ed = v128.not(v128.or(seen, ec));
          const qa = dx + a + c;
          v128.store(qa, v128.and(gv, ea));
          v128.store(qa + tap, v128.and(gv, eb));
          v128.store(qa + row, v128.and(gv, ec));
          v128.store(qa + row + tap, v128.and(gv, ed));
        }
      }
    }
  }
}

/** ReLU gradient dy·step(x): dy where x > 0, 0 where x ≤ 0, NaN where x is NaN (size % 4 == 0). */
export function reluGrad(dy: usize, x: usize, out: usize, size: i32): void {
  const zero = f32x4.splat(0);
  const end = <usize>size << 2;
  for (let i: usize = 0; i < end; i += 16) {
    const xv = v128.load(x + i);
    v128.store(out + i, v128.or(v128.and(v128.load(dy + i), f32x4.gt(xv, zero)), v128.and(xv, f32x4.ne(xv, xv))));
  }
}

/** out[c] = Σ_r x[r, c] for a row-major [rows, cols] matrix with cols % 4 == 0, rows summed in order. */
export function columnSums(x: usize, out: usize, rows: i32, cols: i32): void {
  const width = <usize>cols << 2;
  memory.fill(out, 0, width);
  let p = x;
  for (let r = 0; r < rows; r++) {
    for (let c: usize = 0; c < width; c += 16) v128.store(out + c, f32x4.add(v128.load(out + c), v128.load(p + c)));
    p += width;
  }
}

/**
 * One Adam step over n weights in place (PyTorch's rule, coupled L2 weight decay wd):
 * g' = g + wd·w; m = β1·m + (1−β1)·g'; s = β2·s + (1−β2)·g'²; w −= (lr/c1) · m / (√s/c2 + ε),
 * with c1 = 1 − β1ᵗ and c2 = √(1 − β2ᵗ). Float32 throughout, as torch.optim; the constants (lr/c1,
 * 1 − β1, 1 − β2) come computed in float64 and rounded once, as PyTorch's Python scalars are.
 */
export function adamStep(w: usize, g: usize, m: usize, s: usize, n: i32, stepSize: f32, beta1: f32, oneMinusBeta1: f32, beta2: f32, oneMinusBeta2: f32, c2: f32, eps: f32, wd: f32): void {
  const b1 = f32x4.splat(beta1), nb1 = f32x4.splat(oneMinusBeta1);
  const b2 = f32x4.splat(beta2), nb2 = f32x4.splat(oneMinusBeta2);
  const step = f32x4.splat(stepSize), corr = f32x4.splat(c2), e4 = f32x4.splat(eps), wd4 = f32x4.splat(wd);
  const end = <usize>(n & ~3) << 2;
  for (let i: usize = 0; i < end; i += 16) {
    const wv = v128.load(w + i);
    const gv = f32x4.add(v128.load(g + i), f32x4.mul(wd4, wv));
    const mv = f32x4.add(f32x4.mul(b1, v128.load(m + i)), f32x4.mul(nb1, gv));
    const sv = f32x4.add(f32x4.mul(b2, v128.load(s + i)), f32x4.mul(nb2, f32x4.mul(gv, gv)));
    v128.store(m + i, mv);
    v128.store(s + i, sv);
    v128.store(w + i, f32x4.sub(wv, f32x4.mul(step, f32x4.div(mv, f32x4.add(f32x4.div(f32x4.sqrt(sv), corr), e4)))));
  }
  for (let i = end; i < (<usize>n << 2); i += 4) {
    const wv = load<f32>(w + i);
    const gv = load<f32>(g + i) + wd * wv;
    const mv = beta1 * load<f32>(m + i) + oneMinusBeta1 * gv;
    const sv = beta2 * load<f32>(s + i) + oneMinusBeta2 * gv * gv;
    store<f32>(m + i, mv);
    store<f32>(s + i, sv);
    store<f32>(w + i, wv - stepSize * (mv / (Mathf.sqrt(sv) / c2 + eps)));
  }
}

/**
 * One SGD step over n weights in place (PyTorch's rule): g' = g + wd·w; with momentum μ > 0,
 * v = μ·v + g' and the step is v (or g' + μ·v, Nesterov); w −= lr · step. v is unused when μ = 0.
 */
export function sgdStep(w: usize, g: usize, v: usize, n: i32, lr: f32, momentum: f32, nesterov: i32, wd: f32): void {
  const lr4 = f32x4.splat(lr), mu = f32x4.splat(momentum), wd4 = f32x4.splat(wd);
  const end = <usize>(n & ~3) << 2;
  for (let i: usize = 0; i < end; i += 16) {
    const wv = v128.load(w + i);
    const gv = f32x4.add(v128.load(g + i), f32x4.mul(wd4, wv));
    let direction = gv;
    if (momentum > 0) {
      const vv = f32x4.add(f32x4.mul(mu, v128.load(v + i)), gv);
      v128.store(v + i, vv);
      direction = nesterov ? f32x4.add(gv, f32x4.mul(mu, vv)) : vv;
    }
    v128.store(w + i, f32x4.sub(wv, f32x4.mul(lr4, direction)));
  }
  for (let i = end; i < (<usize>n << 2); i += 4) {
    const wv = load<f32>(w + i);
    const gv = load<f32>(g + i) + wd * wv;
    let direction = gv;
    if (momentum > 0) {
      const vv = momentum * load<f32>(v + i) + gv;
      store<f32>(v + i, vv);
      direction = nesterov ? gv + momentum * vv : vv;
    }
    store<f32>(w + i, wv - lr * direction);
  }
}
