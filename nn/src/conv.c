/* conv: K x K convolution, zero padding K/2, with bias, as im2col + SGEMM.
 * Per sample: y[OC, OH*OW] = W[OC, C*K*K] x col[C*K*K, OH*OW] + b, where
 * col = im2col(x); a 1x1 stride-1 conv uses x itself as col. Batches are split
 * by sample across nn's threads (each with its own col scratch and gradient
 * accumulator); a single sample is split by output channel instead. */
#include "layer.h"
#include "threads.h"
#include "vec.h"

#include <cblas.h>
#include <string.h>

static int is_pointwise(const layer *l) { return l->a.k == 1 && l->a.s == 1; }



/* First and one-past-last output x whose input column ox*S - pad + kx lies
 * inside [0, W). */
static void valid_range(int W, int OW, int S, int pad, int kx, int *lo, int *hi) {
  int a = pad - kx;
  *lo = a > 0 ? (a + S - 1) / S : 0;
  int b = W - 1 + pad - kx;
  *hi = b < 0 ? 0 : b / S + 1;
  if (*hi > OW) *hi = OW;
  if (*lo > *hi) *lo = *hi;
}

/* col[(c*K + ky)*K + kx][oy*OW + ox] = x[c][oy*S - pad + ky][ox*S - pad + kx],
 * 0 outside the image; output rows [oy0, oy1) only. x: [C, H, W] */
typedef struct {
  int C, H, W, K, S, pad, OH, OW;
} geom;

static geom fwd_geom(const layer *l) {
  return (geom){l->a.c, l->a.h, l->a.w, l->a.k, l->a.s, l->pad, l->a.oh, l->a.ow};
}

static void im2col_g(float *col, const float *x, geom g, int oy0, int oy1) {
  int C = g.C, H = g.H, W = g.W, K = g.K, S = g.S, pad = g.pad, OH = g.OH, OW = g.OW;
  for (int c = 0; c < C; c++)
    for (int ky = 0; ky < K; ky++)
      for (int kx = 0; kx < K; kx++) {
        float *row = col + (size_t)((c * K + ky) * K + kx) * OH * OW;
        int lo, hi;
        valid_range(W, OW, S, pad, kx, &lo, &hi);
        for (int oy = oy0; oy < oy1; oy++) {
          float *r = row + (size_t)oy * OW;
          int iy = oy * S - pad + ky;
          if (iy < 0 || iy >= H) {
            memset(r, 0, sizeof(float) * OW);
            continue;
          }
          const float *xr = x + ((size_t)c * H + iy) * W - pad + kx;
          for (int ox = 0; ox < lo; ox++) r[ox] = 0.0f;
          if (S == 1 && hi - lo >= 16) {
            memcpy(r + lo, xr + lo, sizeof(float) * (hi - lo));
          } else if (S == 1) {
            for (int ox = lo; ox < hi; ox++) r[ox] = xr[ox]; /* short rows: no call */
          } else {
            for (int ox = lo; ox < hi; ox++) r[ox] = xr[ox * S];
          }
          for (int ox = hi; ox < OW; ox++) r[ox] = 0.0f;
        }
      }
}

static void im2col(float *col, const float *x, const layer *l, int oy0, int oy1) {
  im2col_g(col, x, fwd_geom(l), oy0, oy1);
}

/* The adjoint of im2col: dx = 0, then dx[c][iy][ix] += col[...] for every
 * column entry that im2col read from (c, iy, ix). dx: [C, H, W] */
static void col2im(float *dx, const float *col, const layer *l) {
  int C = l->a.c, H = l->a.h, W = l->a.w, K = l->a.k, S = l->a.s, pad = l->pad;
  int OH = l->a.oh, OW = l->a.ow;
  memset(dx, 0, sizeof(float) * C * H * W);
  for (int c = 0; c < C; c++)
    for (int ky = 0; ky < K; ky++)
      for (int kx = 0; kx < K; kx++) {
        const float *row = col + (size_t)((c * K + ky) * K + kx) * OH * OW;
        int lo, hi;
        valid_range(W, OW, S, pad, kx, &lo, &hi);
        for (int oy = 0; oy < OH; oy++) {
          int iy = oy * S - pad + ky;
          if (iy < 0 || iy >= H) continue;
          const float *r = row + (size_t)oy * OW;
          float *xr = dx + ((size_t)c * H + iy) * W - pad + kx;
          if (S == 1) {
            for (int ox = lo; ox < hi; ox++) xr[ox] += r[ox];
          } else {
            for (int ox = lo; ox < hi; ox++) xr[ox * S] += r[ox];
          }
        }
      }
}

/* y[o] += b[o] over each row, then max(y, 0) when relu: rows [o0, o1) */
static void bias_act(float *y, const float *b, int o0, int o1, int HW, int relu) {
  for (int o = o0; o < o1; o++) vec_affine(y + (size_t)o * HW, y + (size_t)o * HW, 1.0f, b[o], HW, relu);
}

/* out rows [o0, o1) of one sample from its column matrix */
static void forward_rows(const layer *l, float *out, const float *col, int o0, int o1) {
  int HW = l->a.oh * l->a.ow, CKK = l->a.c * l->a.k * l->a.k;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, o1 - o0, HW, CKK, 1.0f,
              l->w + (size_t)o0 * CKK, CKK, col, HW, 0.0f, out + (size_t)o0 * HW, HW);
  bias_act(out, l->b, o0, o1, HW, l->fuse_relu);
}

typedef struct {
  const layer *l;
  float *out, *din;
  const float *in, *dout;
  const layer_ws *ws;
  const float *wflip; /* [C, OC, K, K] flipped kernel for the stride-1 dx, or NULL */
  int param_grads;
} job;

static void fwd_samples(void *ctx, int part, int begin, int end) {
  const job *j = ctx;
  const layer *l = j->l;
  long isz = layer_in_size(l), osz = layer_out_size(l);
  for (int s = begin; s < end; s++) {
    const float *x = j->in + s * isz;
    const float *col = x;
    if (!is_pointwise(l)) {
      im2col(j->ws->col[part], x, l, 0, l->a.oh);
      col = j->ws->col[part];
    }
    forward_rows(l, j->out + s * osz, col, 0, l->a.oc);
  }
}

/* Single-sample split by output rows: each part builds the columns of its
 * rows [oy0, oy1) and multiplies them, so no part packs another's data and
 * one synchronisation covers the layer. */
static void fwd_row_block(void *ctx, int part, int oy0, int oy1) {
  const job *j = ctx;
  const layer *l = j->l;
  (void)part;
  int OC = l->a.oc, OW = l->a.ow, HW = l->a.oh * OW, CKK = l->a.c * l->a.k * l->a.k;
  const float *col = j->in;
  if (!is_pointwise(l)) {
    im2col(j->ws->col[0], j->in, l, oy0, oy1);
    col = j->ws->col[0];
  }
  int c0 = oy0 * OW, nc = (oy1 - oy0) * OW;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, OC, nc, CKK, 1.0f, l->w, CKK, col + c0,
              HW, 0.0f, j->out + c0, HW);
  for (int o = 0; o < OC; o++) {
    float *r = j->out + (size_t)o * HW + c0;
    vec_affine(r, r, 1.0f, l->b[o], nc, l->fuse_relu);
  }
}

void conv_forward(const layer *l, float *out, const float *in, int n, const layer_ws *ws) {
  job j = {.l = l, .out = out, .in = in, .ws = ws};
  double flops = 2.0 * l->a.oc * l->a.c * l->a.k * l->a.k * l->a.oh * l->a.ow;
  int threads = par_parts(1 << 20, flops * n);
  if (threads > ws->threads) threads = ws->threads;
  if (n >= threads) {
    par_for(n, threads, fwd_samples, &j);
    return;
  }
  long isz = layer_in_size(l), osz = layer_out_size(l);
  for (int s = 0; s < n; s++) {
    j.in = in + s * isz;
    j.out = out + s * osz;
    par_for(l->a.oh, threads, fwd_row_block, &j);
  }
}

/* Per sample: dW += dy x col^T; db += sum(dy); dcol = W^T x dy; dx = col2im(dcol).
 * Part 0 accumulates into the net's gradients, other parts into their own
 * accumulators, summed afterwards in part order so results repeat. */
static void bwd_samples(void *ctx, int part, int begin, int end) {
  const job *j = ctx;
  const layer *l = j->l;
  int OC = l->a.oc, HW = l->a.oh * l->a.ow, CKK = l->a.c * l->a.k * l->a.k;
  long isz = layer_in_size(l), osz = layer_out_size(l);
  size_t wcount = (size_t)OC * CKK;
  float *dw = part == 0 ? l->dw : j->ws->gacc[part];
  float *db = part == 0 ? l->db : j->ws->gacc[part] + wcount;
  float *col = j->ws->col[part];
  for (int s = begin; s < end; s++) {
    const float *x = j->in + s * isz, *dy = j->dout + s * osz;
    if (j->param_grads) {
      const float *cols = x;
      if (!is_pointwise(l)) {
        im2col(col, x, l, 0, l->a.oh);
        cols = col;
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, OC, CKK, HW, 1.0f, dy, HW, cols, HW,
                  1.0f, dw, CKK);
      for (int o = 0; o < OC; o++) db[o] += vec_sum(dy + (size_t)o * HW, HW);
    }
    if (!j->din) continue;
    float *dx = j->din + s * isz;
    if (j->wflip) {
      /* stride 1: dx = dy correlated with the flipped, transposed kernel,
       * dx[C, HW] = Wf[C, OC*K*K] x im2col(dy) */
      geom g = {OC, l->a.oh, l->a.ow, l->a.k, 1, l->pad, l->a.h, l->a.w};
      im2col_g(col, dy, g, 0, l->a.h);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, l->a.c, HW, OC * l->a.k * l->a.k,
                  1.0f, j->wflip, OC * l->a.k * l->a.k, col, HW, 0.0f, dx, HW);
    } else if (is_pointwise(l)) {
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, CKK, HW, OC, 1.0f, l->w, CKK, dy, HW,
                  0.0f, dx, HW);
    } else {
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, CKK, HW, OC, 1.0f, l->w, CKK, dy, HW,
                  0.0f, col, HW);
      col2im(dx, col, l);
    }
  }
}

/* The flipped-kernel dx (im2col of dy, then one GEMM with K = OC*K*K)
 * beats GEMM-then-col2im (K = OC, then a scattered sum) for stride-1 3x3+
 * convs with enough input channels; the im2col of a 1-channel input's
 * gradient would cost more than it saves. */
static int wflip_pays(const layer *l) { return l->a.s == 1 && l->a.k > 1 && l->a.c >= 8; }

size_t conv_col_size(const layer *l) {
  if (is_pointwise(l)) return 0;
  int rows = l->a.c;
  if (wflip_pays(l) && l->a.oc > rows) rows = l->a.oc; /* im2col of dy */
  return (size_t)rows * l->a.k * l->a.k * l->a.oh * l->a.ow;
}

void conv_backward(const layer *l, float *din, const float *dout, const float *in, int n,
                   int param_grads, const layer_ws *ws) {
  job j = {.l = l, .din = din, .in = in, .dout = dout, .ws = ws, .param_grads = param_grads};
  if (din && wflip_pays(l)) {
    /* Wf[c][o][ky][kx] = W[o][c][K-1-ky][K-1-kx], in gacc[0], which part 0
     * does not use (it accumulates straight into the net's gradients) */
    int C = l->a.c, OC = l->a.oc, K = l->a.k, KK = K * K;
    float *wf = ws->gacc[0];
    for (int c = 0; c < C; c++)
      for (int o = 0; o < OC; o++)
        for (int t = 0; t < KK; t++)
          wf[((size_t)c * OC + o) * KK + t] = l->w[((size_t)o * C + c) * KK + (KK - 1 - t)];
    j.wflip = wf;
  }
  double flops = 4.0 * l->a.oc * l->a.c * l->a.k * l->a.k * l->a.oh * l->a.ow * n;
  int parts = par_parts(n, flops);
  if (parts > ws->threads) parts = ws->threads;
  size_t acc = (size_t)l->a.oc * l->a.c * l->a.k * l->a.k + l->a.oc;
  if (param_grads)
    for (int p = 1; p < parts; p++) memset(ws->gacc[p], 0, sizeof(float) * acc);
  par_for(n, parts, bwd_samples, &j);
  if (!param_grads) return;
  size_t wcount = acc - l->a.oc;
  for (int p = 1; p < parts; p++) {
    const float *g = ws->gacc[p];
    for (size_t i = 0; i < wcount; i++) l->dw[i] += g[i];
    for (int o = 0; o < l->a.oc; o++) l->db[o] += g[wcount + o];
  }
}
