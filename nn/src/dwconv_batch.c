/* dwconv_batch: the depthwise convolution of dwconv.c for batches, with 8
 * samples in the 8 float lanes of a vector. Small planes (down to 6x6) leave
 * the per-plane loops of dwconv.c mostly edges and tails; here one channel of
 * 8 samples becomes a "bundle", a zero-padded plane [H+2pad][W+2pad][8],
 * where every tap of every output is one full-width multiply-add with no
 * edge cases, whatever the stride. Planes are transposed into bundles and
 * back 8x8 at a time. Backward is split by channel, so each channel's
 * gradient has a single writer and its sums run in a fixed order. */
#include "dwconv.h"
#include "vec.h"

#include <string.h>

enum { LANES = 8 };

#if defined(__clang__)
#define V8_SHUFFLE(a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#else
#define V8_SHUFFLE(a, b, ...) __builtin_shuffle(a, b, (vi8){__VA_ARGS__})
#endif

/* r[i][j] <-> r[j][i]: unpack pairs, then quads, then 128-bit halves (each
 * step one instruction per vector with AVX2) */
static inline __attribute__((always_inline)) void transpose8(vf8 r[LANES]) {
  vf8 t[LANES], u[LANES];
  for (int i = 0; i < LANES; i += 2) {
    t[i] = V8_SHUFFLE(r[i], r[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
    t[i + 1] = V8_SHUFFLE(r[i], r[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
  }
  for (int i = 0; i < LANES; i += 4)
    for (int k = 0; k < 2; k++) {
      u[i + 2 * k] = V8_SHUFFLE(t[i + k], t[i + k + 2], 0, 1, 8, 9, 4, 5, 12, 13);
      u[i + 2 * k + 1] = V8_SHUFFLE(t[i + k], t[i + k + 2], 2, 3, 10, 11, 6, 7, 14, 15);
    }
  for (int i = 0; i < 4; i++) {
    r[i] = V8_SHUFFLE(u[i], u[i + 4], 0, 1, 2, 3, 8, 9, 10, 11);
    r[i + 4] = V8_SHUFFLE(u[i], u[i + 4], 4, 5, 6, 7, 12, 13, 14, 15);
  }
}

/* Where pixel q of an H x W plane sits in a bundle padded by pad on each
 * side: walked in order, so no division per pixel. */
typedef struct {
  int x, W, pad;
  long pos; /* bundle pixel index of the current pixel */
} walker;

static walker walk_start(int W, int pad) {
  return (walker){0, W, pad, (long)pad * (W + 2 * pad) + pad};
}

static void walk_next(walker *k) {
  k->pos++;
  if (++k->x == k->W) k->x = 0, k->pos += 2 * k->pad;
}

/* Bundle from m <= 8 planes of H x W (plane s at x + s * stride): lanes past
 * m and the border are zero. */
VEC_CLONES static void bundle_load(float *b, const float *x, long stride, int m, int H, int W,
                                   int pad) {
  long Wp = W + 2 * pad, hw = (long)H * W;
  /* the border: rows above, side columns (a row's right pad and the next
   * row's left pad are adjacent), rows below */
  memset(b, 0, sizeof(float) * LANES * ((size_t)pad * Wp + pad));
  for (int y = 0; y < H; y++)
    memset(b + LANES * ((y + pad) * Wp + pad + W), 0, sizeof(float) * LANES * 2 * pad);
  long below = (long)(H + pad) * Wp;
  memset(b + LANES * below, 0, sizeof(float) * LANES * (size_t)(pad * Wp));
  walker k = walk_start(W, pad);
  long q = 0;
  if (m == LANES)
    for (; q + LANES <= hw; q += LANES) {
      vf8 r[LANES];
      for (int s = 0; s < LANES; s++) r[s] = v8_at(x + s * stride + q);
      transpose8(r);
      for (int i = 0; i < LANES; i++, walk_next(&k)) v8_at(b + LANES * k.pos) = r[i];
    }
  for (; q < hw; q++, walk_next(&k))
    for (int s = 0; s < LANES; s++) b[LANES * k.pos + s] = s < m ? x[s * stride + q] : 0.0f;
}

/* The m first lanes of a bundle (padded by pad) to planes of H x W, plane s
 * at y + s * stride. */
VEC_CLONES static void bundle_store(float *y, long stride, int m, const float *b, int H, int W,
                                    int pad) {
  long hw = (long)H * W;
  walker k = walk_start(W, pad);
  long q = 0;
  if (m == LANES)
    for (; q + LANES <= hw; q += LANES) {
      vf8 r[LANES];
      for (int i = 0; i < LANES; i++, walk_next(&k)) r[i] = v8_at((float *)b + LANES * k.pos);
      transpose8(r);
      for (int s = 0; s < LANES; s++) v8_at(y + s * stride + q) = r[s];
    }
  for (; q < hw; q++, walk_next(&k))
    for (int s = 0; s < m; s++) y[s * stride + q] = b[LANES * k.pos + s];
}

/* out[oy][ox] = bias + sum_t w[t] in[oy S + ky][ox S + kx] (then max(., 0)
 * when relu); in: a bundle padded by K/2, Wp wide; out: OH x OW unpadded.
 * Inlined with K constant, so the taps unroll and the weights stay in
 * registers. */
static inline __attribute__((always_inline)) void
bundle_conv(float *out, const float *in, const float *w, float bias, int K, int S, int OH,
            int OW, long Wp, int relu) {
  vf8 wv[K * K];
  for (int t = 0; t < K * K; t++) wv[t] = v8_set(w[t]);
  for (int oy = 0; oy < OH; oy++)
    for (int ox = 0; ox < OW; ox++) {
      const float *base = in + LANES * ((long)oy * S * Wp + (long)ox * S);
      vf8 a = v8_set(bias);
      for (int ky = 0; ky < K; ky++)
        for (int kx = 0; kx < K; kx++) a += wv[ky * K + kx] * v8_at((float *)base + LANES * (ky * Wp + kx));
      if (relu) a = v8_where_pos(a, a);
      v8_at(out + LANES * ((long)oy * OW + ox)) = a;
    }
}

/* The adjoint: with d = dy[oy][ox], for every tap t at (ky, kx):
 * dw[t] += sum of d x[oy S + ky][ox S + kx] over outputs and lanes (lane sums
 * in a fixed order), dx[oy S + ky][ox S + kx] += w[t] d (when dx), and
 * db += the sum of d. x, dx: bundles padded by K/2; dx zeroed by the caller. */
static inline __attribute__((always_inline)) void
bundle_adjoint(float *dw, float *db, float *dx, const float *dy, const float *x, const float *w,
               int K, int S, int OH, int OW, long Wp) {
  vf8 wv[K * K], acc[K * K], dsum = v8_set(0.0f);
  for (int t = 0; t < K * K; t++) wv[t] = v8_set(w[t]), acc[t] = v8_set(0.0f);
  for (int oy = 0; oy < OH; oy++)
    for (int ox = 0; ox < OW; ox++) {
      vf8 d = v8_at((float *)dy + LANES * ((long)oy * OW + ox));
      long base = LANES * ((long)oy * S * Wp + (long)ox * S);
      dsum += d;
      for (int ky = 0; ky < K; ky++)
        for (int kx = 0; kx < K; kx++) {
          long at = base + LANES * (ky * Wp + kx);
          acc[ky * K + kx] += d * v8_at((float *)x + at);
          if (dx) v8_at(dx + at) += wv[ky * K + kx] * d;
        }
    }
  for (int t = 0; t < K * K; t++) dw[t] += vf8_hsum(acc[t]);
  *db += vf8_hsum(dsum);
}

/* The kernels above for K = 3 (every shipped architecture) and for any K. */
VEC_CLONES static void conv_k3(float *out, const float *in, const float *w, float bias, int S,
                               int OH, int OW, long Wp, int relu) {
  bundle_conv(out, in, w, bias, 3, S, OH, OW, Wp, relu);
}
VEC_CLONES static void conv_kn(float *out, const float *in, const float *w, float bias, int K,
                               int S, int OH, int OW, long Wp, int relu) {
  bundle_conv(out, in, w, bias, K, S, OH, OW, Wp, relu);
}
VEC_CLONES static void adjoint_k3(float *dw, float *db, float *dx, const float *dy,
                                  const float *x, const float *w, int S, int OH, int OW, long Wp) {
  bundle_adjoint(dw, db, dx, dy, x, w, 3, S, OH, OW, Wp);
}
VEC_CLONES static void adjoint_kn(float *dw, float *db, float *dx, const float *dy,
                                  const float *x, const float *w, int K, int S, int OH, int OW,
                                  long Wp) {
  bundle_adjoint(dw, db, dx, dy, x, w, K, S, OH, OW, Wp);
}

static long padded_pixels(const layer *l) {
  return (long)(l->a.h + 2 * l->pad) * (l->a.w + 2 * l->pad);
}

size_t dwconv_batch_scratch_size(const layer *l) {
  /* x and dx bundles (padded), y / dy bundle */
  return (size_t)LANES * (2 * padded_pixels(l) + (long)l->a.oh * l->a.ow);
}

static int blocks_of(int n) { return (n + LANES - 1) / LANES; }

int dwconv_batch_items(const layer *l, int n) { return l->a.c * blocks_of(n); }

/* items: channel-major (channel, block of 8 samples) pairs */
void dwconv_batch_forward_items(void *ctx, int part, int begin, int end) {
  const dwconv_job *j = ctx;
  const layer *l = j->l;
  int C = l->a.c, K = l->a.k, S = l->a.s, OH = l->a.oh, OW = l->a.ow, nb = blocks_of(j->n);
  long ihw = (long)l->a.h * l->a.w, ohw = (long)OH * OW, Wp = l->a.w + 2 * l->pad;
  float *xb = j->ws->col[part], *yb = xb + LANES * padded_pixels(l);
  for (int item = begin; item < end; item++) {
    int c = item / nb, s0 = (item % nb) * LANES, m = j->n - s0 < LANES ? j->n - s0 : LANES;
    const float *w = l->w + (size_t)c * K * K;
    bundle_load(xb, j->in + ((long)s0 * C + c) * ihw, C * ihw, m, l->a.h, l->a.w, l->pad);
    if (K == 3) conv_k3(yb, xb, w, l->b[c], S, OH, OW, Wp, l->fuse_relu);
    else conv_kn(yb, xb, w, l->b[c], K, S, OH, OW, Wp, l->fuse_relu);
    bundle_store(j->out + ((long)s0 * C + c) * ohw, C * ohw, m, yb, OH, OW, 0);
  }
}

void dwconv_batch_backward_channels(void *ctx, int part, int begin, int end) {
  const dwconv_job *j = ctx;
  const layer *l = j->l;
  int C = l->a.c, K = l->a.k, S = l->a.s, OH = l->a.oh, OW = l->a.ow, H = l->a.h, W = l->a.w;
  long ihw = (long)H * W, ohw = (long)OH * OW, Wp = W + 2 * l->pad, P = padded_pixels(l);
  float *xb = j->ws->col[part], *dxb = xb + LANES * P, *dyb = dxb + LANES * P;
  for (int c = begin; c < end; c++) {
    const float *w = l->w + (size_t)c * K * K;
    float dw[ARCH_MAX_KERNEL * ARCH_MAX_KERNEL] = {0}, db = 0.0f;
    for (int s0 = 0; s0 < j->n; s0 += LANES) {
      int m = j->n - s0 < LANES ? j->n - s0 : LANES;
      long first = (long)s0 * C + c;
      bundle_load(xb, j->in + first * ihw, C * ihw, m, H, W, l->pad);
      bundle_load(dyb, j->dout + first * ohw, C * ohw, m, OH, OW, 0);
      float *dx = j->din ? dxb : NULL;
      if (dx) memset(dx, 0, sizeof(float) * LANES * P);
      if (K == 3) adjoint_k3(dw, &db, dx, dyb, xb, w, S, OH, OW, Wp);
      else adjoint_kn(dw, &db, dx, dyb, xb, w, K, S, OH, OW, Wp);
      if (dx) bundle_store(j->din + first * ihw, C * ihw, m, dx, H, W, l->pad);
    }
    if (j->param_grads) {
      for (int t = 0; t < K * K; t++) l->dw[(size_t)c * K * K + t] += dw[t];
      l->db[c] += db;
    }
  }
}
