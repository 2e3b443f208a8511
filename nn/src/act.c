/* act: element-wise activations beyond relu (format v2), one row each:
 *  sigmoid     y = 1 / (1 + e^-x)              dy/dx = y (1 - y)
 *  leaky A     y = x > 0 ? x : A x (0 <= A < 1) dy/dx = y > 0 ? 1 : A
 *  relu6       y = min(max(x, 0), 6)           dy/dx = 0 < y < 6
 *  hswish      y = x relu6(x + 3) / 6          dy/dx = 0, (2x + 3) / 6, 1
 *  silu        y = x sigmoid(x)                dy/dx = s + x s (1 - s)
 * The first three need only their output for backward and may run in
 * place; hswish and silu read their input. Split by element range across
 * nn's threads. */
#include "layer_ops.h"
#include "threads.h"

#include <math.h>

typedef enum { A_SIGMOID, A_LEAKY, A_RELU6, A_HSWISH, A_SILU } act_kind;

typedef struct {
  act_kind kind;
  float a;
  float *out;
  const float *in, *dout, *y; /* backward: the input, dy and the output */
} job;

static act_kind kind_of(const layer *l) {
  switch (l->a.kind) {
  case L_SIGMOID: return A_SIGMOID;
  case L_LEAKY: return A_LEAKY;
  case L_RELU6: return A_RELU6;
  case L_HSWISH: return A_HSWISH;
  default: return A_SILU;
  }
}

static inline float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

static void fwd_part(void *ctx, int part, int begin, int end) {
  const job *j = ctx;
  (void)part;
  const float *x = j->in;
  float *y = j->out;
  switch (j->kind) {
  case A_SIGMOID:
    for (int i = begin; i < end; i++) y[i] = sigmoid(x[i]);
    break;
  case A_LEAKY:
    for (int i = begin; i < end; i++) y[i] = x[i] > 0.0f ? x[i] : j->a * x[i];
    break;
  case A_RELU6:
    for (int i = begin; i < end; i++) y[i] = fminf(fmaxf(x[i], 0.0f), 6.0f);
    break;
  case A_HSWISH:
    for (int i = begin; i < end; i++) y[i] = x[i] * fminf(fmaxf(x[i] + 3.0f, 0.0f), 6.0f) / 6.0f;
    break;
  case A_SILU:
    for (int i = begin; i < end; i++) y[i] = x[i] * sigmoid(x[i]);
    break;
  }
}

static void bwd_part(void *ctx, int part, int begin, int end) {
  const job *j = ctx;
  (void)part;
  const float *x = j->in, *dy = j->dout, *y = j->y;
  float *dx = j->out;
  switch (j->kind) {
  case A_SIGMOID:
    for (int i = begin; i < end; i++) dx[i] = dy[i] * y[i] * (1.0f - y[i]);
    break;
  case A_LEAKY:
    for (int i = begin; i < end; i++) dx[i] = y[i] > 0.0f ? dy[i] : j->a * dy[i];
    break;
  case A_RELU6:
    for (int i = begin; i < end; i++) dx[i] = y[i] > 0.0f && y[i] < 6.0f ? dy[i] : 0.0f;
    break;
  case A_HSWISH:
    for (int i = begin; i < end; i++)
      dx[i] = x[i] <= -3.0f ? 0.0f : x[i] >= 3.0f ? dy[i] : dy[i] * (2.0f * x[i] + 3.0f) / 6.0f;
    break;
  case A_SILU:
    for (int i = begin; i < end; i++) {
      float s = sigmoid(x[i]);
      dx[i] = dy[i] * (s + x[i] * s * (1.0f - s));
    }
    break;
  }
}

static void forward(layer *l, const layer_fwd *f) {
  long count = layer_out_size(l) * f->n;
  job j = {.kind = kind_of(l), .a = l->a.p, .out = f->out, .in = f->in};
  par_for((int)count, par_parts((int)count, 8.0 * count), fwd_part, &j);
}

static void backward(const layer *l, const layer_bwd *b) {
  long count = layer_out_size(l) * b->n;
  job j = {.kind = kind_of(l), .a = l->a.p, .out = b->din, .in = b->in, .dout = b->dout, .y = b->out};
  par_for((int)count, par_parts((int)count, 8.0 * count), bwd_part, &j);
}

const layer_ops sigmoid_ops = {
    .word = "sigmoid", .forward = forward, .backward = backward, .in_place = 1,
};
const layer_ops leaky_ops = {
    .word = "leaky", .usage = "A", .nargs = 1,
    .args = {{"A", ARG_PROB, 0, 0, offsetof(arch_layer, p)}},
    .forward = forward, .backward = backward, .in_place = 1,
};
const layer_ops relu6_ops = {
    .word = "relu6", .forward = forward, .backward = backward, .in_place = 1,
};
const layer_ops hswish_ops = {.word = "hswish", .forward = forward, .backward = backward};
const layer_ops silu_ops = {.word = "silu", .forward = forward, .backward = backward};
