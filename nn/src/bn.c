/* bn: batch normalisation over channels of NCHW tensors.
 * y = gamma (x - mean) / sqrt(var + eps) + beta. Training uses the batch's
 * mean and biased variance and moves the running statistics by momentum 0.1
 * (running variance from the unbiased batch variance, as PyTorch does);
 * inference and frozen layers use the running statistics. A ReLU that
 * follows is fused (l->fuse_relu): y = max(., 0) here, and backward masks dy
 * by y > 0, saving two passes over the activations. Split by channel. */
#include "layer.h"
#include "threads.h"
#include "vec.h"

#include <math.h>

typedef struct {
  layer *l;
  float *out, *din;
  const float *in, *dout, *y;
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
      /* one pass of sums of d = x - pivot and d^2 (the pivot, any value of
       * the channel, avoids cancellation when |mean| >> std); float lanes
       * within a plane, double across planes */
      float pivot = j->in[(long)c * hw];
      vf vp = vf_set(pivot);
      double sd = 0.0, sdd = 0.0;
      for (int s = 0; s < j->n; s++) {
        const float *x = j->in + ((long)s * C + c) * hw;
        vf a = {0}, b = {0};
        long i = 0;
        for (; i + VL <= hw; i += VL) {
          vf d = vf_load(x + i) - vp;
          a += d;
          b += d * d;
        }
        float fa = vf_hsum(a), fb = vf_hsum(b);
        for (; i < hw; i++) {
          float d = x[i] - pivot;
          fa += d;
          fb += d * d;
        }
        sd += fa;
        sdd += fb;
      }
      double md = sd / (double)m, var = sdd / (double)m - md * md;
      if (var < 0.0) var = 0.0;
      double unbiased = m > 1 ? var * (double)m / (double)(m - 1) : var;
      mean = (float)(pivot + md);
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
      long off = ((long)s * C + c) * hw;
      vec_affine(j->out + off, j->in + off, scale, shift, hw, l->fuse_relu);
    }
  }
}

void bn_forward(layer *l, float *out, const float *in, int n, int batch_stats) {
  job j = {.l = l, .out = out, .in = in, .n = n, .batch_stats = batch_stats};
  double flops = 4.0 * layer_in_size(l) * n;
  par_for(l->a.c, par_parts(l->a.c, flops), fwd_channels, &j);
}

/* With xhat = (x - mean) invstd, g = dy (masked by y > 0 when a ReLU is
 * fused) and M values per channel: dgamma = sum g xhat, dbeta = sum g,
 * batch statistics: dx = gamma invstd (g - dbeta/M - xhat dgamma/M),
 * fixed statistics: dx = gamma invstd g. */
static void bwd_channels(void *ctx, int part, int begin, int end) {
  const job *j = ctx;
  const layer *l = j->l;
  (void)part;
  int C = l->a.c;
  long hw = (long)l->a.h * l->a.w, m = hw * j->n;
  for (int c = begin; c < end; c++) {
    float mean = l->bmean[c], invstd = l->binvstd[c];
    vf vmean = vf_set(mean);
    double sdy = 0.0, sdyx = 0.0;
    for (int s = 0; s < j->n; s++) {
      long off = ((long)s * C + c) * hw;
      const float *x = j->in + off, *dy = j->dout + off, *y = j->y ? j->y + off : NULL;
      vf a = {0}, b = {0};
      long i = 0;
      for (; i + VL <= hw; i += VL) {
        vf g = vf_load(dy + i);
        if (y) g = vf_where_pos(g, vf_load(y + i));
        a += g;
        b += g * (vf_load(x + i) - vmean);
      }
      float fa = vf_hsum(a), fb = vf_hsum(b);
      for (; i < hw; i++) {
        float g = y && !(y[i] > 0.0f) ? 0.0f : dy[i];
        fa += g;
        fb += g * (x[i] - mean);
      }
      sdy += fa;
      sdyx += fb;
    }
    sdyx *= invstd;
    if (j->param_grads) {
      l->dw[c] += (float)sdyx;
      l->db[c] += (float)sdy;
    }
    float gi = l->w[c] * invstd;
    float k0 = j->batch_stats ? (float)(sdy / m) : 0.0f;
    float k1 = j->batch_stats ? (float)(sdyx / m) * invstd : 0.0f; /* per unit of x - mean */
    vf vg = vf_set(gi), v0 = vf_set(k0), v1 = vf_set(k1);
    for (int s = 0; s < j->n; s++) {
      long off = ((long)s * C + c) * hw;
      const float *x = j->in + off, *dy = j->dout + off, *y = j->y ? j->y + off : NULL;
      float *dx = j->din + off;
      long i = 0;
      for (; i + VL <= hw; i += VL) {
        vf g = vf_load(dy + i);
        if (y) g = vf_where_pos(g, vf_load(y + i));
        vf_store(dx + i, vg * (g - v0 - (vf_load(x + i) - vmean) * v1));
      }
      for (; i < hw; i++) {
        float g = y && !(y[i] > 0.0f) ? 0.0f : dy[i];
        dx[i] = gi * (g - k0 - (x[i] - mean) * k1);
      }
    }
  }
}

void bn_backward(const layer *l, float *din, const float *dout, const float *in, const float *y,
                 int n, int batch_stats, int param_grads) {
  job j = {.l = (layer *)l, .din = din, .in = in, .dout = dout, .y = y, .n = n,
           .batch_stats = batch_stats, .param_grads = param_grads};
  double flops = 6.0 * layer_in_size(l) * n;
  par_for(l->a.c, par_parts(l->a.c, flops), bwd_channels, &j);
}
