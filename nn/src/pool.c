/* pool: pooling windows of any kernel K, stride S and zero-free padding P
 * (format v2): `maxpool K S P` (padding never wins) and `avgpool K S P`
 * (the mean of the window's cells inside the map: padding is not counted,
 * as ONNX's AveragePool by default). Output size floor((in + 2P - K) / S)
 * + 1. Direct loops, split by plane (sample x channel) across nn's
 * threads; maxpool keeps each window's winner for backward, which adds
 * (windows may overlap). `maxpool S` (v1) keeps its own faster file. */
#include "layer_ops.h"
#include "threads.h"

#include <float.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  const layer *l;
  float *out;
  const float *in;
  int *argmax;
} job;

/* the window of output (oy, ox) clipped to the map: rows [y0, y1), columns [x0, x1) */
static void pool_cells(const layer *l, int oy, int ox, int *y0, int *y1, int *x0, int *x1) {
  int K = l->a.k, S = l->a.s, P = l->pad;
  *y0 = oy * S - P, *x0 = ox * S - P;
  *y1 = *y0 + K, *x1 = *x0 + K;
  if (*y0 < 0) *y0 = 0;
  if (*x0 < 0) *x0 = 0;
  if (*y1 > l->a.h) *y1 = l->a.h;
  if (*x1 > l->a.w) *x1 = l->a.w;
}

static void fwd_part(void *ctx, int part, int begin, int end) {
  const job *j = ctx;
  const layer *l = j->l;
  (void)part;
  int W = l->a.w, OH = l->a.oh, OW = l->a.ow, avg = l->a.kind == L_AVGPOOL;
  long ihw = (long)l->a.h * W, ohw = (long)OH * OW;
  for (int p = begin; p < end; p++) {
    const float *x = j->in + p * ihw;
    float *y = j->out + p * ohw;
    int *am = j->argmax ? j->argmax + p * ohw : NULL;
    for (int oy = 0; oy < OH; oy++)
      for (int ox = 0; ox < OW; ox++) {
        int y0, y1, x0, x1;
        pool_cells(l, oy, ox, &y0, &y1, &x0, &x1);
        float best = -FLT_MAX, sum = 0.0f;
        int at = y0 * W + x0;
        for (int iy = y0; iy < y1; iy++)
          for (int ix = x0; ix < x1; ix++) {
            float v = x[iy * W + ix];
            sum += v;
            if (v > best) best = v, at = iy * W + ix;
          }
        int cells = (y1 - y0) * (x1 - x0);
        y[oy * OW + ox] = avg ? sum / (float)cells : best;
        if (am) am[oy * OW + ox] = at;
      }
  }
}

static void bwd_part(void *ctx, int part, int begin, int end) {
  const job *j = ctx;
  const layer *l = j->l;
  (void)part;
  int W = l->a.w, OH = l->a.oh, OW = l->a.ow, avg = l->a.kind == L_AVGPOOL;
  long ihw = (long)l->a.h * W, ohw = (long)OH * OW;
  for (int p = begin; p < end; p++) {
    float *dx = j->out + p * ihw;
    const float *dy = j->in + p * ohw;
    memset(dx, 0, sizeof(float) * (size_t)ihw);
    if (!avg) {
      const int *am = j->argmax + p * ohw;
      for (long i = 0; i < ohw; i++) dx[am[i]] += dy[i];
      continue;
    }
    for (int oy = 0; oy < OH; oy++)
      for (int ox = 0; ox < OW; ox++) {
        int y0, y1, x0, x1;
        pool_cells(l, oy, ox, &y0, &y1, &x0, &x1);
        float g = dy[oy * OW + ox] / (float)((y1 - y0) * (x1 - x0));
        for (int iy = y0; iy < y1; iy++)
          for (int ix = x0; ix < x1; ix++) dx[iy * W + ix] += g;
      }
  }
}

void pool_forward(const layer *l, float *out, const float *in, int n, int *argmax) {
  job j = {.l = l, .out = out, .in = in, .argmax = argmax};
  int planes = n * l->a.c;
  par_for(planes, par_parts(planes, (double)layer_out_size(l) * l->a.k * l->a.k * n), fwd_part, &j);
}

void pool_backward(const layer *l, float *din, const float *dout, int n) {
  job j = {.l = l, .out = din, .in = dout, .argmax = l->saved};
  int planes = n * l->a.c;
  par_for(planes, par_parts(planes, (double)layer_out_size(l) * l->a.k * l->a.k * n), bwd_part, &j);
}

int pool_shape(arch_layer *a, char *why, size_t len) {
  const char *word = layer_ops_of(a->kind)->word;
  if (a->pad >= a->k) {
    snprintf(why, len, "%s %d %d %d: the padding must be less than the kernel", word, a->k, a->s,
             a->pad);
    return -1;
  }
  int oh = a->h + 2 * a->pad - a->k, ow = a->w + 2 * a->pad - a->k;
  if (oh < 0 || ow < 0) {
    snprintf(why, len, "%s %d %d %d: input is %dx%d, smaller than the window", word, a->k, a->s,
             a->pad, a->h, a->w);
    return -1;
  }
  a->oh = oh / a->s + 1;
  a->ow = ow / a->s + 1;
  return 0;
}

/* The row of avgpool (maxpool's long form is maxpool.c's row). */

static void forward(layer *l, const layer_fwd *f) { pool_forward(l, f->out, f->in, f->n, NULL); }

static void backward(const layer *l, const layer_bwd *b) { pool_backward(l, b->din, b->dout, b->n); }

static double macs(const arch_layer *a) { return (double)a->oc * a->oh * a->ow * a->k * a->k; }

const layer_ops avgpool_ops = {
    .word = "avgpool",
    .usage = "K S P",
    .nargs = 3,
    .args = POOL_WINDOW_ARGS,
    .shape = pool_shape,
    .macs = macs,
    .forward = forward,
    .backward = backward,
};
