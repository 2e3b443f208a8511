/* gap: global average pooling, the mean of each plane, split by plane
 * (sample x channel) across nn's threads. */
#include "layer_ops.h"
#include "threads.h"
#include "vec.h"

typedef struct {
  const layer *l;
  float *out;
  const float *in;
} job;

/* y[n,c] = mean over the plane */
static void gap_part(void *ctx, int part, int begin, int end) {
  const job *j = ctx;
  (void)part;
  long hw = (long)j->l->a.h * j->l->a.w;
  for (int p = begin; p < end; p++) {
    j->out[p] = vec_sum(j->in + p * hw, hw) / (float)hw;
  }
}

void gap_forward(const layer *l, float *out, const float *in, int n) {
  job j = {.l = l, .out = out, .in = in};
  int planes = n * l->a.c;
  par_for(planes, par_parts(planes, (double)layer_in_size(l) * n), gap_part, &j);
}

/* dx = dy / (H W) everywhere in the plane */
static void gap_bwd_part(void *ctx, int part, int begin, int end) {
  const job *j = ctx;
  (void)part;
  long hw = (long)j->l->a.h * j->l->a.w;
  for (int p = begin; p < end; p++) {
    float g = j->in[p] / (float)hw, *dx = j->out + p * hw;
    for (long i = 0; i < hw; i++) dx[i] = g;
  }
}

void gap_backward(const layer *l, float *din, const float *dout, int n) {
  job j = {.l = l, .out = din, .in = dout};
  int planes = n * l->a.c;
  par_for(planes, par_parts(planes, (double)layer_in_size(l) * n), gap_bwd_part, &j);
}

/* The row of the layer table. */

static int shape(arch_layer *a, char *why, size_t len) {
  (void)why, (void)len;
  a->oh = a->ow = 1;
  return 0;
}

static void forward(layer *l, const layer_fwd *f) { gap_forward(l, f->out, f->in, f->n); }

static void backward(const layer *l, const layer_bwd *b) { gap_backward(l, b->din, b->dout, b->n); }

const layer_ops gap_ops = {
    .word = "gap", .shape = shape, .forward = forward, .backward = backward,
};
