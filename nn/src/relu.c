/* relu: y = max(x, 0), split by element range across nn's threads. It may
 * run in place: its backward needs only its output. */
#include "layer_ops.h"
#include "threads.h"
#include "vec.h"

typedef struct {
  float *out;
  const float *in, *aux; /* the output, backward */;
} job;

/* y = max(x, 0) */
static void relu_part(void *ctx, int part, int begin, int end) {
  const job *j = ctx;
  (void)part;
  vec_relu(j->out + begin, j->in + begin, end - begin);
}

void relu_forward(float *out, const float *in, long count) {
  job j = {.out = out, .in = in};
  par_for((int)count, par_parts((int)count, 4.0 * count), relu_part, &j);
}

/* dx = dy where y > 0 */
static void relu_bwd_part(void *ctx, int part, int begin, int end) {
  const job *j = ctx;
  (void)part;
  vec_relu_mask(j->out + begin, j->in + begin, j->aux + begin, end - begin);
}

void relu_backward(float *din, const float *dout, const float *out, long count) {
  job j = {.out = din, .in = dout, .aux = out};
  par_for((int)count, par_parts((int)count, 4.0 * count), relu_bwd_part, &j);
}

/* The row of the layer table. */

static void forward(layer *l, const layer_fwd *f) {
  relu_forward(f->out, f->in, layer_out_size(l) * f->n);
}

static void backward(const layer *l, const layer_bwd *b) {
  relu_backward(b->din, b->dout, b->out, layer_out_size(l) * b->n);
}

const layer_ops relu_ops = {
    .word = "relu", .forward = forward, .backward = backward, .in_place = 1,
};
