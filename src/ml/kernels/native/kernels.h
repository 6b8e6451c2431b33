/* The native kernels (kernels.c), compiled once per code path: scalar, AVX2, AVX-512. See kernels.c for
 * the summation order that makes every path give the bits of the wasm backend. */
#ifndef REPRO_KERNELS_H
#define REPRO_KERNELS_H
#include <stddef.h>

/* Geometry of a convolution as the kernels see it: output pixel (oh, ow), tap (kh, kw) reads input
 * row r = oh*sh + kh*dh - pt of an input "spread" by uh (a row exists where r % uh == 0, at r / uh,
 * below H); columns alike. uh = uw = 1 for a forward convolution. */
typedef struct {
  int N, H, W, C, OH, OW, CO, KH, KW, sh, sw, dh, dw, pt, pl, uh, uw;
} conv_geometry;

#define DECLARE(S)                                                                                                      \
  int repro_conv_##S(const float *x, const float *f, float *y, const conv_geometry *g);                              \
  int repro_conv_bias_relu_##S(const float *x, const float *f, const float *bias, float *y, const conv_geometry *g);   \
  int repro_filter_grad_##S(const float *x, const float *dy, float *dw, const conv_geometry *g);                      \
  int repro_matmul_##S(const float *a, const float *b, float *c, int M, int K, int N, int transA, int transB);       \
  void repro_add_rows_##S(const float *x, const float *b, float *y, ptrdiff_t rows, ptrdiff_t cols);                  \
  void repro_relu_grad_##S(const float *dy, const float *x, float *out, ptrdiff_t n);                                  \
  void repro_max_pool_2x2_grad_##S(const float *x, const float *y, const float *dy, float *dx, int N, int H, int W, int C, int OH, int OW); \
  int repro_max_pool_2x2_##S(const float *x, float *y, int N, int H, int W, int C, int OH, int OW); \
  void repro_weighted_sum_##S(const float *const *parts, const double *shares, int k, float *out, ptrdiff_t n); \
  void repro_sgd_step_##S(const float *w, const float *g, float *v, float *out, ptrdiff_t n, float lr, float momentum, int nesterov, float wd); \
  void repro_adam_step_##S(const float *w, const float *g, float *m, float *s, float *out, ptrdiff_t n, float step, float beta1, float nb1, float beta2, float nb2, float c2, float eps, float wd);

DECLARE(scalar)
DECLARE(avx2)
DECLARE(avx512)

#endif
