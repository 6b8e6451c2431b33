/* Native kernels for the wasm backend's convolutions and matrix products, compiled once per code path
 * (scripts/build-native.sh): VW = 1 (scalar), 8 (AVX2), 16 (AVX-512), with -ffp-contract=off and no
 * fast-math. Why they give the wasm path's bits on every path: each output is ONE sum, started at +0,
 * over k ascending (for a convolution: taps (kh, kw) row-major, then input channels; for the filter
 * gradient: output rows, then columns), each term a product rounded on its own then added (no FMA).
 * Tiles split only outputs; a block along k stores its partial sum in the output and the next block
 * carries on from it, which rounds nothing. That is the order of XNNPACK's convolution (forward, and the
 * input gradient the wasm path computes as a convolution of dy), of its and our SIMD matrix products,
 * and of our SIMD filter gradient (src/ml/kernels/simd/kernels.ts), so the results are identical.
 * Padding taps read a buffer of zeros, as XNNPACK's do: +0 · w added to a sum that started at +0 leaves
 * it unchanged, and Inf · 0 gives the same NaN. The filter gradient skips taps outside the image, as
 * the SIMD kernel does. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include "kernels.h"

#if !defined(VW) || !defined(SUFFIX)
#error "compile with -DVW=<floats per vector> -DSUFFIX=<code path>"
#endif
#define CAT2(a, b) a##_##b
#define CAT(a, b) CAT2(a, b)
#define FN(name) CAT(name, SUFFIX)

#if VW == 1
typedef float vf;
#define VZERO 0.0f
#else
/* aligned(4): tensors on the wasm heap are 4-byte aligned only. */
typedef float vf __attribute__((vector_size(VW * 4), aligned(4), may_alias));
#define VZERO ((vf){0})
#endif

/* Rows (pixels, or input channels for the filter gradient) × vectors of output columns per tile:
 * 8 independent accumulators hide the latency of the adds. */
#define MR 4
#define NV 2
/* Rows of B per block of a matrix product, and output rows per block of the filter gradient: the block
 * stays in cache while every tile passes over it. */
#define KC 256
#define ROWS 8
/* Segments of one tile: taps of a convolution (at most 8×8), rows of a filter-gradient block. */
#define MAX_SEGS 64

#define INLINE static inline __attribute__((always_inline))

/* One tile: c[i, j] (+)= Σ_t Σ_k a[i][t][k·as] · b[t][k·ldb + j] for mr rows, nv vectors of columns
 * (or nv single columns in the scalar tile). carry: start from c (a previous block's partial sum). */
#define DEFINE_TILE(NAME, T, WIDTH, ZERO)                                                                  \
  INLINE void NAME(const int mr, const int nv, const float *const *a, const float *const *b, int segs,    \
                   int K, ptrdiff_t as, ptrdiff_t ldb, float *c, ptrdiff_t ldc, int carry) {             \
    T acc[MR][NV];                                                                                         \
    for (int i = 0; i < mr; i++)                                                                           \
      for (int j = 0; j < nv; j++) acc[i][j] = carry ? *(const T *)(c + i * ldc + j * WIDTH) : ZERO;       \
    for (int t = 0; t < segs; t++) {                                                                       \
      const float *ap[MR];                                                                                 \
      for (int i = 0; i < mr; i++) ap[i] = a[i * segs + t];                                                \
      const float *bp = b[t];                                                                              \
      for (int k = 0; k < K; k++) {                                                                        \
        T bv[NV];                                                                                          \
        for (int j = 0; j < nv; j++) bv[j] = *(const T *)(bp + j * WIDTH);                                 \
        for (int i = 0; i < mr; i++) {                                                                     \
          const float s = ap[i][k * as];                                                                   \
          for (int j = 0; j < nv; j++) acc[i][j] = acc[i][j] + bv[j] * s;                                  \
        }                                                                                                  \
        bp += ldb;                                                                                         \
      }                                                                                                    \
    }                                                                                                      \
    for (int i = 0; i < mr; i++)                                                                           \
      for (int j = 0; j < nv; j++) *(T *)(c + i * ldc + j * WIDTH) = acc[i][j];                            \
  }

typedef float sf __attribute__((aligned(4), may_alias));
DEFINE_TILE(vtile, vf, VW, VZERO)
DEFINE_TILE(stile, sf, 1, 0.0f)

/* Bit selections, not arithmetic: the results are copies of input bits, the same on every path. */
static inline uint32_t bits(float v) {
  uint32_t u;
  memcpy(&u, &v, 4);
  return u;
}
static inline float from_bits(uint32_t u) {
  float v;
  memcpy(&v, &u, 4);
  return v;
}

/* Masks over VW lanes: a comparison of vectors gives all-ones or zero per lane; of scalars, 1 or 0. */
#if VW == 1
typedef uint32_t __attribute__((aligned(4), may_alias)) vu;
#define MASK(c) ((c) ? ~0u : 0u)
#else
typedef uint32_t vu __attribute__((vector_size(VW * 4), aligned(4), may_alias));
typedef int32_t vs __attribute__((vector_size(VW * 4), aligned(4), may_alias));
#define MASK(c) ((vu)(c))
#endif

/* Whether any lane of a mask is set. */
static inline int any_lane(vu m) {
#if VW == 1
  return m != 0;
#else
  for (int i = 0; i < VW; i++)
    if (m[i]) return 1;
  return 0;
#endif
}

/* Columns [n, n+width) of every row tile: b and c shifted by n. */
INLINE void column_tile(const int vector, const int nv, int m, const float *const *a, const float *const *b, int segs, int K,
                        ptrdiff_t as, ptrdiff_t ldb, float *c, ptrdiff_t ldc, int carry, int n) {
  const float *bs[MAX_SEGS];
  for (int t = 0; t < segs; t++) bs[t] = b[t] + n;
  int i = 0;
  for (; i + MR <= m; i += MR) {
    if (vector) vtile(MR, nv, a + i * segs, bs, segs, K, as, ldb, c + i * ldc + n, ldc, carry);
    else stile(MR, nv, a + i * segs, bs, segs, K, as, ldb, c + i * ldc + n, ldc, carry);
  }
  for (; i < m; i++) {
    if (vector) vtile(1, nv, a + i * segs, bs, segs, K, as, ldb, c + i * ldc + n, ldc, carry);
    else stile(1, nv, a + i * segs, bs, segs, K, as, ldb, c + i * ldc + n, ldc, carry);
  }
}

/* c[m rows, N columns] (+)= the tiles above; a holds m × segs row pointers, b segs column-0 pointers. */
static void panel(int m, const float *const *a, const float *const *b, int segs, int K, ptrdiff_t as, ptrdiff_t ldb,
                  float *c, ptrdiff_t ldc, int N, int carry) {
  int n = 0;
  for (; n + NV * VW <= N; n += NV * VW) column_tile(1, NV, m, a, b, segs, K, as, ldb, c, ldc, carry, n);
  for (; n + VW <= N; n += VW) column_tile(1, 1, m, a, b, segs, K, as, ldb, c, ldc, carry, n);
  for (; n < N; n++) column_tile(0, 1, m, a, b, segs, K, as, ldb, c, ldc, carry, n);
}

/* The input row (or column) that output position o meets through tap k, or -1 where it meets padding or
 * a zero of the spread input: out[o * K + k], computed once per call (no division per tile). */
static int *taps_table(int O, int K, int stride, int dilation, int pad, int in, int spread) {
  int *out = malloc(sizeof(int) * ((size_t)O * K + 1));
  if (!out) return NULL;
  const int extent = (in - 1) * spread + 1; /* rows 0, spread, 2·spread… hold the input's rows */
  for (int o = 0; o < O; o++)
    for (int k = 0; k < K; k++) {
      const int r = o * stride + k * dilation - pad;
      out[o * K + k] = r >= 0 && r < extent && r % spread == 0 ? r / spread : -1;
    }
  return out;
}

/* A bias and ReLU on the m × CO outputs a tile of pixels just wrote (still in cache): y = relu(y + b),
 * one IEEE addition and ReLU as tfjs's wasm Relu computes it — the sign bit decides, so −0, negatives
 * and NaNs with the sign bit set give +0 and a NaN without it passes unchanged. Returns whether any
 * y + b was NaN (the caller then takes the unfused path, whose gradient sees the pre-activation). */
static int bias_relu(float *y, const float *b, ptrdiff_t m, int CO) {
  vu nan = {0};
  for (ptrdiff_t r = 0; r < m; r++) {
    float *yr = y + r * CO;
    int c = 0;
#if VW > 1
    for (; c + VW <= CO; c += VW) {
      const vf pre = *(const vf *)(yr + c) + *(const vf *)(b + c);
      nan |= MASK(pre != pre);
      const vu u = (vu)pre;
      *(vu *)(yr + c) = u & ~MASK((vs)u < (vs){0});
    }
#endif
    for (; c < CO; c++) {
      const float pre = yr[c] + b[c];
      const uint32_t u = bits(pre);
      nan |= pre != pre ? ~0u : 0u;
      yr[c] = from_bits((int32_t)u < 0 ? 0u : u);
    }
  }
  return any_lane(nan);
}

/* y = x ⊛ f, then (bias != NULL) relu(y + bias) tile by tile; *nan_seen as bias_relu returns it. */
static int conv(const float *x, const float *f, float *y, const conv_geometry *g, const float *bias, int *nan_seen) {
  const int T = g->KH * g->KW;
  if (T > MAX_SEGS) return -2;
  const float *a[MR * MAX_SEGS];
  const float *b[MAX_SEGS];
  float *zero = calloc(g->C > 0 ? g->C : 1, sizeof(float));
  int *rows = taps_table(g->OH, g->KH, g->sh, g->dh, g->pt, g->H, g->uh);
  int *cols = taps_table(g->OW, g->KW, g->sw, g->dw, g->pl, g->W, g->uw);
  if (!zero || !rows || !cols) {
    free(zero), free(rows), free(cols);
    return -1;
  }
  for (int t = 0; t < T; t++) b[t] = f + (ptrdiff_t)t * g->C * g->CO;
  /* Output pixels in memory order, MR at a time across row and image ends (y's rows are pixels), so
   * that only the very last tile is short. */
  const ptrdiff_t pixels = (ptrdiff_t)g->N * g->OH * g->OW;
  int n = 0, oh = 0, ow = 0;
  for (ptrdiff_t p0 = 0; p0 < pixels; p0 += MR) {
    const int m = pixels - p0 < MR ? (int)(pixels - p0) : MR;
    for (int i = 0; i < m; i++) {
      const int *ih = rows + oh * g->KH, *iw = cols + ow * g->KW;
      for (int kh = 0; kh < g->KH; kh++) {
        const ptrdiff_t row = ((ptrdiff_t)n * g->H + ih[kh]) * g->W;
        for (int kw = 0; kw < g->KW; kw++)
          a[i * T + kh * g->KW + kw] = ih[kh] >= 0 && iw[kw] >= 0 ? x + (row + iw[kw]) * g->C : zero;
      }
      if (++ow == g->OW) {
        ow = 0;
        if (++oh == g->OH) oh = 0, n++;
      }
    }
    panel(m, a, b, T, g->C, 1, g->CO, y + p0 * g->CO, g->CO, g->CO, 0);
    if (bias) *nan_seen |= bias_relu(y + p0 * g->CO, bias, m, g->CO);
  }
  free(zero), free(rows), free(cols);
  return 0;
}

int FN(repro_conv)(const float *x, const float *f, float *y, const conv_geometry *g) { return conv(x, f, y, g, NULL, NULL); }

/* relu(x ⊛ f + bias): returns -1/-2 as repro_conv, else 1 where some x ⊛ f + bias was NaN, else 0. */
int FN(repro_conv_bias_relu)(const float *x, const float *f, const float *bias, float *y, const conv_geometry *g) {
  int nan_seen = 0;
  const int rc = conv(x, f, y, g, bias, &nan_seen);
  return rc != 0 ? rc : nan_seen;
}

static int imin(int a, int b) { return a < b ? a : b; }
static int imax(int a, int b) { return a > b ? a : b; }

int FN(repro_filter_grad)(const float *x, const float *dy, float *dw, const conv_geometry *g) {
  const int C = g->C, CO = g->CO;
  memset(dw, 0, sizeof(float) * (size_t)g->KH * g->KW * C * CO);
  const int rows = g->N * g->OH;
  const float *xrow[ROWS];
  const float *b[ROWS];
  const float *a[MR * ROWS];
  for (int r0 = 0; r0 < rows; r0 += ROWS) {
    const int r1 = imin(r0 + ROWS, rows);
    for (int kh = 0; kh < g->KH; kh++) {
      for (int kw = 0; kw < g->KW; kw++) {
        const int shift = kw * g->dw - g->pl;
        /* Output columns [from, to) meet input columns ow·sw + shift inside [0, W). */
        const int from = imin(g->OW, imax(0, (-shift + g->sw - 1) / g->sw));
        const int to = imax(from, imin(g->OW, (g->W - shift + g->sw - 1) / g->sw));
        if (to <= from) continue;
        int segs = 0;
        for (int r = r0; r < r1; r++) {
          const int n = r / g->OH, oh = r - n * g->OH;
          const int ih = oh * g->sh + kh * g->dh - g->pt;
          if (ih < 0 || ih >= g->H) continue;
          xrow[segs] = x + ((ptrdiff_t)(n * g->H + ih) * g->W + (ptrdiff_t)from * g->sw + shift) * C;
          b[segs] = dy + ((ptrdiff_t)r * g->OW + from) * CO;
          segs++;
        }
        if (segs == 0) continue;
        float *wtap = dw + (ptrdiff_t)(kh * g->KW + kw) * C * CO;
        for (int ci0 = 0; ci0 < C; ci0 += MR) {
          const int m = imin(MR, C - ci0);
          for (int i = 0; i < m; i++)
            for (int s = 0; s < segs; s++) a[i * segs + s] = xrow[s] + ci0 + i;
          panel(m, a, b, segs, to - from, (ptrdiff_t)g->sw * C, CO, wtap + (ptrdiff_t)ci0 * CO, CO, CO, 1);
        }
      }
    }
  }
  return 0;
}

/* dst[cols, rows] = src[rows, cols]ᵀ, in blocks (a plain loop would write with a stride of a whole row). */
static void transpose(const float *src, float *dst, int rows, int cols) {
  for (int r0 = 0; r0 < rows; r0 += 32)
    for (int c0 = 0; c0 < cols; c0 += 32)
      for (int r = r0; r < imin(r0 + 32, rows); r++)
        for (int c = c0; c < imin(c0 + 32, cols); c++) dst[(ptrdiff_t)c * rows + r] = src[(ptrdiff_t)r * cols + c];
}

/* c[M, N] = a · b where row m of a has its k-th value at a[m·ra + k·as] and b is [K, N] row-major. */
static int product(const float *a, ptrdiff_t ra, ptrdiff_t as, const float *b, float *c, int M, int K, int N) {
  const float **rows = malloc(sizeof(float *) * (size_t)M);
  if (!rows) return -1;
  for (int k0 = 0; k0 < K; k0 += KC) {
    const int kc = imin(KC, K - k0);
    for (int m = 0; m < M; m++) rows[m] = a + m * ra + k0 * as;
    const float *bs = b + (ptrdiff_t)k0 * N;
    panel(M, rows, &bs, 1, kc, as, N, c, N, N, k0 > 0);
  }
  free(rows);
  return 0;
}

int FN(repro_matmul)(const float *a, const float *b, float *c, int M, int K, int N, int transA, int transB) {
  if (K == 0 || M == 0 || N == 0) {
    memset(c, 0, sizeof(float) * (size_t)M * N);
    return 0;
  }
  if (!transB) return transA ? product(a, 1, M, b, c, M, K, N) : product(a, K, 1, b, c, M, K, N);
  /* A·Bᵀ = (B·Aᵀ)ᵀ: B's rows [N, K] are the rows of that product, Aᵀ [K, M] its right operand. Each
   * element is the same sum in the same order (products commute exactly); this way no operand is read
   * with the stride of a long row (a dense layer's input gradient: dy · Wᵀ with W [16384, 128]). */
  float *at = transA ? NULL : malloc(sizeof(float) * (size_t)M * K);
  float *ct = malloc(sizeof(float) * (size_t)M * N);
  int rc = -1;
  if ((transA || at) && ct) {
    if (at) transpose(a, at, M, K);
    rc = product(b, K, 1, transA ? a : at, ct, N, K, M);
    if (rc == 0) transpose(ct, c, N, M);
  }
  free(at), free(ct);
  return rc;
}

/* y[r, c] = x[r, c] + b[c]: a bias added to every row, or (rows = 1) two tensors of one shape added.
 * One IEEE addition per element, as tfjs's Add: the same bits in any order or width. */
void FN(repro_add_rows)(const float *x, const float *b, float *y, ptrdiff_t rows, ptrdiff_t cols) {
  for (ptrdiff_t r = 0; r < rows; r++) {
    const float *xr = x + r * cols;
    float *yr = y + r * cols;
    ptrdiff_t c = 0;
    for (; c + VW <= cols; c += VW) *(vf *)(yr + c) = *(const vf *)(xr + c) + *(const vf *)(b + c);
    for (; c < cols; c++) yr[c] = xr[c] + b[c];
  }
}

/* ReLU gradient, as the SIMD kernel: dy where x > 0, x itself where x is NaN, else +0. */
void FN(repro_relu_grad)(const float *dy, const float *x, float *out, ptrdiff_t n) {
  for (ptrdiff_t i = 0; i < n; i++) {
    const float v = x[i];
    const uint32_t gt = v > 0.0f ? ~0u : 0u, nan = v != v ? ~0u : 0u;
    out[i] = from_bits((bits(dy[i]) & gt) | (bits(v) & nan));
  }
}

/* Gradient of a 2×2, stride-2 'valid' max-pool, as the SIMD kernel: each window's dy goes to its first
 * tap (row-major) equal to the window's maximum y, or to the last tap when none is; none where y is NaN
 * or −∞. Every element of dx in a window is written (the caller zeroes rows and columns none covers).
 * Branch-free over VW channels at a time: which tap wins depends on the data, and a branch per element
 * was mispredicted often enough to make this the slowest kernel of a training step. */
void FN(repro_max_pool_2x2_grad)(const float *x, const float *y, const float *dy, float *dx, int N, int H, int W, int C, int OH, int OW) {
  const ptrdiff_t row = (ptrdiff_t)W * C, tap = C;
  for (int n = 0; n < N; n++)
    for (int oh = 0; oh < OH; oh++)
      for (int ow = 0; ow < OW; ow++) {
        const ptrdiff_t a = (((ptrdiff_t)n * H + 2 * oh) * W + 2 * ow) * C;
        const ptrdiff_t g = (((ptrdiff_t)n * OH + oh) * OW + ow) * C;
        int c = 0;
        for (; c + VW <= C; c += VW) {
          const vf m = *(const vf *)(y + g + c);
          const vu gv = *(const vu *)(dy + g + c) & MASK(m > -INFINITY);
          const vu ea = MASK(*(const vf *)(x + a + c) == m);
          const vu eb = ~ea & MASK(*(const vf *)(x + a + tap + c) == m);
          const vu ec = ~(ea | eb) & MASK(*(const vf *)(x + a + row + c) == m);
          const vu ed = ~(ea | eb | ec);
          *(vu *)(dx + a + c) = gv & ea;
          *(vu *)(dx + a + tap + c) = gv & eb;
          *(vu *)(dx + a + row + c) = gv & ec;
          *(vu *)(dx + a + row + tap + c) = gv & ed;
        }
        for (; c < C; c++) {
          const float m = y[g + c];
          const uint32_t gv = m > -INFINITY ? bits(dy[g + c]) : 0u;
          const uint32_t ea = x[a + c] == m ? ~0u : 0u;
          const uint32_t eb = ~ea & (x[a + tap + c] == m ? ~0u : 0u);
          const uint32_t ec = ~(ea | eb) & (x[a + row + c] == m ? ~0u : 0u);
          const uint32_t ed = ~(ea | eb | ec);
          dx[a + c] = from_bits(gv & ea);
          dx[a + tap + c] = from_bits(gv & eb);
          dx[a + row + c] = from_bits(gv & ec);
          dx[a + row + tap + c] = from_bits(gv & ed);
        }
      }
}

/* out[e] = Σ_i shares[i] · parts[i][e], each term and sum in double, rounded to float once: the average
 * of shard gradients exactly as src/ml/gradients.ts computes it in JavaScript (whose numbers are
 * doubles), two parts as s0·g0 + s1·g1, more as a running sum from +0 in part order. */
void FN(repro_weighted_sum)(const float *const *parts, const double *shares, int k, float *out, ptrdiff_t n) {
  if (k == 2) {
    const float *g0 = parts[0], *g1 = parts[1];
    const double s0 = shares[0], s1 = shares[1];
    for (ptrdiff_t e = 0; e < n; e++) out[e] = (float)(s0 * (double)g0[e] + s1 * (double)g1[e]);
    return;
  }
  for (ptrdiff_t e = 0; e < n; e++) {
    double acc = 0;
    for (int i = 0; i < k; i++) acc += shares[i] * (double)parts[i][e];
    out[e] = (float)acc;
  }
}

/* A 2×2, stride-2 'valid' max-pool: y = the largest of each window. Returns 1, having written y only in
 * part, where an input is NaN or −0: there XNNPACK's pooling (the wasm path) picks among equals and NaNs
 * by rules of its own, and the caller takes the wasm path. Without them the maximum is one value with
 * one bit pattern, whichever tap holds it, so y is XNNPACK's. */
int FN(repro_max_pool_2x2)(const float *x, float *y, int N, int H, int W, int C, int OH, int OW) {
  const ptrdiff_t row = (ptrdiff_t)W * C, tap = C;
  for (int n = 0; n < N; n++)
    for (int oh = 0; oh < OH; oh++) {
      vu odd = {0};
      for (int ow = 0; ow < OW; ow++) {
        const ptrdiff_t a = (((ptrdiff_t)n * H + 2 * oh) * W + 2 * ow) * C;
        const ptrdiff_t g = (((ptrdiff_t)n * OH + oh) * OW + ow) * C;
        int c = 0;
#if VW > 1
        for (; c + VW <= C; c += VW) {
          const vf p = *(const vf *)(x + a + c), q = *(const vf *)(x + a + tap + c);
          const vf r = *(const vf *)(x + a + row + c), s = *(const vf *)(x + a + row + tap + c);
          const vu negzero = (vu){0} + 0x80000000u;
          odd |= MASK(p != p) | MASK(q != q) | MASK(r != r) | MASK(s != s);
          odd |= MASK((vu)p == negzero) | MASK((vu)q == negzero) | MASK((vu)r == negzero) | MASK((vu)s == negzero);
          const vu m1 = ((vu)p & MASK(p > q)) | ((vu)q & ~MASK(p > q));
          const vu m2 = ((vu)r & MASK(r > s)) | ((vu)s & ~MASK(r > s));
          *(vu *)(y + g + c) = (m1 & MASK((vf)m1 > (vf)m2)) | (m2 & ~MASK((vf)m1 > (vf)m2));
        }
#endif
        for (; c < C; c++) {
          const float p = x[a + c], q = x[a + tap + c], r = x[a + row + c], s = x[a + row + tap + c];
          odd |= (p != p || q != q || r != r || s != s || bits(p) == 0x80000000u || bits(q) == 0x80000000u || bits(r) == 0x80000000u ||
                  bits(s) == 0x80000000u) ? ~0u : 0u;
          const float m1 = p > q ? p : q, m2 = r > s ? r : s;
          y[g + c] = m1 > m2 ? m1 : m2;
        }
      }
      if (any_lane(odd)) return 1;
    }
  return 0;
}

/* One SGD step (PyTorch's rule) as the SIMD kernel sgdStep (src/ml/kernels/simd/kernels.ts) computes it,
 * the same float operations in the same order: g' = g + wd·w; with momentum, v = μ·v + g' and the step
 * is v (Nesterov: g' + μ·v); out = w − lr·step. out may be w. */
void FN(repro_sgd_step)(const float *w, const float *g, float *v, float *out, ptrdiff_t n, float lr, float momentum, int nesterov, float wd) {
  for (ptrdiff_t e = 0; e < n; e++) {
    const float gv = g[e] + wd * w[e];
    float direction = gv;
    if (momentum > 0) {
      const float vv = momentum * v[e] + gv;
      v[e] = vv;
      direction = nesterov ? gv + momentum * vv : vv;
    }
    out[e] = w[e] - lr * direction;
  }
}

/* One Adam step as the SIMD kernel adamStep computes it, including its one quirk: its vector loop takes
 * (1 − β2)·(g·g), its scalar tail (the last n % 4 weights) ((1 − β2)·g)·g. */
void FN(repro_adam_step)(const float *w, const float *g, float *m, float *s, float *out, ptrdiff_t n, float step, float beta1, float nb1, float beta2,
                         float nb2, float c2, float eps, float wd) {
  const ptrdiff_t vectors = n & ~(ptrdiff_t)3;
  for (ptrdiff_t e = 0; e < n; e++) {
    const float gv = g[e] + wd * w[e];
    const float mv = beta1 * m[e] + nb1 * gv;
    const float sq = e < vectors ? nb2 * (gv * gv) : nb2 * gv * gv;
    const float sv = beta2 * s[e] + sq;
    m[e] = mv;
    s[e] = sv;
    out[e] = w[e] - step * (mv / (sqrtf(sv) / c2 + eps));
  }
}
