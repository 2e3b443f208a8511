/* vec: 4-wide float helpers for nn's element-wise loops (private).
 * GCC/Clang vector extensions: SSE on baseline x86-64 (the loops are bound
 * by memory bandwidth, not by vector width), independent of -O level
 * and of the auto-vectoriser's cost model, and without branches, which
 * matters for ReLU masks whose signs are random. Lane order is fixed, so
 * sums repeat bit for bit. */
#ifndef NN_VEC_H
#define NN_VEC_H

#include <stddef.h>

typedef float vf __attribute__((vector_size(16), aligned(4), may_alias));
typedef int vi __attribute__((vector_size(16), aligned(4), may_alias));
#define VL 4

static inline vf vf_load(const float *p) { return *(const vf *)p; }
static inline void vf_store(float *p, vf v) { *(vf *)p = v; }
static inline vf vf_set(float x) { return (vf){x, x, x, x}; }
static inline vf vf_max0(vf v) { return (vf)((vi)v & (v > (vf){0})); }
/* a where m > 0, else 0 */
static inline vf vf_where_pos(vf a, vf m) { return (vf)((vi)a & (m > (vf){0})); }

/* Lanes i0..i3 of the 8 lanes of a then b: GCC spells it __builtin_shuffle,
 * clang (the fuzzing build) __builtin_shufflevector. */
#if defined(__clang__)
#define VF_SHUFFLE2(a, b, i0, i1, i2, i3) __builtin_shufflevector(a, b, i0, i1, i2, i3)
#else
#define VF_SHUFFLE2(a, b, i0, i1, i2, i3) __builtin_shuffle(a, b, (vi){i0, i1, i2, i3})
#endif

/* 8 lanes, for the loops compiled twice, for AVX2 and for baseline x86-64,
 * and picked at load time (VEC_CLONES). Lane sums run in a fixed order, so
 * both clones give the same bits. vf8_hsum is a macro: a vf8 argument of a
 * function would change the ABI between the two. */
typedef float vf8 __attribute__((vector_size(32), aligned(4), may_alias));
#if defined(__x86_64__) && defined(__GNUC__)
#define VEC_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define VEC_CLONES
#endif
typedef int vi8 __attribute__((vector_size(32)));
/* macros, not functions, for the same reason */
#define v8_set(x) ((vf8){(x), (x), (x), (x), (x), (x), (x), (x)})
#define v8_load(p) (*(const vf8 *)(p))
#define v8_at(p) (*(vf8 *)(p)) /* load or store */
/* a where m > 0, else 0 */
#define v8_where_pos(a, m) ((vf8)((vi8)(a) & ((m) > v8_set(0.0f))))
#define vf8_hsum(v) \
  ((((v)[0] + (v)[4]) + ((v)[2] + (v)[6])) + (((v)[1] + (v)[5]) + ((v)[3] + (v)[7])))

static inline float vf_hsum(vf v) {
  return (v[0] + v[2]) + (v[1] + v[3]);
}

/* y = x for short rows (a plane's row of 6..48 floats), where a memcpy
 * call costs more than the copy; the tail is spelled out so that the
 * compiler does not turn it back into a call. */
static inline void vec_copy(float *y, const float *x, long n) {
  long i = 0;
  for (; i + VL <= n; i += VL) vf_store(y + i, vf_load(x + i));
  long r = n - i;
  if (r > 0) y[i] = x[i];
  if (r > 1) y[i + 1] = x[i + 1];
  if (r > 2) y[i + 2] = x[i + 2];
}

/* y = max(x, 0); y may equal x */
static inline void vec_relu(float *y, const float *x, long n) {
  long i = 0;
  for (; i + VL <= n; i += VL) vf_store(y + i, vf_max0(vf_load(x + i)));
  for (; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

/* dx = dy where y > 0, else 0 */
static inline void vec_relu_mask(float *dx, const float *dy, const float *y, long n) {
  long i = 0;
  for (; i + VL <= n; i += VL) vf_store(dx + i, vf_where_pos(vf_load(dy + i), vf_load(y + i)));
  for (; i < n; i++) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

/* y = x * a + b, then max(., 0) when relu; y may equal x */
static inline void vec_affine(float *y, const float *x, float a, float b, long n, int relu) {
  long i = 0;
  vf va = vf_set(a), vb = vf_set(b);
  if (relu) {
    for (; i + VL <= n; i += VL) vf_store(y + i, vf_max0(vf_load(x + i) * va + vb));
    for (; i < n; i++) {
      float v = x[i] * a + b;
      y[i] = v > 0.0f ? v : 0.0f;
    }
  } else {
    for (; i + VL <= n; i += VL) vf_store(y + i, vf_load(x + i) * va + vb);
    for (; i < n; i++) y[i] = x[i] * a + b;
  }
}

static inline float vec_sum(const float *x, long n) {
  vf acc = {0};
  long i = 0;
  for (; i + VL <= n; i += VL) acc += vf_load(x + i);
  float s = vf_hsum(acc);
  for (; i < n; i++) s += x[i];
  return s;
}

/* y = a * b element-wise */
static inline void vec_mul(float *y, const float *a, const float *b, long n) {
  long i = 0;
  for (; i + VL <= n; i += VL) vf_store(y + i, vf_load(a + i) * vf_load(b + i));
  for (; i < n; i++) y[i] = a[i] * b[i];
}

/* y += a * x */
static inline void vec_axpy(float *y, float a, const float *x, long n) {
  long i = 0;
  vf va = vf_set(a);
  for (; i + VL <= n; i += VL) vf_store(y + i, vf_load(y + i) + va * vf_load(x + i));
  for (; i < n; i++) y[i] += a * x[i];
}

/* sum of x * y */
static inline float vec_dot(const float *x, const float *y, long n) {
  vf acc = {0};
  long i = 0;
  for (; i + VL <= n; i += VL) acc += vf_load(x + i) * vf_load(y + i);
  float s = vf_hsum(acc);
  for (; i < n; i++) s += x[i] * y[i];
  return s;
}

#endif
