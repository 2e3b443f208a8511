/* bn: batch normalisation over channels of NCHW tensors.
 * y = gamma (x - mean) / sqrt(var + eps) + beta. Training uses the batch's
 * mean and biased variance and moves the running statistics by momentum 0.1
 * (running variance from the unbiased batch variance, as PyTorch does);
 * inference and frozen layers use the running statistics. Split by channel. */
#include "layer.h"
#include "threads.h"

#include <math.h>

typedef struct {
  layer *l;
  float *out, *din;
  const float *in, *dout;
  int n, batch_stats, param_grads;
} job;

static void fwd_channels(void *ctx, int part, int begin, int end) {
  const job *j = ctx;
  layer *l = j->l;
  (void)part;
  int C = l->a.c;
  long hw = (long)l->a.h * l->a.w, m = hw * j->n;
  for (int c = begin; c < end; c++) {
    float mean, invstd;
    if (j->batch_stats) {
      double sum = 0.0, sq = 0.0;
      for (int s = 0; s < j->n; s++) {
        const float *x = j->in + ((long)s * C + c) * hw;
        for (long i = 0; i < hw; i++) sum += x[i];
      }
      double mu = sum / (double)m;
      for (int s = 0; s < j->n; s++) {
        const float *x = j->in + ((long)s * C + c) * hw;
        for (long i = 0; i < hw; i++) {
          double d = x[i] - mu;
          sq += d * d;
        }
      }
      double var = sq / (double)m;
      double unbiased = m > 1 ? sq / (double)(m - 1) : var;
      mean = (float)mu;
      invstd = (float)(1.0 / sqrt(var + BN_EPS));
      l->rmean[c] = (1.0f - BN_MOMENTUM) * l->rmean[c] + BN_MOMENTUM * mean;
      l->rvar[c] = (1.0f - BN_MOMENTUM) * l->rvar[c] + BN_MOMENTUM * (float)unbiased;
    } else {
      mean = l->rmean[c];
      invstd = 1.0f / sqrtf(l->rvar[c] + BN_EPS);
    }
    l->bmean[c] = mean;
    l->binvstd[c] = invstd;
    float scale = l->w[c] * invstd, shift = l->b[c] - mean * scale;
    for (int s = 0; s < j->n; s++) {
      const float *x = j->in + ((long)s * C + c) * hw;
      float *y = j->out + ((long)s * C + c) * hw;
      for (long i = 0; i < hw; i++) y[i] = x[i] * scale + shift;
    }
  }
}

void bn_forward(layer *l, float *out, const float *in, int n, int batch_stats) {
  job j = {.l = l, .out = out, .in = in, .n = n, .batch_stats = batch_stats};
  double flops = 4.0 * layer_in_size(l) * n;
  par_for(l->a.c, par_parts(l->a.c, flops), fwd_channels, &j);
}

/* With xhat = (x - mean) invstd and M values per channel:
 * dgamma = sum dy xhat, dbeta = sum dy,
 * batch statistics: dx = gamma invstd (dy - dbeta/M - xhat dgamma/M),
 * fixed statistics: dx = gamma invstd dy. */
static void bwd_channels(void *ctx, int part, int begin, int end) {
  const job *j = ctx;
  const layer *l = j->l;
  (void)part;
  int C = l->a.c;
  long hw = (long)l->a.h * l->a.w, m = hw * j->n;
  for (int c = begin; c < end; c++) {
    float mean = l->bmean[c], invstd = l->binvstd[c];
    double sdy = 0.0, sdyx = 0.0;
    for (int s = 0; s < j->n; s++) {
      const float *x = j->in + ((long)s * C + c) * hw, *dy = j->dout + ((long)s * C + c) * hw;
      float a = 0.0f, b = 0.0f;
      for (long i = 0; i < hw; i++) {
        a += dy[i];
        b += dy[i] * (x[i] - mean);
      }
      sdy += a;
      sdyx += b;
    }
    sdyx *= invstd;
    if (j->param_grads) {
      l->dw[c] += (float)sdyx;
      l->db[c] += (float)sdy;
    }
    float g = l->w[c] * invstd;
    float k0 = j->batch_stats ? (float)(sdy / m) : 0.0f;
    float k1 = j->batch_stats ? (float)(sdyx / m) * invstd : 0.0f; /* per unit of (x - mean) */
    for (int s = 0; s < j->n; s++) {
      const float *x = j->in + ((long)s * C + c) * hw, *dy = j->dout + ((long)s * C + c) * hw;
      float *dx = j->din + ((long)s * C + c) * hw;
      for (long i = 0; i < hw; i++) dx[i] = g * (dy[i] - k0 - (x[i] - mean) * k1);
    }
  }
}

void bn_backward(const layer *l, float *din, const float *dout, const float *in, int n,
                 int batch_stats, int param_grads) {
  job j = {.l = (layer *)l, .din = din, .in = in, .dout = dout, .n = n,
           .batch_stats = batch_stats, .param_grads = param_grads};
  double flops = 6.0 * layer_in_size(l) * n;
  par_for(l->a.c, par_parts(l->a.c, flops), bwd_channels, &j);
}
