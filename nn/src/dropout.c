/* dropout: in training, y = x * mask with a fresh mask each batch (kept
 * with probability 1 - P, scaled by 1/(1-P)); at inference the identity. */
#include "layer_ops.h"
#include "threads.h"
#include "vec.h"

#include <stddef.h>

typedef struct {
  float *out;
  const float *in, *aux; /* the mask */;
} job;

/* y = x * mask, mask in {0, 1/(1-p)}; also its own backward (dx = dy * mask) */
static void dropout_part(void *ctx, int part, int begin, int end) {
  const job *j = ctx;
  (void)part;
  vec_mul(j->out + begin, j->in + begin, j->aux + begin, end - begin);
}

void dropout_apply(float *out, const float *in, const float *mask, long count) {
  job j = {.out = out, .in = in, .aux = mask};
  par_for((int)count, par_parts((int)count, 4.0 * count), dropout_part, &j);
}

/* The row of the layer table. */

static void needs(const layer *l, int max_batch, layer_needs *need) {
  need->saved = (size_t)max_batch * layer_out_size(l);
}

static void forward(layer *l, const layer_fwd *f) {
  if (!f->train) return; /* the net passes the input through */
  long count = layer_out_size(l) * f->n;
  float *mask = l->saved, keep = 1.0f - l->a.p, scale = 1.0f / keep;
  /* drawn on the calling thread so masks do not depend on the thread count */
  for (long i = 0; i < count; i++) mask[i] = rng_uniform(f->rng) < keep ? scale : 0.0f;
  dropout_apply(f->out, f->in, mask, count);
}

static void backward(const layer *l, const layer_bwd *b) {
  dropout_apply(b->din, b->dout, l->saved, layer_out_size(l) * b->n);
}

const layer_ops dropout_ops = {
    .word = "dropout",
    .usage = "P",
    .nargs = 1,
    .args = {{"P", ARG_PROB, 0, 0, offsetof(arch_layer, p)}},
    .needs = needs,
    .forward = forward,
    .backward = backward,
    .inference_identity = 1,
};
