// The plain-JS loops behind our gradient kernels, shared by the cpu and the wasm backends (on the wasm
// backend they run directly on views of its heap). Everything is NHWC and float32. Each loop visits
// its elements in one fixed order, so a result is bit-identical from run to run.
import type { backend_util } from '@tensorflow/tfjs-core';

type ConvInfo = backend_util.Conv2DInfo;

/**
 * im2col, written transposed: row k = (kh·KW + kw)·CI + ci of `out` holds, for every output pixel
 * p = (n·OH + oh)·OW + ow of images [n0, n0+count), the input value that filter tap meets there
 * (0 in the padding). With this layout the filter gradient is one plain matrix product,
 * dW[K, CO] = colsᵀ[K, P] · dy[P, CO], with no transpose of either operand.
 * The input comes as channel planes, x transposed to [CI, N, H, W]: each row of `out` is then a
 * shifted copy of one plane, read and written in order (reading NHWC directly jumps CI floats per
 * element and runs several times slower).
 */
export function im2colTransposed(planes: Float32Array, info: ConvInfo, n0: number, count: number, out: Float32Array): void {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: CI, outHeight: OH, outWidth: OW, filterHeight: KH, filterWidth: KW } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const P = count * OH * OW;
  if (sh === 1 && sw === 1 && OH === H && OW === W) {
    im2colTransposedSame(planes, info, n0, count, out);
    return;
  }
  for (let kh = 0; kh < KH; kh++) {
    for (let kw = 0; kw < KW; kw++) {
      // Input column of output column ow is ow·sw + shift; it lies inside the image for ow in [from, to).
      const shift = kw * dw - pl;
      const from = Math.min(OW, Math.max(0, Math.ceil(-shift / sw)));
      const to = Math.max(from, Math.min(OW, Math.ceil((W - shift) / sw)));
      for (let ci = 0; ci < CI; ci++) {
        let p = ((kh * KW + kw) * CI + ci) * P;
        for (let n = n0; n < n0 + count; n++) {
          const plane = (ci * N + n) * H * W;
          for (let oh = 0; oh < OH; oh++, p += OW) {
            const ih = oh * sh + kh * dh - pt;
            if (ih < 0 || ih >= H) {
              for (let ow = 0; ow < OW; ow++) out[p + ow] = 0;
              continue;
            }
            const src = plane + ih * W + shift;
            for (let ow = 0; ow < from; ow++) out[p + ow] = 0;
            for (let ow = from; ow < to; ow++) out[p + ow] = planes[src + ow * sw]!;
            for (let ow = to; ow < OW; ow++) out[p + ow] = 0;
          }
        }
      }
    }
  }
}

/**
 * Stride 1 with output size = input size ('same'): in flat (n, h, w) order, a row of colsᵀ is the
 * channel plane shifted by δ = dH·W + dW, so it is one block copy; then the taps that fall in the
 * padding (rows past the top or bottom of their image, columns that wrapped into the next row) are
 * zeroed. Several times faster than gathering element by element.
 */
function im2colTransposedSame(planes: Float32Array, info: ConvInfo, n0: number, count: number, out: Float32Array): void {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: CI, filterHeight: KH, filterWidth: KW, dilationHeight: dh, dilationWidth: dw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const Q = count * H * W;
  for (let kh = 0; kh < KH; kh++) {
    const dH = kh * dh - pt;
    for (let kw = 0; kw < KW; kw++) {
      const dW = kw * dw - pl;
      const delta = dH * W + dW;
      const lo = Math.min(Q, Math.max(0, -delta));
      const hi = Math.max(lo, Math.min(Q, Q - delta));
      for (let ci = 0; ci < CI; ci++) {
        const row = ((kh * KW + kw) * CI + ci) * Q;
        const src = (ci * N + n0) * H * W + delta;
        out.fill(0, row, row + lo);
        out.set(planes.subarray(src + lo, src + hi), row + lo);
        out.fill(0, row + hi, row + Q);
        // (Plain loops: these runs are a few elements long, shorter than a fill() call's overhead.)
        const left = Math.min(W, Math.max(0, -dW));
        const right = W - Math.min(W, Math.max(0, dW));
        for (let n = 0; n < count; n++) {
          for (let oh = 0; oh < H; oh++) {
            const at = row + (n * H + oh) * W;
            if (oh + dH < 0 || oh + dH >= H) {
              for (let i = at; i < at + W; i++) out[i] = 0;
            } else {
              for (let i = at; i < at + left; i++) out[i] = 0;
              for (let i = at + right; i < at + W; i++) out[i] = 0;
            }
          }
        }
      }
    }
  }
}

/**
 * The filter of the input gradient as a forward convolution: W'[kh, kw, co, ci] = W[KH−1−kh, KW−1−kw, ci, co]
 * (rotated 180° in space, input and output channels swapped).
 */
export function flipFilter(w: Float32Array, KH: number, KW: number, CI: number, CO: number, out: Float32Array): void {
  for (let kh = 0; kh < KH; kh++) {
    for (let kw = 0; kw < KW; kw++) {
      const src = ((KH - 1 - kh) * KW + (KW - 1 - kw)) * CI * CO;
      const dst = (kh * KW + kw) * CO * CI;
      for (let ci = 0; ci < CI; ci++) {
        for (let co = 0; co < CO; co++) out[dst + co * CI + ci] = w[src + ci * CO + co];
      }
    }
  }
}

/**
 * dy of a strided convolution spread back onto the stride-1 grid: zeros between the rows and columns,
 * shape [N, (OH−1)·sh+1, (OW−1)·sw+1, C]. A stride-1 convolution of it is the input gradient.
 */
export function insertZeros(dy: Float32Array, N: number, OH: number, OW: number, C: number, sh: number, sw: number, out: Float32Array): void {
  const DH = (OH - 1) * sh + 1;
  const DW = (OW - 1) * sw + 1;
  out.fill(0);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const src = ((n * OH + oh) * OW + ow) * C;
        const dst = ((n * DH + oh * sh) * DW + ow * sw) * C;
        for (let c = 0; c < C; c++) out[dst + c] = dy[src + c];
      }
    }
  }
}

/**
 * Max-pool gradient (x the input, y the forward output): each output's dy goes to the first maximum of its window, scanning rows then
 * columns with a strict '>' (tfjs's cpu kernel does the same, which matters on ties such as ReLU zeros).
 * Every element of `dx` is written.
 */
export function maxPoolBackprop(x: Float32Array, y: Float32Array, dy: Float32Array, info: ConvInfo, dx: Float32Array): void {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  if (KH === 2 && KW === 2 && sh === 2 && sw === 2 && dh === 1 && dw === 1 && pt === 0 && pl === 0 && 2 * OH <= H && 2 * OW <= W) {
    // Windows tile the input: each element gets its value written once; only an odd last row or
    // column, which no window covers, needs zeros.
    if (2 * OH !== H || 2 * OW !== W) dx.fill(0);
    maxPool2x2Backprop(x, y, dy, N, H, W, C, OH, OW, dx);
    return;
  }
  dx.fill(0);
  const best = new Float32Array(C);
  const arg = new Int32Array(C);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        best.fill(-Infinity);
        arg.fill(-1);
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * sh + kh * dh - pt;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * sw + kw * dw - pl;
            if (iw < 0 || iw >= W) continue;
            const base = ((n * H + ih) * W + iw) * C;
            for (let c = 0; c < C; c++) {
              const v = x[base + c];
              if (v > best[c]) {
                best[c] = v;
                arg[c] = base + c;
              }
            }
          }
        }
        const dyBase = ((n * OH + oh) * OW + ow) * C;
        for (let c = 0; c < C; c++) if (arg[c] >= 0) dx[arg[c]] += dy[dyBase + c];
      }
    }
  }
}

/**
 * The common 2×2/2 'valid' pool: windows tile the input, so each element is written once. The forward
 * output y (the window maxima, exact copies of input values) tells the winner: the first tap equal to it,
 * which is the first maximum. Twice as fast as scanning; windows whose maximum is NaN or −∞ use the scan.
 */
function maxPool2x2Backprop(x: Float32Array, y: Float32Array, dy: Float32Array, N: number, H: number, W: number, C: number, OH: number, OW: number, dx: Float32Array): void {
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const a = ((n * H + 2 * oh) * W + 2 * ow) * C;
        const b = a + C;
        const c0 = a + W * C;
        const d = c0 + C;
        const g = ((n * OH + oh) * OW + ow) * C;
        for (let c = 0; c < C; c++) {
          const m = y[g + c]!;
          const gv = dy[g + c]!;
          let at: number;
          if (m > -Infinity) at = x[a + c] === m ? 0 : x[b + c] === m ? 1 : x[c0 + c] === m ? 2 : 3;
          else {
            // First value > −∞ that beats all before it, in scan order (the general loop's rule).
            let best = -Infinity;
            at = -1;
            const taps = [a, b, c0, d];
            for (let t = 0; t < 4; t++) {
              if (x[taps[t]! + c]! > best) {
                best = x[taps[t]! + c]!;
                at = t;
              }
            }
          }
          dx[a + c] = at === 0 ? gv : 0;
          dx[b + c] = at === 1 ? gv : 0;
          dx[c0 + c] = at === 2 ? gv : 0;
          dx[d + c] = at === 3 ? gv : 0;
        }
      }
    }
  }
}

/** ReLU gradient: dy where x > 0, 0 where x ≤ 0, NaN where x is NaN (as dy·step(x)). */
export function reluBackprop(dy: Float32Array, x: Float32Array, out: Float32Array): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    out[i] = v > 0 ? dy[i]! : v !== v ? v : 0;
  }
}

/**
 * A Sum over the leading axes only (what bias gradients need) seen as `rows × cols`, or null for any
 * other Sum, which the backend's own kernel keeps. `axes` as tf.util.parseAxisParam returns them.
 */
export function leadingAxesSum(shape: number[], axes: number[], keepDims: boolean): { rows: number; cols: number; outShape: number[] } | null {
  const sorted = [...axes].sort((p, q) => p - q);
  if (sorted.length === 0 || sorted.length >= shape.length || !sorted.every((ax, i) => ax === i)) return null;
  const kept = shape.slice(sorted.length);
  const size = (dims: number[]) => dims.reduce((a, b) => a * b, 1);
  return { rows: size(shape.slice(0, sorted.length)), cols: size(kept), outShape: keepDims ? [...sorted.map(() => 1), ...kept] : kept };
}

/**
 * Column sums of a row-major [rows, cols] matrix (a bias gradient), accumulated in float64, four rows
 * at a time (half the time of one row at a time: fewer accumulator loads and stores).
 */
export function sumRows(x: Float32Array, rows: number, cols: number, out: Float32Array): void {
  const acc = new Float64Array(cols);
  let r = 0;
  for (; r + 3 < rows; r += 4) {
    const b0 = r * cols;
    const b1 = b0 + cols;
    const b2 = b1 + cols;
    const b3 = b2 + cols;
    for (let c = 0; c < cols; c++) acc[c]! += x[b0 + c]! + x[b1 + c]! + (x[b2 + c]! + x[b3 + c]!);
  }
  for (; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) acc[c]! += x[base + c]!;
  }
  out.set(acc);
}

/**
 * The filter gradient directly, for backends without a fast matrix product (cpu): for every output
 * pixel and filter tap, a rank-1 update dW[tap, ci, :] += x[ci] · dy[:] whose inner loop runs over
 * contiguous output channels. `dw` must be zeroed by the caller.
 */
export function conv2dBackpropFilterLoops(x: Float32Array, dy: Float32Array, info: ConvInfo, dw: Float32Array): void {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: CI, outHeight: OH, outWidth: OW, outChannels: CO } = info;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dwl } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const dyBase = ((n * OH + oh) * OW + ow) * CO;
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * sh + kh * dh - pt;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * sw + kw * dwl - pl;
            if (iw < 0 || iw >= W) continue;
            const xBase = ((n * H + ih) * W + iw) * CI;
            const wBase = (kh * KW + kw) * CI * CO;
            for (let ci = 0; ci < CI; ci++) {
              const xv = x[xBase + ci];
              if (xv === 0) continue; // ReLU outputs are often 0: skipping them changes no sum
              const o = wBase + ci * CO;
              for (let co = 0; co < CO; co++) dw[o + co] += xv * dy[dyBase + co];
            }
          }
        }
      }
    }
  }
}
