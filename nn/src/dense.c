/* dense: fully connected layer over the flattened C*H*W input.
 * y[n,N] = x[n,IN] W[N,IN]^T + b, one SGEMM for the whole batch. */
#include "layer_ops.h"

#include <cblas.h>
#include <stddef.h>
#include <stdio.h>

void dense_forward(const layer *l, float *out, const float *in, int n) {
  int N = l->a.oc, IN = (int)layer_in_size(l);
  for (int s = 0; s < n; s++)
    for (int o = 0; o < N; o++) out[(size_t)s * N + o] = l->b[o];
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, N, IN, 1.0f, in, IN, l->w, IN, 1.0f,
              out, N);
}

/* dW += dy^T x; db += sum_n dy; dx = dy W */
void dense_backward(const layer *l, float *din, const float *dout, const float *in, int n,
                    int param_grads) {
  int N = l->a.oc, IN = (int)layer_in_size(l);
  if (param_grads) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, N, IN, n, 1.0f, dout, N, in, IN, 1.0f,
                l->dw, IN);
    for (int s = 0; s < n; s++)
      for (int o = 0; o < N; o++) l->db[o] += dout[(size_t)s * N + o];
  }
  if (din)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, IN, N, 1.0f, dout, N, l->w, IN,
                0.0f, din, IN);
}

/* The row of the layer table. */

static int shape(arch_layer *a, char *why, size_t len) {
  long in = (long)a->c * a->h * a->w;
  if (in * a->out > ARCH_MAX_FEATURES * 4L) {
    snprintf(why, len, "dense %d: %ld inputs make a weight matrix too large", a->out, in);
    return -1;
  }
  a->oc = a->out;
  a->oh = a->ow = 1;
  return 0;
}

static int tensors(layer *l, tensor_spec *t) {
  const arch_layer *a = &l->a;
  int in = a->c * a->h * a->w;
  t[0] = (tensor_spec){"dense.weight", TENSOR_PARAM, 2, {a->oc, in}, INIT_HE, &l->w, &l->dw};
  t[1] = (tensor_spec){"dense.bias", TENSOR_PARAM, 1, {a->oc}, INIT_ZERO, &l->b, &l->db};
  return 2;
}

static double macs(const arch_layer *a) { return (double)a->oc * a->c * a->h * a->w; }

static void forward(layer *l, const layer_fwd *f) { dense_forward(l, f->out, f->in, f->n); }

static void backward(const layer *l, const layer_bwd *b) {
  dense_backward(l, b->din, b->dout, b->in, b->n, b->param_grads);
}

const layer_ops dense_ops = {
    .word = "dense",
    .usage = "N' or 'dense classes",
    .nargs = 1,
    .args = {{"N", ARG_INT_OR_CLASSES, 1, ARCH_MAX_CHANNELS, offsetof(arch_layer, out)}},
    .shape = shape,
    .tensors = tensors,
    .macs = macs,
    .forward = forward,
    .backward = backward,
};
