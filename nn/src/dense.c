/* dense: fully connected layer over the flattened C*H*W input.
 * y[n,N] = x[n,IN] W[N,IN]^T + b, one SGEMM for the whole batch. */
#include "layer.h"

#include <cblas.h>

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
