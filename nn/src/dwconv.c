/* dwconv: depthwise K x K convolution (one filter per channel), zero padding
 * K/2, with bias, as direct loops: SGEMM would see 1-row matrices here.
 * y[n,c,oy,ox] = b[c] + sum_{ky,kx} w[c,ky,kx] x[n,c,oy*S-pad+ky,ox*S-pad+kx].
 * Work is split by channel, so each channel's gradient has a single writer. */
#include "dwconv.h"
#include "layer_ops.h"
#include "threads.h"
#include "vec.h"

#include <stddef.h>
#include <string.h>



/* Forward works on a padded copy of each input plane split into S x S
 * phase planes, P[ry][rx][i][j] = xpad[S i + ry][S j + rx], each QH x QW
 * (plus a zero row of slack). Tap (ky, kx) of output (oy, ox) then reads
 * phase (ky%S, kx%S) at (oy + ky/S, ox + kx/S): for every tap the whole
 * output is one contiguous multiply-add over OH rows of stride QW (columns
 * past OW are computed and dropped), whatever the stride. */
#define MAX_TAPS (ARCH_MAX_KERNEL * ARCH_MAX_KERNEL)

/* acc[i] = sum_t w[t] src[t][i] for i < n: all taps of one 8-wide chunk in
 * a register. Compiled twice, for AVX2 and baseline x86-64, picked at load
 * time: this is the one compute-bound loop nn runs outside SGEMM. */
VEC_CLONES static void taps_sum(float *acc, const float *const *src, const float *w, int taps, long n) {
  long i = 0;
  for (; i + 8 <= n; i += 8) {
    vf8 a = {0};
    for (int t = 0; t < taps; t++) {
      float wt = w[t];
      a += (vf8){wt, wt, wt, wt, wt, wt, wt, wt} * *(const vf8 *)(src[t] + i);
    }
    *(vf8 *)(acc + i) = a;
  }
  for (; i < n; i++) {
    float a = 0.0f;
    for (int t = 0; t < taps; t++) a += w[t] * src[t][i];
    acc[i] = a;
  }
}

/* dw[t] += sum_i dy[i] src[t][i] for i < n: taps in groups of 9 (a 3x3
 * kernel's), each 8-wide chunk of dy loaded once for the whole group. Lane
 * sums are added in a fixed order, so both clones give the same bits. */
VEC_CLONES static void taps_dot(float *dw, const float *dy, const float *const *src, int taps, long n) {
  enum { G = 9 };
  for (int t0 = 0; t0 < taps; t0 += G) {
    const float *p[G];
    int m = taps - t0 < G ? taps - t0 : G;
    for (int g = 0; g < G; g++) p[g] = src[t0 + (g < m ? g : 0)];
    vf8 a[G] = {{0}};
    long i = 0;
    for (; i + 8 <= n; i += 8) {
      vf8 d = *(const vf8 *)(dy + i);
#pragma GCC unroll 9
      for (int g = 0; g < G; g++) a[g] += d * *(const vf8 *)(p[g] + i);
    }
    for (int g = 0; g < m; g++) {
      float sum = vf8_hsum(a[g]);
      for (long k = i; k < n; k++) sum += dy[k] * p[g][k];
      dw[t0 + g] += sum;
    }
  }
}

static void phase_dims(const layer *l, int *qh, int *qw) {
  int S = l->a.s;
  *qh = (l->a.h + 2 * l->pad + S - 1) / S;
  *qw = (l->a.w + 2 * l->pad + S - 1) / S;
}

size_t dwconv_scratch_size(const layer *l) {
  int qh, qw, S = l->a.s;
  phase_dims(l, &qh, &qw);
  /* backward: phases of x, dy at stride QW, phases of dx */
  size_t planes = 2 * (size_t)S * S * (qh + 1) * qw + (size_t)l->a.oh * qw;
  size_t batch = dwconv_batch_scratch_size(l);
  return planes > batch ? planes : batch;
}

/* Stride 2: input column 2m + e (e = 0, 1) is padded column 2m + e + pad,
 * i.e. phase rx = (e + pad) % 2 at (2m + e + pad) / 2. The row splits into
 * its even and odd columns, 4 of each per shuffle. row: phase 0 of this
 * padded row; phase 1 is `plane` floats further. */
static void split_row2(float *row, size_t plane, int pad, const float *xr, int W) {
  float *ev = row + (size_t)(pad % 2) * plane + pad / 2;
  float *od = row + (size_t)((1 + pad) % 2) * plane + (1 + pad) / 2;
  int m = 0;
  for (; 2 * m + 8 <= W; m += 4) { /* 4 wide: this runs on baseline x86-64 */
    vf a = vf_load(xr + 2 * m), b = vf_load(xr + 2 * m + 4);
    vf_store(ev + m, VF_SHUFFLE2(a, b, 0, 2, 4, 6));
    vf_store(od + m, VF_SHUFFLE2(a, b, 1, 3, 5, 7));
  }
  for (; 2 * m < W; m++) {
    ev[m] = xr[2 * m];
    if (2 * m + 1 < W) od[m] = xr[2 * m + 1];
  }
}

/* ph: S*S phase planes of the zero-padded plane x[H,W] (see above) */
static void build_phases(const layer *l, float *ph, const float *x) {
  int H = l->a.h, W = l->a.w, S = l->a.s, pad = l->pad, QH, QW;
  phase_dims(l, &QH, &QW);
  size_t plane = (size_t)(QH + 1) * QW;
  if (S == 1) {
    /* zero only the border: rows above, the 2 pad columns between rows
     * (a row's right pad and the next row's left pad), rows below */
    memset(ph, 0, sizeof(float) * ((size_t)pad * QW + pad));
    for (int iy = 0; iy < H; iy++) {
      float *r = ph + (size_t)(iy + pad) * QW + pad;
      vec_copy(r, x + (size_t)iy * W, W);
      if (pad == 1) r[W] = 0.0f, r[W + 1] = 0.0f;
      else memset(r + W, 0, sizeof(float) * 2 * pad);
    }
    size_t done = (size_t)(H + pad) * QW + pad;
    memset(ph + done, 0, sizeof(float) * (plane - done));
    return;
  }
  memset(ph, 0, sizeof(float) * S * S * plane);
  for (int iy = 0; iy < H; iy++) {
    int r = iy + pad;
    const float *xr = x + (size_t)iy * W;
    float *row = ph + (size_t)(r % S) * S * plane + (size_t)(r / S) * QW;
    if (S == 2) {
      split_row2(row, plane, pad, xr, W);
      continue;
    }
    /* phase rx holds padded columns S j + rx, i.e. input columns S j + rx - pad */
    for (int rx = 0; rx < S; rx++) {
      float *dst = row + (size_t)rx * plane;
      int lo, hi;
      conv_valid_range(W, QW, S, pad, rx, &lo, &hi);
      const float *src = xr + rx - pad;
      for (int jx = lo; jx < hi; jx++) dst[jx] = src[jx * S];
    }
  }
}

/* the adjoint of build_phases: dx[H,W] = the phase entries of real pixels */
static void gather_phases(const layer *l, float *dx, const float *ph) {
  int H = l->a.h, W = l->a.w, S = l->a.s, pad = l->pad, QH, QW;
  phase_dims(l, &QH, &QW);
  size_t plane = (size_t)(QH + 1) * QW;
  for (int iy = 0; iy < H; iy++) {
    int r = iy + pad;
    float *dr = dx + (size_t)iy * W;
    if (S == 1) {
      vec_copy(dr, ph + (size_t)r * QW + pad, W);
      continue;
    }
    /* input column ix sits in phase (ix + pad) % S at (ix + pad) / S */
    for (int rx = 0; rx < S; rx++) {
      const float *src = ph + (size_t)((r % S) * S + rx) * plane + (size_t)(r / S) * QW;
      int ix = ((rx - pad) % S + S) % S;
      for (int jx = (ix + pad) / S; ix < W; ix += S, jx++) dr[ix] = src[jx];
    }
  }
}

/* one plane: y[OH,OW] from x[H,W]; scratch: dwconv_scratch_size floats */
static void plane_forward(const layer *l, float *y, const float *x, const float *w, float b,
                          float *scratch) {
  int K = l->a.k, S = l->a.s;
  int OH = l->a.oh, OW = l->a.ow, QH, QW;
  phase_dims(l, &QH, &QW);
  size_t plane = (size_t)(QH + 1) * QW;
  float *ph = scratch, *acc = scratch + (size_t)S * S * plane;
  build_phases(l, ph, x);
  long n = (long)OH * QW;
  const float *src[MAX_TAPS];
  for (int ky = 0; ky < K; ky++)
    for (int kx = 0; kx < K; kx++)
      src[ky * K + kx] =
          ph + (size_t)((ky % S) * S + kx % S) * plane + (size_t)(ky / S) * QW + kx / S;
  taps_sum(acc, src, w, K * K, n);
  for (int oy = 0; oy < OH; oy++)
    vec_affine(y + (size_t)oy * OW, acc + (size_t)oy * QW, 1.0f, b, OW, l->fuse_relu);
}

static void fwd_planes(void *ctx, int part, int begin, int end) {
  const dwconv_job *j = ctx;
  const layer *l = j->l;
  int C = l->a.c, K = l->a.k;
  long ihw = (long)l->a.h * l->a.w, ohw = (long)l->a.oh * l->a.ow;
  for (int p = begin; p < end; p++) {
    int c = p % C;
    plane_forward(l, j->out + p * ohw, j->in + p * ihw, l->w + (size_t)c * K * K, l->b[c],
                  j->ws->col[part]);
  }
}

/* Bundles of 8 channels pay when they are mostly full, or when a batch
 * gives the per-plane loops many small planes anyway. */
int dwconv_bundles(const layer *l, int n) {
  return n >= DWCONV_BATCH_MIN || l->a.c >= DWCONV_BUNDLE_MIN_C;
}

void dwconv_forward(const layer *l, float *out, const float *in, int n, const layer *pre,
                    const layer_ws *ws) {
  dwconv_job j = {.l = l, .out = out, .in = in, .n = n, .pre = pre, .ws = ws};
  double flops = 2.0 * l->a.c * l->a.k * l->a.k * l->a.oh * l->a.ow * n;
  int batch = dwconv_bundles(l, n), items = batch ? dwconv_batch_items(l, n) : n * l->a.c;
  int parts = par_parts(items, flops);
  par_for(items, parts < ws->threads ? parts : ws->threads,
          batch ? dwconv_batch_forward_items : fwd_planes, &j);
}

/* Backward on the phase planes: with dy laid out at row stride QW (zeros
 * past OW), each tap t is one dot product and one multiply-add over the
 * whole plane: dw[t] += sum dy * P_t(x), P_t(dx) += w[t] dy; dx is then
 * gathered from its phase planes. Stride 1 instead pads dy like x: dx is
 * then the forward's tap sum over padded dy with the kernel flipped,
 * dx[i, j] = sum w[ky, kx] dyp[i + K-1-ky, j + K-1-kx], and dy's samples
 * for the dot products are the same plane shifted by (pad, pad). db += sum
 * dy. Split by channel, so each channel's gradient has one writer and sums
 * repeat. */
static void bwd_channels(void *ctx, int part, int begin, int end) {
  const dwconv_job *j = ctx;
  const layer *l = j->l;
  int C = l->a.c, K = l->a.k, S = l->a.s, OH = l->a.oh, OW = l->a.ow, QH, QW, KK = K * K;
  phase_dims(l, &QH, &QW);
  size_t plane = (size_t)(QH + 1) * QW;
  long ihw = (long)l->a.h * l->a.w, ohw = (long)OH * OW, n = (long)OH * QW;
  float *ph = j->ws->col[part], *dyq = ph + (size_t)S * S * plane, *dph = dyq + n;
  const float *xsrc[MAX_TAPS], *dysrc[MAX_TAPS];
  size_t off[MAX_TAPS];
  for (int ky = 0; ky < K; ky++)
    for (int kx = 0; kx < K; kx++)
      off[ky * K + kx] = (size_t)((ky % S) * S + kx % S) * plane + (size_t)(ky / S) * QW + kx / S;
  for (int t = 0; t < KK; t++) xsrc[t] = ph + off[t];
  /* stride 1: padded dy in dyq (a whole plane), dx's tap sums after it */
  float *dyp = dyq, *acc = dyq + plane;
  for (int t = 0; t < KK; t++) dysrc[t] = dyp + off[KK - 1 - t];
  if (S > 1) memset(dyq, 0, sizeof(float) * n);
  for (int c = begin; c < end; c++) {
    const float *w = l->w + (size_t)c * KK;
    float *dw = l->dw + (size_t)c * KK;
    for (int s = 0; s < j->n; s++) {
      long p = (long)s * C + c;
      const float *x = j->in + p * ihw, *dy = j->dout + p * ohw;
      float *dx = j->din ? j->din + p * ihw : NULL;
      if (j->param_grads) l->db[c] += vec_sum(dy, ohw);
      if (S == 1) {
        build_phases(l, dyp, dy); /* OH, OW = H, W: dy pads like x */
        if (j->param_grads) {
          build_phases(l, ph, x);
          taps_dot(dw, dyp + (size_t)l->pad * QW + l->pad, xsrc, KK, n);
        }
        if (dx) {
          taps_sum(acc, dysrc, w, KK, n);
          for (int oy = 0; oy < OH; oy++)
            vec_copy(dx + (size_t)oy * OW, acc + (size_t)oy * QW, OW);
        }
        continue;
      }
      for (int oy = 0; oy < OH; oy++) vec_copy(dyq + (size_t)oy * QW, dy + (size_t)oy * OW, OW);
      if (j->param_grads) {
        build_phases(l, ph, x);
        taps_dot(dw, dyq, xsrc, KK, n);
      }
      if (dx) {
        memset(dph, 0, sizeof(float) * S * S * plane);
        for (int t = 0; t < KK; t++) vec_axpy(dph + off[t], w[t], dyq, n);
        gather_phases(l, dx, dph);
      }
    }
  }
}

void dwconv_backward(const layer *l, float *din, const float *dout, const float *in, int n,
                     int param_grads, const layer *pre, const bn_grad *post,
                     const layer_ws *ws) {
  dwconv_job j = {.l = l, .din = din, .in = in, .dout = dout, .n = n, .param_grads = param_grads,
           .pre = pre, .post = post, .ws = ws};
  double flops = 4.0 * l->a.c * l->a.k * l->a.k * l->a.oh * l->a.ow * n;
  int batch = dwconv_bundles(l, n), items = batch ? dwconv_batch_groups(l) : l->a.c;
  int parts = par_parts(items, flops);
  par_for(items, parts < ws->threads ? parts : ws->threads,
          batch ? dwconv_batch_backward_groups : bwd_channels, &j);
}

/* The row of the layer table. */

static int tensors(layer *l, tensor_spec *t) {
  const arch_layer *a = &l->a;
  t[0] = (tensor_spec){"dwconv.weight", TENSOR_PARAM, 4, {a->c, 1, a->k, a->k}, INIT_HE, &l->w, &l->dw};
  t[1] = (tensor_spec){"dwconv.bias", TENSOR_PARAM, 1, {a->c}, INIT_ZERO, &l->b, &l->db};
  return 2;
}

static double macs(const arch_layer *a) { return (double)a->c * a->k * a->k * a->oh * a->ow; }

static void needs(const layer *l, int max_batch, layer_needs *need) {
  (void)max_batch;
  need->col = dwconv_scratch_size(l);
}

static void forward(layer *l, const layer_fwd *f) {
  dwconv_forward(l, f->out, f->in, f->n, f->pre, f->ws);
}

static void backward(const layer *l, const layer_bwd *b) {
  dwconv_backward(l, b->din, b->dout, b->in, b->n, b->param_grads, b->pre, b->post, b->ws);
}

static long folds_bn(const arch_layer *a) { return (long)a->k * a->k; }

const layer_ops dwconv_ops = {
    .word = "dwconv",
    .usage = "K STRIDE",
    .nargs = 2,
    .args = {{"K", ARG_INT, 1, ARCH_MAX_KERNEL, offsetof(arch_layer, k)},
             {"STRIDE", ARG_INT, 1, ARCH_MAX_STRIDE, offsetof(arch_layer, s)}},
    .shape = conv_shape_same,
    .tensors = tensors,
    .macs = macs,
    .needs = needs,
    .forward = forward,
    .backward = backward,
    .takes_bn_map = dwconv_bundles,
    .takes_bn_grad = dwconv_bundles,
    .folds_bn = folds_bn,
};
