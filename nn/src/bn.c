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

/* The per-channel loops, 8 floats wide (vec.h): bn's planes are small (down
 * to 6x6) and its loops run once per plane, so each kernel walks one
 * channel's planes of all samples (stride C*hw apart) with float lanes within
 * a plane and double sums across planes. */

/* sums of d = x - pivot and d^2 over n planes of hw floats, stride apart */
VEC_CLONES static void channel_stats(const float *x, long stride, int n, long hw, float pivot,
                                    double *sd, double *sdd) {
  vf8 vp = v8_set(pivot);
  double s1 = 0.0, s2 = 0.0;
  for (int s = 0; s < n; s++, x += stride) {
    vf8 a = {0}, b = {0};
    long i = 0;
    for (; i + 8 <= hw; i += 8) {
      vf8 d = v8_load(x + i) - vp;
      a += d;
      b += d * d;
    }
    float fa = vf8_hsum(a), fb = vf8_hsum(b);
    for (; i < hw; i++) {
      float d = x[i] - pivot;
      fa += d;
      fb += d * d;
    }
    s1 += fa;
    s2 += fb;
  }
  *sd = s1;
  *sdd = s2;
}

/* y = x * a + b (then max(., 0) when relu) over n planes */
VEC_CLONES static void channel_affine(float *y, const float *x, long stride, int n, long hw,
                                     float a, float b, int relu) {
  vf8 va = v8_set(a), vb = v8_set(b);
  for (int s = 0; s < n; s++, x += stride, y += stride) {
    long i = 0;
    if (relu) {
      for (; i + 8 <= hw; i += 8) {
        vf8 v = v8_load(x + i) * va + vb;
        *(vf8 *)(y + i) = v8_where_pos(v, v);
      }
      for (; i < hw; i++) {
        float v = x[i] * a + b;
        y[i] = v > 0.0f ? v : 0.0f;
      }
    } else {
      for (; i + 8 <= hw; i += 8) *(vf8 *)(y + i) = v8_load(x + i) * va + vb;
      for (; i < hw; i++) y[i] = x[i] * a + b;
    }
  }
}

/* sums of g and g (x - mean), g = dy masked by y > 0 when y is non-NULL */
VEC_CLONES static void channel_grad_sums(const float *x, const float *dy, const float *y,
                                        long stride, int n, long hw, float mean, double *sg,
                                        double *sgx) {
  vf8 vmean = v8_set(mean);
  double s1 = 0.0, s2 = 0.0;
  for (int s = 0; s < n; s++, x += stride, dy += stride, y = y ? y + stride : NULL) {
    vf8 a = {0}, b = {0};
    long i = 0;
    for (; i + 8 <= hw; i += 8) {
      vf8 g = v8_load(dy + i);
      if (y) g = v8_where_pos(g, v8_load(y + i));
      a += g;
      b += g * (v8_load(x + i) - vmean);
    }
    float fa = vf8_hsum(a), fb = vf8_hsum(b);
    for (; i < hw; i++) {
      float g = y && !(y[i] > 0.0f) ? 0.0f : dy[i];
      fa += g;
      fb += g * (x[i] - mean);
    }
    s1 += fa;
    s2 += fb;
  }
  *sg = s1;
  *sgx = s2;
}

/* dx = gi (g - k0 - (x - mean) k1) */
VEC_CLONES static void channel_grad_apply(float *dx, const float *x, const float *dy,
                                         const float *y, long stride, int n, long hw, float mean,
                                         float gi, float k0, float k1) {
  vf8 vmean = v8_set(mean), vg = v8_set(gi), v0 = v8_set(k0), v1 = v8_set(k1);
  for (int s = 0; s < n; s++, x += stride, dy += stride, dx += stride, y = y ? y + stride : NULL) {
    long i = 0;
    for (; i + 8 <= hw; i += 8) {
      vf8 g = v8_load(dy + i);
      if (y) g = v8_where_pos(g, v8_load(y + i));
      *(vf8 *)(dx + i) = vg * (g - v0 - (v8_load(x + i) - vmean) * v1);
    }
    for (; i < hw; i++) {
      float g = y && !(y[i] > 0.0f) ? 0.0f : dy[i];
      dx[i] = gi * (g - k0 - (x[i] - mean) * k1);
    }
  }
}

static void fwd_channels(void *ctx, int part, int begin, int end) {
  const job *j = ctx;
  layer *l = j->l;
  (void)part;
  int C = l->a.c;
  long hw = (long)l->a.h * l->a.w, m = hw * j->n, stride = (long)C * hw;
  for (int c = begin; c < end; c++) {
    float mean, invstd;
    const float *x = j->in + (long)c * hw;
    if (j->batch_stats) {
      /* one pass of sums of d = x - pivot and d^2 (the pivot, any value of
       * the channel, avoids cancellation when |mean| >> std) */
      float pivot = x[0];
      double sd, sdd;
      channel_stats(x, stride, j->n, hw, pivot, &sd, &sdd);
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
    channel_affine(j->out + (long)c * hw, x, stride, j->n, hw, scale, shift, l->fuse_relu);
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
  long hw = (long)l->a.h * l->a.w, m = hw * j->n, stride = (long)C * hw;
  for (int c = begin; c < end; c++) {
    float mean = l->bmean[c], invstd = l->binvstd[c];
    long off = (long)c * hw;
    const float *x = j->in + off, *dy = j->dout + off, *y = j->y ? j->y + off : NULL;
    double sdy, sdyx;
    channel_grad_sums(x, dy, y, stride, j->n, hw, mean, &sdy, &sdyx);
    sdyx *= invstd;
    if (j->param_grads) {
      l->dw[c] += (float)sdyx;
      l->db[c] += (float)sdy;
    }
    float gi = l->w[c] * invstd;
    float k0 = j->batch_stats ? (float)(sdy / m) : 0.0f;
    float k1 = j->batch_stats ? (float)(sdyx / m) * invstd : 0.0f; /* per unit of x - mean */
    channel_grad_apply(j->din + off, x, dy, y, stride, j->n, hw, mean, gi, k0, k1);
  }
}

void bn_backward(const layer *l, float *din, const float *dout, const float *in, const float *y,
                 int n, int batch_stats, int param_grads) {
  job j = {.l = (layer *)l, .din = din, .in = in, .dout = dout, .y = y, .n = n,
           .batch_stats = batch_stats, .param_grads = param_grads};
  double flops = 6.0 * layer_in_size(l) * n;
  par_for(l->a.c, par_parts(l->a.c, flops), bwd_channels, &j);
}
