/* dwconv_batch: the depthwise convolution of dwconv.c for batches, with 8
 * neighbouring channels of one sample in the 8 float lanes of a vector.
 * Small planes (down to 6x6) leave the per-plane loops of dwconv.c mostly
 * edges and tails; here 8 channels of a sample become a "bundle", a
 * zero-padded plane [H+2pad][W+2pad][8], where every tap of every output is
 * one full-width multiply-add (each lane with its channel's weight) with no
 * edge cases, whatever the stride. Planes are transposed into bundles and
 * back 8x8 at a time. The 8 planes of a bundle are adjacent in memory, so
 * each bundle is one contiguous read and write: bundles of 8 samples of one
 * channel (planes C*H*W floats apart) spent most of their time waiting for
 * the cache. Forward items are (group of 8 channels, sample) pairs;
 * backward is split by group, each walking the samples in order, so each
 * channel's gradient has a single writer and its sums run in a fixed
 * order. */
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
 * m and the border are zero. With sc (else NULL), the planes are a bn's
 * input and each value becomes max(x sc[s] + sh[s], 0), bn.c's expression
 * (the border stays zero: the convolution pads the bn's output). */
VEC_CLONES static void bundle_load(float *b, const float *x, long stride, int m, int H, int W,
                                   int pad, const float *sc, const float *sh) {
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
  if (m == LANES) {
    vf8 va = sc ? v8_load(sc) : v8_set(1.0f), vb = sc ? v8_load(sh) : v8_set(0.0f);
    for (; q + LANES <= hw; q += LANES) {
      vf8 r[LANES];
      for (int s = 0; s < LANES; s++) r[s] = v8_at(x + s * stride + q);
      transpose8(r);
      if (sc)
        for (int i = 0; i < LANES; i++) {
          vf8 v = r[i] * va + vb;
          r[i] = v8_where_pos(v, v);
        }
      for (int i = 0; i < LANES; i++, walk_next(&k)) v8_at(b + LANES * k.pos) = r[i];
    }
  }
  for (; q < hw; q++, walk_next(&k))
    for (int s = 0; s < LANES; s++) {
      float v = s < m ? x[s * stride + q] : 0.0f;
      if (sc && s < m) {
        v = v * sc[s] + sh[s];
        v = v > 0.0f ? v : 0.0f;
      }
      b[LANES * k.pos + s] = v;
    }
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
 * when relu); in: a bundle padded by K/2, Wp wide; out: OH x OW unpadded;
 * w: [K*K][8] each tap's weight per lane, bias: [8]. Inlined with K
 * constant, so the taps unroll and the weights stay in registers. */
static inline __attribute__((always_inline)) void
bundle_conv(float *out, const float *in, const float *w, const float *bias, int K, int S, int OH,
            int OW, long Wp, int relu) {
  vf8 wv[K * K];
  for (int t = 0; t < K * K; t++) wv[t] = v8_load(w + LANES * t);
  for (int oy = 0; oy < OH; oy++)
    for (int ox = 0; ox < OW; ox++) {
      const float *base = in + LANES * ((long)oy * S * Wp + (long)ox * S);
      vf8 a = v8_load(bias);
      for (int ky = 0; ky < K; ky++)
        for (int kx = 0; kx < K; kx++) a += wv[ky * K + kx] * v8_at((float *)base + LANES * (ky * Wp + kx));
      if (relu) a = v8_where_pos(a, a);
      v8_at(out + LANES * ((long)oy * OW + ox)) = a;
    }
}

/* The adjoint: with d = dy[oy][ox], for every tap t at (ky, kx):
 * acc[t] += d x[oy S + ky][ox S + kx] and dsum += d per lane (carried from
 * call to call in memory), dx[oy S + ky][ox S + kx] += w[t] d (when dx).
 * x, dx: bundles padded by K/2; dx zeroed by the caller. */
static inline __attribute__((always_inline)) void
bundle_adjoint(float *acc, float *dsum, float *dx, const float *dy, const float *x,
               const float *w, int K, int S, int OH, int OW, long Wp) {
  vf8 wv[K * K], av[K * K], ds = v8_load(dsum);
  for (int t = 0; t < K * K; t++) wv[t] = v8_load(w + LANES * t), av[t] = v8_load(acc + LANES * t);
  for (int oy = 0; oy < OH; oy++)
    for (int ox = 0; ox < OW; ox++) {
      vf8 d = v8_at((float *)dy + LANES * ((long)oy * OW + ox));
      long base = LANES * ((long)oy * S * Wp + (long)ox * S);
      ds += d;
      for (int ky = 0; ky < K; ky++)
        for (int kx = 0; kx < K; kx++) {
          long at = base + LANES * (ky * Wp + kx);
          av[ky * K + kx] += d * v8_at((float *)x + at);
          if (dx) v8_at(dx + at) += wv[ky * K + kx] * d;
        }
    }
  for (int t = 0; t < K * K; t++) v8_at(acc + LANES * t) = av[t];
  v8_at(dsum) = ds;
}

/* The kernels above for K = 3 (every shipped architecture) and for any K. */
VEC_CLONES static void conv_k3(float *out, const float *in, const float *w, const float *bias,
                               int S, int OH, int OW, long Wp, int relu) {
  bundle_conv(out, in, w, bias, 3, S, OH, OW, Wp, relu);
}
VEC_CLONES static void conv_kn(float *out, const float *in, const float *w, const float *bias,
                               int K, int S, int OH, int OW, long Wp, int relu) {
  bundle_conv(out, in, w, bias, K, S, OH, OW, Wp, relu);
}
VEC_CLONES static void adjoint_k3(float *acc, float *dsum, float *dx, const float *dy,
                                  const float *x, const float *w, int S, int OH, int OW, long Wp) {
  bundle_adjoint(acc, dsum, dx, dy, x, w, 3, S, OH, OW, Wp);
}
VEC_CLONES static void adjoint_kn(float *acc, float *dsum, float *dx, const float *dy,
                                  const float *x, const float *w, int K, int S, int OH, int OW,
                                  long Wp) {
  bundle_adjoint(acc, dsum, dx, dy, x, w, K, S, OH, OW, Wp);
}

static long padded_pixels(const layer *l) {
  return (long)(l->a.h + 2 * l->pad) * (l->a.w + 2 * l->pad);
}

size_t dwconv_batch_scratch_size(const layer *l) {
  /* x and dx bundles (padded), y / dy bundle, dy planes from a bn's gradient */
  return (size_t)LANES * (2 * padded_pixels(l) + 2 * (long)l->a.oh * l->a.ow);
}

static int groups_of(int C) { return (C + LANES - 1) / LANES; }

int dwconv_batch_items(const layer *l, int n) { return n * groups_of(l->a.c); }
int dwconv_batch_groups(const layer *l) { return groups_of(l->a.c); }

/* Group g's channels (m of them, the last group may be short) as lanes:
 * w: [K*K][8] tap weights, bias: [8]; with a bn before (pre), its scale and
 * shift; lanes past m are zero. */
typedef struct {
  float w[ARCH_MAX_KERNEL * ARCH_MAX_KERNEL * LANES] __attribute__((aligned(32)));
  float bias[LANES] __attribute__((aligned(32)));
  float sc[LANES] __attribute__((aligned(32)));
  float sh[LANES] __attribute__((aligned(32)));
  const float *pre_sc, *pre_sh; /* sc, sh with a bn before, else NULL */
  int c0, m;
} lane_params;

static void load_group(lane_params *p, const layer *l, const layer *pre, int g) {
  int KK = l->a.k * l->a.k;
  p->c0 = g * LANES;
  p->m = l->a.c - p->c0 < LANES ? l->a.c - p->c0 : LANES;
  for (int i = 0; i < LANES; i++) {
    int c = p->c0 + i, in = i < p->m;
    for (int t = 0; t < KK; t++) p->w[LANES * t + i] = in ? l->w[(size_t)c * KK + t] : 0.0f;
    p->bias[i] = in ? l->b[c] : 0.0f;
    p->sc[i] = in && pre ? bn_scale(pre, c) : 0.0f;
    p->sh[i] = in && pre ? bn_shift(pre, c, p->sc[i]) : 0.0f;
  }
  p->pre_sc = pre ? p->sc : NULL;
  p->pre_sh = pre ? p->sh : NULL;
}

/* items: (group of 8 channels, sample) pairs, group-major so that a piece
 * of items sets up each group's lane parameters once */
void dwconv_batch_forward_items(void *ctx, int part, int begin, int end) {
  const dwconv_job *j = ctx;
  const layer *l = j->l;
  int C = l->a.c, K = l->a.k, S = l->a.s, OH = l->a.oh, OW = l->a.ow;
  long ihw = (long)l->a.h * l->a.w, ohw = (long)OH * OW, Wp = l->a.w + 2 * l->pad;
  float *xb = j->ws->col[part], *yb = xb + LANES * padded_pixels(l);
  lane_params p;
  int loaded = -1;
  for (int item = begin; item < end; item++) {
    int g = item / j->n, s = item % j->n;
    if (g != loaded) load_group(&p, l, j->pre, g), loaded = g;
    long first = (long)s * C + p.c0;
    bundle_load(xb, j->in + first * ihw, ihw, p.m, l->a.h, l->a.w, l->pad, p.pre_sc, p.pre_sh);
    if (K == 3) conv_k3(yb, xb, p.w, p.bias, S, OH, OW, Wp, l->fuse_relu);
    else conv_kn(yb, xb, p.w, p.bias, K, S, OH, OW, Wp, l->fuse_relu);
    bundle_store(j->out + first * ohw, ohw, p.m, yb, OH, OW, 0);
  }
}

/* groups [begin, end), every sample of each in order */
void dwconv_batch_backward_groups(void *ctx, int part, int begin, int end) {
  const dwconv_job *j = ctx;
  const layer *l = j->l;
  int C = l->a.c, K = l->a.k, S = l->a.s, OH = l->a.oh, OW = l->a.ow, H = l->a.h, W = l->a.w;
  int KK = K * K;
  long ihw = (long)H * W, ohw = (long)OH * OW, Wp = W + 2 * l->pad, P = padded_pixels(l);
  float *xb = j->ws->col[part], *dxb = xb + LANES * P, *dyb = dxb + LANES * P;
  float *dyp = dyb + LANES * ohw; /* a bundle's dy planes, from the bn after (post) */
  for (int g = begin; g < end; g++) {
    lane_params p;
    load_group(&p, l, j->pre, g);
    float acc[ARCH_MAX_KERNEL * ARCH_MAX_KERNEL * LANES] __attribute__((aligned(32))) = {0};
    float dsum[LANES] __attribute__((aligned(32))) = {0};
    for (int s = 0; s < j->n; s++) {
      long first = (long)s * C + p.c0;
      bundle_load(xb, j->in + first * ihw, ihw, p.m, H, W, l->pad, p.pre_sc, p.pre_sh);
      const float *dy = j->dout + first * ohw;
      if (j->post) {
        for (int i = 0; i < p.m; i++)
          bn_grad_plane(j->post, p.c0 + i, dyp + i * ohw, dy + i * ohw,
                        j->post->x + (first + i) * ohw, ohw);
        dy = dyp;
      }
      bundle_load(dyb, dy, ohw, p.m, OH, OW, 0, NULL, NULL);
      float *dx = j->din ? dxb : NULL;
      if (dx) memset(dx, 0, sizeof(float) * LANES * P);
      if (K == 3) adjoint_k3(acc, dsum, dx, dyb, xb, p.w, S, OH, OW, Wp);
      else adjoint_kn(acc, dsum, dx, dyb, xb, p.w, K, S, OH, OW, Wp);
      if (dx) bundle_store(j->din + first * ihw, ihw, p.m, dx, H, W, l->pad);
    }
    if (j->param_grads)
      for (int i = 0; i < p.m; i++) {
        int c = p.c0 + i;
        for (int t = 0; t < KK; t++) l->dw[(size_t)c * KK + t] += acc[LANES * t + i];
        l->db[c] += dsum[i];
      }
  }
}
