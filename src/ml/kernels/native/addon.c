/* Node-API glue of the native kernels (kernels.c): checks the arguments, picks the code path, calls it.
 * Tensors arrive as Float32Array views of the wasm backend's memory; nothing is copied. */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include "kernels.h"

enum { SCALAR = 0, AVX2 = 1, AVX512 = 2 };

/* The best code path this CPU (and OS: GCC's check includes the saved register state) runs. */
static int cpu_level(void) {
#if defined(__x86_64__) && !defined(REPRO_SCALAR_ONLY)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return AVX512;
  if (__builtin_cpu_supports("avx2")) return AVX2;
#endif
  return SCALAR;
}

#define THROW(msg)                                \
  do {                                            \
    napi_throw_error(env, "REPRO_KERNELS", msg);  \
    return NULL;                                  \
  } while (0)

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != want) return 0;
  return 1;
}

static int get_int(napi_env env, napi_value v, int *out) { return napi_get_value_int32(env, v, out) == napi_ok; }

/* A Float32Array's data and length, or 0. */
static int get_floats(napi_env env, napi_value v, float **data, size_t *length) {
  napi_typedarray_type type;
  void *p;
  if (napi_get_typedarray_info(env, v, &type, length, &p, NULL, NULL) != napi_ok || type != napi_float32_array) return 0;
  *data = p;
  return 1;
}

static int get_level(napi_env env, napi_value v, int *level) {
  return get_int(env, v, level) && *level >= SCALAR && *level <= cpu_level();
}

static int get_geometry(napi_env env, napi_value v, conv_geometry *g) {
  napi_typedarray_type type;
  size_t length;
  void *p;
  if (napi_get_typedarray_info(env, v, &type, &length, &p, NULL, NULL) != napi_ok || type != napi_int32_array) return 0;
  if (length != sizeof(conv_geometry) / sizeof(int)) return 0;
  memcpy(g, p, sizeof *g);
  const int *f = (const int *)g;
  for (size_t i = 0; i < length; i++)
    if (f[i] < 0) return 0;
  return g->sh > 0 && g->sw > 0 && g->dh > 0 && g->dw > 0 && g->uh > 0 && g->uw > 0;
}

static size_t sz(long long a, long long b, long long c, long long d) { return (size_t)(a * b * c * d); }

typedef int (*conv_fn)(const float *, const float *, float *, const conv_geometry *);
typedef int (*matmul_fn)(const float *, const float *, float *, int, int, int, int, int);

static const conv_fn CONV[] = {repro_conv_scalar, repro_conv_avx2, repro_conv_avx512};
typedef int (*conv_bias_fn)(const float *, const float *, const float *, float *, const conv_geometry *);
static const conv_bias_fn CONV_BIAS_RELU[] = {repro_conv_bias_relu_scalar, repro_conv_bias_relu_avx2, repro_conv_bias_relu_avx512};
static const conv_fn FILTER_GRAD[] = {repro_filter_grad_scalar, repro_filter_grad_avx2, repro_filter_grad_avx512};
static const matmul_fn MATMUL[] = {repro_matmul_scalar, repro_matmul_avx2, repro_matmul_avx512};
typedef void (*add_rows_fn)(const float *, const float *, float *, ptrdiff_t, ptrdiff_t);
static const add_rows_fn ADD_ROWS[] = {repro_add_rows_scalar, repro_add_rows_avx2, repro_add_rows_avx512};
typedef void (*relu_grad_fn)(const float *, const float *, float *, ptrdiff_t);
static const relu_grad_fn RELU_GRAD[] = {repro_relu_grad_scalar, repro_relu_grad_avx2, repro_relu_grad_avx512};
typedef void (*pool_grad_fn)(const float *, const float *, const float *, float *, int, int, int, int, int, int);
static const pool_grad_fn MAX_POOL_GRAD[] = {repro_max_pool_2x2_grad_scalar, repro_max_pool_2x2_grad_avx2, repro_max_pool_2x2_grad_avx512};
typedef int (*pool_fn)(const float *, float *, int, int, int, int, int, int);
static const pool_fn MAX_POOL[] = {repro_max_pool_2x2_scalar, repro_max_pool_2x2_avx2, repro_max_pool_2x2_avx512};
typedef void (*sgd_fn)(const float *, const float *, float *, float *, ptrdiff_t, float, float, int, float);
static const sgd_fn SGD_STEP[] = {repro_sgd_step_scalar, repro_sgd_step_avx2, repro_sgd_step_avx512};
typedef void (*adam_fn)(const float *, const float *, float *, float *, float *, ptrdiff_t, float, float, float, float, float, float, float, float);
static const adam_fn ADAM_STEP[] = {repro_adam_step_scalar, repro_adam_step_avx2, repro_adam_step_avx512};
typedef void (*weighted_sum_fn)(const float *const *, const double *, int, float *, ptrdiff_t);
static const weighted_sum_fn WEIGHTED_SUM[] = {repro_weighted_sum_scalar, repro_weighted_sum_avx2, repro_weighted_sum_avx512};

/* level(): the best code path here (0 scalar, 1 AVX2, 2 AVX-512). */
static napi_value level(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_create_int32(env, cpu_level(), &out);
  return out;
}

/* The arguments of the three convolutions: (level, three Float32Arrays, geometry), with the arrays'
 * lengths checked against the sizes the geometry gives them. */
enum { IN = 0, FILTER = 1, OUT = 2 };

typedef struct {
  int level;
  float *p[3];
  conv_geometry g;
} conv_args;

static int get_conv_args(napi_env env, napi_callback_info info, conv_args *a, int s0, int s1, int s2, int spread) {
  napi_value argv[5];
  size_t n[3];
  if (!get_args(env, info, 5, argv) || !get_level(env, argv[0], &a->level) || !get_geometry(env, argv[4], &a->g)) return 0;
  for (int i = 0; i < 3; i++)
    if (!get_floats(env, argv[i + 1], &a->p[i], &n[i])) return 0;
  if (!spread && (a->g.uh != 1 || a->g.uw != 1)) return 0;
  const conv_geometry *g = &a->g;
  const size_t in = sz(g->N, g->H, g->W, g->C), filter = sz(g->KH, g->KW, g->C, g->CO), out = sz(g->N, g->OH, g->OW, g->CO);
  const size_t size[3] = {in, filter, out};
  return n[0] >= size[s0] && n[1] >= size[s1] && n[2] >= size[s2];
}
/* conv(level, x, f, y, geometry): y[N, OH, OW, CO] = x ⊛ f[KH, KW, C, CO]. */
static napi_value conv(napi_env env, napi_callback_info info) {
  conv_args a;
  if (!get_conv_args(env, info, &a, IN, FILTER, OUT, 1)) THROW("conv(level, x, f, y, geometry): bad arguments");
  if (CONV[a.level](a.p[0], a.p[1], a.p[2], &a.g) != 0) THROW("conv: out of memory or filter too large");
  return NULL;
}

/* convBiasRelu(level, x, f, bias, y, geometry): y = relu(x ⊛ f + bias); returns whether some x ⊛ f + bias
 * was NaN (kernels.c: the caller then computes the unfused ops instead). */
static napi_value conv_bias_relu(napi_env env, napi_callback_info info) {
  napi_value argv[6], out;
  int lv;
  conv_geometry g;
  float *x, *f, *b, *y;
  size_t nx, nf, nb, ny;
  if (!get_args(env, info, 6, argv) || !get_level(env, argv[0], &lv) || !get_floats(env, argv[1], &x, &nx) || !get_floats(env, argv[2], &f, &nf) ||
      !get_floats(env, argv[3], &b, &nb) || !get_floats(env, argv[4], &y, &ny) || !get_geometry(env, argv[5], &g) || g.uh != 1 || g.uw != 1)
    THROW("convBiasRelu(level, x, f, bias, y, geometry): bad arguments");
  if (nx < sz(g.N, g.H, g.W, g.C) || nf < sz(g.KH, g.KW, g.C, g.CO) || nb < (size_t)g.CO || ny < sz(g.N, g.OH, g.OW, g.CO)) THROW("convBiasRelu: an array is smaller than its shape");
  const int rc = CONV_BIAS_RELU[lv](x, f, b, y, &g);
  if (rc < 0) THROW("convBiasRelu: out of memory or filter too large");
  napi_get_boolean(env, rc == 1, &out);
  return out;
}

/* backpropInput(level, dy, w, dx, geometry): dx = dy ⊛ w flipped, as a convolution of the spread dy
 * (geometry: N, H = dy rows, W = dy columns, C = output channels, OH/OW = dx size, CO = input channels,
 * uh/uw = the forward strides). w is [KH, KW, CO, C]; its flipped transpose is built here. */
static napi_value backprop_input(napi_env env, napi_callback_info info) {
  conv_args a;
  if (!get_conv_args(env, info, &a, IN, FILTER, OUT, 1)) THROW("backpropInput(level, dy, w, dx, geometry): bad arguments");
  const float *w = a.p[1];
  const int KH = a.g.KH, KW = a.g.KW, CI = a.g.CO, CO = a.g.C;
  float *flipped = malloc(sizeof(float) * sz(KH, KW, CI, CO) + 1);
  if (!flipped) THROW("backpropInput: out of memory");
  for (int kh = 0; kh < KH; kh++)
    for (int kw = 0; kw < KW; kw++)
      for (int ci = 0; ci < CI; ci++)
        for (int co = 0; co < CO; co++)
          flipped[(((size_t)(KH - 1 - kh) * KW + (KW - 1 - kw)) * CO + co) * CI + ci] = w[(((size_t)kh * KW + kw) * CI + ci) * CO + co];
  const int rc = CONV[a.level](a.p[0], flipped, a.p[2], &a.g);
  free(flipped);
  if (rc != 0) THROW("backpropInput: out of memory or filter too large");
  return NULL;
}

/* filterGrad(level, x, dy, dw, geometry): dw[KH, KW, C, CO] = Σ over output pixels of x · dy. */
static napi_value filter_grad(napi_env env, napi_callback_info info) {
  conv_args a;
  if (!get_conv_args(env, info, &a, IN, OUT, FILTER, 0)) THROW("filterGrad(level, x, dy, dw, geometry): bad arguments");
  FILTER_GRAD[a.level](a.p[0], a.p[1], a.p[2], &a.g);
  return NULL;
}

/* matMul(level, a, b, c, M, K, N, transA, transB): c[M, N] = op(a) · op(b). */
static napi_value mat_mul(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  int lv, M, K, N, ta, tb;
  float *a, *b, *c;
  size_t na, nb, nc;
  if (!get_args(env, info, 9, argv) || !get_level(env, argv[0], &lv) || !get_floats(env, argv[1], &a, &na) ||
      !get_floats(env, argv[2], &b, &nb) || !get_floats(env, argv[3], &c, &nc) || !get_int(env, argv[4], &M) ||
      !get_int(env, argv[5], &K) || !get_int(env, argv[6], &N) || !get_int(env, argv[7], &ta) || !get_int(env, argv[8], &tb) ||
      M < 0 || K < 0 || N < 0)
    THROW("matMul(level, a, b, c, M, K, N, transA, transB): bad arguments");
  if (na < sz(M, K, 1, 1) || nb < sz(K, N, 1, 1) || nc < sz(M, N, 1, 1)) THROW("matMul: an array is smaller than its shape");
  if (MATMUL[lv](a, b, c, M, K, N, ta, tb) != 0) THROW("matMul: out of memory");
  return NULL;
}

/* addRows(level, x, b, y, rows, cols): y[r, c] = x[r, c] + b[c]. */
static napi_value add_rows(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  int lv;
  double rows, cols;
  float *x, *b, *y;
  size_t nx, nb, ny;
  if (!get_args(env, info, 6, argv) || !get_level(env, argv[0], &lv) || !get_floats(env, argv[1], &x, &nx) ||
      !get_floats(env, argv[2], &b, &nb) || !get_floats(env, argv[3], &y, &ny) || napi_get_value_double(env, argv[4], &rows) != napi_ok ||
      napi_get_value_double(env, argv[5], &cols) != napi_ok || rows < 0 || cols < 0 || rows * cols > (double)nx ||
      rows * cols > (double)ny || cols > (double)nb)
    THROW("addRows(level, x, b, y, rows, cols): bad arguments");
  ADD_ROWS[lv](x, b, y, (ptrdiff_t)rows, (ptrdiff_t)cols);
  return NULL;
}

/* reluGrad(level, dy, x, out): dy where x > 0, NaN where x is NaN, else 0. */
static napi_value relu_grad(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int lv;
  float *dy, *x, *out;
  size_t ndy, nx, nout;
  if (!get_args(env, info, 4, argv) || !get_level(env, argv[0], &lv) || !get_floats(env, argv[1], &dy, &ndy) ||
      !get_floats(env, argv[2], &x, &nx) || !get_floats(env, argv[3], &out, &nout) || ndy < nx || nout < nx)
    THROW("reluGrad(level, dy, x, out): bad arguments");
  RELU_GRAD[lv](dy, x, out, (ptrdiff_t)nx);
  return NULL;
}

/* maxPool2x2Grad(level, x, y, dy, dx, [N, H, W, C, OH, OW]): 2×2, stride 2, 'valid', 2·OH ≤ H, 2·OW ≤ W. */
static napi_value max_pool_grad(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  int lv;
  float *x, *y, *dy, *dx;
  size_t nx, ny, ndy, ndx, nd;
  napi_typedarray_type type;
  void *p;
  int d[6];
  if (!get_args(env, info, 6, argv) || !get_level(env, argv[0], &lv) || !get_floats(env, argv[1], &x, &nx) ||
      !get_floats(env, argv[2], &y, &ny) || !get_floats(env, argv[3], &dy, &ndy) || !get_floats(env, argv[4], &dx, &ndx) ||
      napi_get_typedarray_info(env, argv[5], &type, &nd, &p, NULL, NULL) != napi_ok || type != napi_int32_array || nd != 6)
    THROW("maxPool2x2Grad(level, x, y, dy, dx, dims): bad arguments");
  memcpy(d, p, sizeof d);
  const int N = d[0], H = d[1], W = d[2], C = d[3], OH = d[4], OW = d[5];
  if (N < 0 || C < 0 || OH < 0 || OW < 0 || 2 * OH > H || 2 * OW > W || nx < sz(N, H, W, C) || ndx < sz(N, H, W, C) ||
      ny < sz(N, OH, OW, C) || ndy < sz(N, OH, OW, C))
    THROW("maxPool2x2Grad: shapes do not fit");
  MAX_POOL_GRAD[lv](x, y, dy, dx, N, H, W, C, OH, OW);
  return NULL;
}

/* maxPool2x2(level, x, y, [N, H, W, C, OH, OW]): 2×2, stride 2, 'valid'; returns false where an input was
 * NaN or −0 (kernels.c: y is then incomplete, and the caller takes the wasm path). */
static napi_value max_pool(napi_env env, napi_callback_info info) {
  napi_value argv[4], out;
  int lv;
  float *x, *y;
  size_t nx, ny, nd;
  napi_typedarray_type type;
  void *p;
  int d[6];
  if (!get_args(env, info, 4, argv) || !get_level(env, argv[0], &lv) || !get_floats(env, argv[1], &x, &nx) || !get_floats(env, argv[2], &y, &ny) ||
      napi_get_typedarray_info(env, argv[3], &type, &nd, &p, NULL, NULL) != napi_ok || type != napi_int32_array || nd != 6)
    THROW("maxPool2x2(level, x, y, dims): bad arguments");
  memcpy(d, p, sizeof d);
  const int N = d[0], H = d[1], W = d[2], C = d[3], OH = d[4], OW = d[5];
  if (N < 0 || C < 0 || OH < 0 || OW < 0 || 2 * OH > H || 2 * OW > W || nx < sz(N, H, W, C) || ny < sz(N, OH, OW, C)) THROW("maxPool2x2: shapes do not fit");
  napi_get_boolean(env, MAX_POOL[lv](x, y, N, H, W, C, OH, OW) == 0, &out);
  return out;
}

/* weightedSum(level, parts, shares, out): out[e] = Σ_i shares[i] · parts[i][e] (kernels.c says in which
 * order); parts is an array of Float32Arrays at least as long as out, shares a Float64Array. */
#define MAX_PARTS 256
static napi_value weighted_sum(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int lv;
  uint32_t k;
  bool is_array;
  float *out;
  size_t nout, nshares;
  napi_typedarray_type type;
  void *shares;
  if (!get_args(env, info, 4, argv) || !get_level(env, argv[0], &lv) || napi_is_array(env, argv[1], &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, argv[1], &k) != napi_ok || k < 1 || k > MAX_PARTS ||
      napi_get_typedarray_info(env, argv[2], &type, &nshares, &shares, NULL, NULL) != napi_ok || type != napi_float64_array || nshares != k ||
      !get_floats(env, argv[3], &out, &nout))
    THROW("weightedSum(level, parts, shares, out): bad arguments");
  const float *parts[MAX_PARTS];
  for (uint32_t i = 0; i < k; i++) {
    napi_value part;
    float *p;
    size_t n;
    if (napi_get_element(env, argv[1], i, &part) != napi_ok || !get_floats(env, part, &p, &n) || n < nout) THROW("weightedSum: a part is not a Float32Array as long as out");
    parts[i] = p;
  }
  WEIGHTED_SUM[lv](parts, shares, (int)k, out, (ptrdiff_t)nout);
  return NULL;
}

/* Float32Arrays argv[from…from+count−1], each at least n long (n: the last one's length), or 0. */
static int get_vectors(napi_env env, napi_value *argv, int from, int count, float **p, size_t *n) {
  size_t len[8];
  for (int i = 0; i < count; i++)
    if (!get_floats(env, argv[from + i], &p[i], &len[i])) return 0;
  *n = len[count - 1];
  for (int i = 0; i < count; i++)
    if (len[i] < *n) return 0;
  return 1;
}

static int get_floats_args(napi_env env, napi_value *argv, int from, int count, float *out) {
  for (int i = 0; i < count; i++) {
    double d;
    if (napi_get_value_double(env, argv[from + i], &d) != napi_ok) return 0;
    out[i] = (float)d;
  }
  return 1;
}

/* sgdStep(level, w, g, v, out, lr, momentum, nesterov, wd): one SGD step of out.length weights (kernels.c). */
static napi_value sgd_step(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  int lv, nesterov;
  float *p[4], k[3];
  size_t n;
  if (!get_args(env, info, 9, argv) || !get_level(env, argv[0], &lv) || !get_vectors(env, argv, 1, 4, p, &n) || !get_floats_args(env, argv, 5, 2, k) ||
      !get_int(env, argv[7], &nesterov) || !get_floats_args(env, argv, 8, 1, k + 2))
    THROW("sgdStep(level, w, g, v, out, lr, momentum, nesterov, wd): bad arguments");
  SGD_STEP[lv](p[0], p[1], p[2], p[3], (ptrdiff_t)n, k[0], k[1], nesterov, k[2]);
  return NULL;
}

/* adamStep(level, w, g, m, s, out, step, beta1, 1 − beta1, beta2, 1 − beta2, c2, eps, wd): one Adam step (kernels.c). */
static napi_value adam_step(napi_env env, napi_callback_info info) {
  napi_value argv[14];
  int lv;
  float *p[5], k[8];
  size_t n;
  if (!get_args(env, info, 14, argv) || !get_level(env, argv[0], &lv) || !get_vectors(env, argv, 1, 5, p, &n) || !get_floats_args(env, argv, 6, 8, k))
    THROW("adamStep(level, w, g, m, s, out, step, beta1, nb1, beta2, nb2, c2, eps, wd): bad arguments");
  ADAM_STEP[lv](p[0], p[1], p[2], p[3], p[4], (ptrdiff_t)n, k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7]);
  return NULL;
}

NAPI_MODULE_INIT() {
  static const struct {
    const char *name;
    napi_callback fn;
  } fns[] = {{"level", level}, {"conv", conv}, {"convBiasRelu", conv_bias_relu}, {"backpropInput", backprop_input}, {"filterGrad", filter_grad}, {"matMul", mat_mul}, {"addRows", add_rows}, {"reluGrad", relu_grad}, {"maxPool2x2", max_pool}, {"maxPool2x2Grad", max_pool_grad}, {"weightedSum", weighted_sum}, {"sgdStep", sgd_step}, {"adamStep", adam_step}};
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value f;
    if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f) != napi_ok) return NULL;
    if (napi_set_named_property(env, exports, fns[i].name, f) != napi_ok) return NULL;
  }
  return exports;
}
