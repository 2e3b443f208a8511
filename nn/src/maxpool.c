/* maxpool: the maximum of each S x S window (kernel = stride = S, floor),
 * split by plane (sample x channel) across nn's threads. In training the
 * winner of each window is kept for backward. */
#include "layer_ops.h"
#include "threads.h"
#include "vec.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  const layer *l;
  float *out;
  const float *in;
  int *argmax;
} job;

/* y = max over the S x S window; argmax (if non-NULL) records which input */
static void maxpool_part(void *ctx, int part, int begin, int end) {
  const job *j = ctx;
  const layer *l = j->l;
  (void)part;
  int W = l->a.w, S = l->a.s, OH = l->a.oh, OW = l->a.ow;
  long ihw = (long)l->a.h * W, ohw = (long)OH * OW;
  for (int p = begin; p < end; p++) {
    const float *x = j->in + p * ihw;
    float *y = j->out + p * ohw;
    int *am = j->argmax ? j->argmax + p * ohw : NULL;
    if (S == 2 && am) { /* training: the winner of each window, first on ties */
      for (int oy = 0; oy < OH; oy++) {
        const float *r0 = x + (size_t)2 * oy * W, *r1 = r0 + W;
        float *yr = y + (size_t)oy * OW;
        int *ar = am + (size_t)oy * OW, i0 = 2 * oy * W;
        for (int ox = 0; ox < OW; ox++) {
          float m = r0[2 * ox];
          int best = i0 + 2 * ox;
          if (r0[2 * ox + 1] > m) m = r0[2 * ox + 1], best = i0 + 2 * ox + 1;
          if (r1[2 * ox] > m) m = r1[2 * ox], best = i0 + W + 2 * ox;
          if (r1[2 * ox + 1] > m) m = r1[2 * ox + 1], best = i0 + W + 2 * ox + 1;
          yr[ox] = m;
          ar[ox] = best;
        }
      }
      continue;
    }
    if (S == 2) { /* the common case at inference: no argmax, no branches */
      for (int oy = 0; oy < OH; oy++) {
        const float *r0 = x + (size_t)2 * oy * W, *r1 = r0 + W;
        float *yr = y + (size_t)oy * OW;
        for (int ox = 0; ox < OW; ox++) {
          float a = r0[2 * ox] > r0[2 * ox + 1] ? r0[2 * ox] : r0[2 * ox + 1];
          float b = r1[2 * ox] > r1[2 * ox + 1] ? r1[2 * ox] : r1[2 * ox + 1];
          yr[ox] = a > b ? a : b;
        }
      }
      continue;
    }
    for (int oy = 0; oy < OH; oy++)
      for (int ox = 0; ox < OW; ox++) {
        int best = oy * S * W + ox * S;
        float m = x[best];
        for (int ky = 0; ky < S; ky++)
          for (int kx = 0; kx < S; kx++) {
            int idx = (oy * S + ky) * W + ox * S + kx;
            if (x[idx] > m) m = x[idx], best = idx;
          }
        y[oy * OW + ox] = m;
        if (am) am[oy * OW + ox] = best;
      }
  }
}

void maxpool_forward(const layer *l, float *out, const float *in, int n, int *argmax) {
  job j = {.l = l, .out = out, .in = in, .argmax = argmax};
  int planes = n * l->a.c;
  par_for(planes, par_parts(planes, (double)layer_in_size(l) * n), maxpool_part, &j);
}

/* dx = 0 except dx[argmax] = dy */
static void maxpool_bwd_part(void *ctx, int part, int begin, int end) {
  const job *j = ctx;
  const layer *l = j->l;
  (void)part;
  long ihw = (long)l->a.h * l->a.w, ohw = (long)l->a.oh * l->a.ow;
  for (int p = begin; p < end; p++) {
    float *dx = j->out + p * ihw;
    const float *dy = j->in + p * ohw;
    const int *am = j->argmax + p * ohw;
    if (l->a.s == 2 && l->a.w == 2 * l->a.ow && l->a.h == 2 * l->a.oh) {
      /* windows tile the plane: each input gets its window's dy or 0 */
      int W = l->a.w, OW = l->a.ow;
      for (int oy = 0; oy < l->a.oh; oy++) {
        float *d0 = dx + (size_t)2 * oy * W, *d1 = d0 + W;
        int i0 = 2 * oy * W;
        for (int ox = 0; ox < OW; ox++) {
          int a = am[oy * OW + ox] - i0 - 2 * ox; /* 0, 1, W or W + 1 */
          float g = dy[oy * OW + ox];
          d0[2 * ox] = a == 0 ? g : 0.0f;
          d0[2 * ox + 1] = a == 1 ? g : 0.0f;
          d1[2 * ox] = a == W ? g : 0.0f;
          d1[2 * ox + 1] = a == W + 1 ? g : 0.0f;
        }
      }
      continue;
    }
    memset(dx, 0, sizeof(float) * ihw);
    for (long i = 0; i < ohw; i++) dx[am[i]] += dy[i];
  }
}

void maxpool_backward(const layer *l, float *din, const float *dout, int n) {
  job j = {.l = l, .out = din, .in = dout, .argmax = l->saved};
  int planes = n * l->a.c;
  par_for(planes, par_parts(planes, (double)layer_in_size(l) * n), maxpool_bwd_part, &j);
}

/* The row of the layer table. */

static int shape(arch_layer *a, char *why, size_t len) {
  if (a->pad >= 0) return pool_shape(a, why, len); /* maxpool K S P */
  a->k = a->s;
  a->oh = a->h / a->s;
  a->ow = a->w / a->s;
  if (a->oh == 0 || a->ow == 0) {
    snprintf(why, len, "maxpool %d: input is %dx%d, too small (output would be %dx%d)", a->s,
             a->h, a->w, a->oh, a->ow);
    return -1;
  }
  return 0;
}

static void needs(const layer *l, int max_batch, layer_needs *need) {
  need->saved = (size_t)max_batch * layer_out_size(l); /* ints, as many as floats */
}

/* `maxpool K S P` (v2) runs pool.c's windows */
static void forward(layer *l, const layer_fwd *f) {
  if (l->a.pad >= 0) pool_forward(l, f->out, f->in, f->n, f->train ? l->saved : NULL);
  else maxpool_forward(l, f->out, f->in, f->n, f->train ? l->saved : NULL);
}

static void backward(const layer *l, const layer_bwd *b) {
  if (l->a.pad >= 0) pool_backward(l, b->din, b->dout, b->n);
  else maxpool_backward(l, b->din, b->dout, b->n);
}

const layer_ops maxpool_ops = {
    .word = "maxpool",
    .usage = "S",
    .nargs = 1,
    .args = {{"S", ARG_INT, 1, ARCH_MAX_STRIDE, offsetof(arch_layer, s)}},
    .alt_usage = "K S P",
    .alt_nargs = 3,
    .alt_args = POOL_WINDOW_ARGS,
    .shape = shape,
    .needs = needs,
    .forward = forward,
    .backward = backward,
};
