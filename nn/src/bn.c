/* bn: batch normalisation over channels of NCHW tensors.
 * y = gamma (x - mean) / sqrt(var + eps) + beta. Training uses the batch's
 * mean and biased variance and moves the running statistics by momentum 0.1
 * (running variance from the unbiased batch variance, as PyTorch does);
 * inference and frozen layers use the running statistics. A ReLU that
 * follows is fused (l->fuse_relu): y = max(., 0) here, and backward masks dy
 * where forward's pre-ReLU value was <= 0, saving two passes over the
 * activations.
 *
 * Every pass walks the tensor in memory order, split by sample: a channel's
 * planes lie C*H*W floats apart, and walking them channel by channel (down
 * to 144-byte planes at 6x6) left the time in cache misses, about 3x what
 * the same bytes take streamed. The per-channel sums are gathered as one
 * partial per (sample, channel) and added in sample order, so the results
 * do not depend on the thread count.
 *
 * In training, the net leaves the two passes that only map one tensor into
 * another to the neighbours (net.c): the layer after applies the forward
 * map as it loads its input (bn_map_plane) and the layer before computes
 * the input gradient as it loads its output gradient (bn_grad_plane), so
 * neither tensor is written to memory and read back. */
#include "layer_ops.h"
#include "threads.h"
#include "vec.h"

#include <math.h>

typedef struct {
  const layer *l;
  float *out, *din;
  const float *in, *dout;
  float *part; /* [n][C][2] per-plane partial sums, then [C][3] backward factors */
  int n;
} job;

/* v = x * a + b, the pre-ReLU output: one expression for the vector body and
 * the scalar tail, so that backward recomputes forward's values bit for bit
 * (macros: a function returning a vector would change the ABI of the
 * non-AVX clones) */
#define AFFINE8(x, va, vb) (v8_load(x) * (va) + (vb))
#define AFFINE1(x, a, b) ((x) * (a) + (b))

/* One sample's planes x[c] (hw floats each): part[2c] = sum of d = x -
 * pivot[c * hw] and part[2c + 1] = sum of d^2 (the pivot, a value of the
 * channel, avoids cancellation when |mean| >> std). Float lanes within a
 * plane; the planes' sums are added in double by the caller. */
VEC_CLONES static void sample_stats(float *part, const float *x, const float *pivot, int C,
                                    long hw) {
  for (int c = 0; c < C; c++, x += hw) {
    float p = pivot[(long)c * hw];
    vf8 vp = v8_set(p), a = {0}, b = {0};
    long i = 0;
    for (; i + 8 <= hw; i += 8) {
      vf8 d = v8_load(x + i) - vp;
      a += d;
      b += d * d;
    }
    float fa = vf8_hsum(a), fb = vf8_hsum(b);
    for (; i < hw; i++) {
      float d = x[i] - p;
      fa += d;
      fb += d * d;
    }
    part[2 * c] = fa;
    part[2 * c + 1] = fb;
  }
}

/* y = x * scale + shift for one plane of channel c (then max(., 0) when the
 * ReLU is fused) */
VEC_CLONES static void map_plane(float *y, const float *x, const layer *l, int c, long hw) {
  float a = bn_scale(l, c), b = bn_shift(l, c, a);
  vf8 va = v8_set(a), vb = v8_set(b);
  long i = 0;
  if (l->fuse_relu) {
    for (; i + 8 <= hw; i += 8) {
      vf8 v = AFFINE8(x + i, va, vb);
      v8_at(y + i) = v8_where_pos(v, v);
    }
    for (; i < hw; i++) {
      float v = AFFINE1(x[i], a, b);
      y[i] = v > 0.0f ? v : 0.0f;
    }
  } else {
    for (; i + 8 <= hw; i += 8) v8_at(y + i) = AFFINE8(x + i, va, vb);
    for (; i < hw; i++) y[i] = AFFINE1(x[i], a, b);
  }
}

void bn_map_plane(const layer *l, int c, float *y, const float *x, long hw) {
  map_plane(y, x, l, c, hw);
}

/* The backward kernels take g = dy, masked where a fused ReLU cut the output
 * (forward's x * scale + shift <= 0, recomputed from x rather than read from
 * the saved output: one array less to stream through the cache). */

/* One sample: part[2c] = sum of g, part[2c + 1] = sum of g (x - mean) */
VEC_CLONES static void sample_grad_sums(float *part, const float *x, const float *dy,
                                        const layer *l, int C, long hw) {
  int relu = l->fuse_relu;
  for (int c = 0; c < C; c++, x += hw, dy += hw) {
    float mean = l->bmean[c], a = bn_scale(l, c), b = bn_shift(l, c, a);
    vf8 vmean = v8_set(mean), va = v8_set(a), vb = v8_set(b), s1 = {0}, s2 = {0};
    long i = 0;
    for (; i + 8 <= hw; i += 8) {
      vf8 g = v8_load(dy + i);
      if (relu) g = v8_where_pos(g, AFFINE8(x + i, va, vb));
      s1 += g;
      s2 += g * (v8_load(x + i) - vmean);
    }
    float fa = vf8_hsum(s1), fb = vf8_hsum(s2);
    for (; i < hw; i++) {
      float g = relu && !(AFFINE1(x[i], a, b) > 0.0f) ? 0.0f : dy[i];
      fa += g;
      fb += g * (x[i] - mean);
    }
    part[2 * c] = fa;
    part[2 * c + 1] = fb;
  }
}

/* One plane of channel c: dx = gi (g - k0 - (x - mean) k1), k = (gi, k0, k1)
 * of the channel */
VEC_CLONES static void grad_plane(float *dx, const float *x, const float *dy, const layer *l,
                                  int c, const float *k, long hw) {
  float mean = l->bmean[c], a = bn_scale(l, c), b = bn_shift(l, c, a);
  float gi = k[0], k0 = k[1], k1 = k[2];
  vf8 vmean = v8_set(mean), va = v8_set(a), vb = v8_set(b);
  vf8 vg = v8_set(gi), v0 = v8_set(k0), v1 = v8_set(k1);
  int relu = l->fuse_relu;
  long i = 0;
  for (; i + 8 <= hw; i += 8) {
    vf8 g = v8_load(dy + i);
    if (relu) g = v8_where_pos(g, AFFINE8(x + i, va, vb));
    v8_at(dx + i) = vg * (g - v0 - (v8_load(x + i) - vmean) * v1);
  }
  for (; i < hw; i++) {
    float g = relu && !(AFFINE1(x[i], a, b) > 0.0f) ? 0.0f : dy[i];
    dx[i] = gi * (g - k0 - (x[i] - mean) * k1);
  }
}

void bn_grad_plane(const bn_grad *g, int c, float *dx, const float *dy, const float *x, long hw) {
  grad_plane(dx, x, dy, g->bn, c, g->k + 3 * c, hw);
}

static long plane(const layer *l) { return (long)l->a.h * l->a.w; }

static void stats_samples(void *ctx, int worker, int begin, int end) {
  const job *j = ctx;
  int C = j->l->a.c;
  long hw = plane(j->l), ssz = (long)C * hw;
  (void)worker;
  for (int s = begin; s < end; s++)
    sample_stats(j->part + (size_t)s * 2 * C, j->in + s * ssz, j->in, C, hw);
}

static void affine_samples(void *ctx, int worker, int begin, int end) {
  const job *j = ctx;
  int C = j->l->a.c;
  long hw = plane(j->l), ssz = (long)C * hw;
  (void)worker;
  for (int s = begin; s < end; s++)
    for (int c = 0; c < C; c++) {
      long at = s * ssz + c * hw;
      map_plane(j->out + at, j->in + at, j->l, c, hw);
    }
}

/* sums[c] = the partials of channel c added in sample order, in double */
static void add_partials(double *s1, double *s2, const float *part, int n, int C, int c) {
  double a = 0.0, b = 0.0;
  for (int s = 0; s < n; s++) {
    a += part[((size_t)s * C + c) * 2];
    b += part[((size_t)s * C + c) * 2 + 1];
  }
  *s1 = a;
  *s2 = b;
}

void bn_forward(layer *l, float *out, const float *in, int n, int batch_stats, float *part) {
  job j = {.l = l, .out = out, .in = in, .part = part, .n = n};
  int C = l->a.c;
  long hw = plane(l), m = hw * n;
  double flops = 2.0 * layer_in_size(l) * n;
  if (batch_stats) {
    par_for(n, par_parts(n, flops), stats_samples, &j);
    for (int c = 0; c < C; c++) {
      float pivot = in[(long)c * hw];
      double sd, sdd;
      add_partials(&sd, &sdd, part, n, C, c);
      double md = sd / (double)m, var = sdd / (double)m - md * md;
      if (var < 0.0) var = 0.0;
      double unbiased = m > 1 ? var * (double)m / (double)(m - 1) : var;
      float mean = (float)(pivot + md);
      l->bmean[c] = mean;
      l->binvstd[c] = (float)(1.0 / sqrt(var + BN_EPS));
      l->rmean[c] = (1.0f - BN_MOMENTUM) * l->rmean[c] + BN_MOMENTUM * mean;
      l->rvar[c] = (1.0f - BN_MOMENTUM) * l->rvar[c] + BN_MOMENTUM * (float)unbiased;
    }
  } else {
    for (int c = 0; c < C; c++) {
      l->bmean[c] = l->rmean[c];
      l->binvstd[c] = 1.0f / sqrtf(l->rvar[c] + BN_EPS);
    }
  }
  if (out) par_for(n, par_parts(n, flops), affine_samples, &j);
}

static void grad_sum_samples(void *ctx, int worker, int begin, int end) {
  const job *j = ctx;
  int C = j->l->a.c;
  long hw = plane(j->l), ssz = (long)C * hw;
  (void)worker;
  for (int s = begin; s < end; s++)
    sample_grad_sums(j->part + (size_t)s * 2 * C, j->in + s * ssz, j->dout + s * ssz, j->l, C, hw);
}

static void grad_apply_samples(void *ctx, int worker, int begin, int end) {
  const job *j = ctx;
  int C = j->l->a.c;
  long hw = plane(j->l), ssz = (long)C * hw;
  const float *k = j->part + (size_t)j->n * 2 * C;
  (void)worker;
  for (int s = begin; s < end; s++)
    for (int c = 0; c < C; c++) {
      long at = s * ssz + c * hw;
      grad_plane(j->din + at, j->in + at, j->dout + at, j->l, c, k + 3 * c, hw);
    }
}

/* With xhat = (x - mean) invstd, g = dy (masked where a fused ReLU cut the
 * output) and M values per channel: dgamma = sum g xhat, dbeta = sum g,
 * batch statistics: dx = gamma invstd (g - dbeta/M - xhat dgamma/M),
 * fixed statistics: dx = gamma invstd g. */
void bn_backward(const layer *l, float *din, const float *dout, const float *in, int n,
                 int batch_stats, int param_grads, float *part) {
  job j = {.l = l, .din = din, .in = in, .dout = dout, .part = part, .n = n};
  int C = l->a.c;
  long m = plane(l) * n;
  double flops = 3.0 * layer_in_size(l) * n;
  par_for(n, par_parts(n, flops), grad_sum_samples, &j);
  float *k = part + (size_t)n * 2 * C;
  for (int c = 0; c < C; c++) {
    float invstd = l->binvstd[c];
    double sdy, sdyx;
    add_partials(&sdy, &sdyx, part, n, C, c);
    sdyx *= invstd;
    if (param_grads) {
      l->dw[c] += (float)sdyx;
      l->db[c] += (float)sdy;
    }
    k[3 * c] = l->w[c] * invstd;
    k[3 * c + 1] = batch_stats ? (float)(sdy / m) : 0.0f;
    k[3 * c + 2] = batch_stats ? (float)(sdyx / m) * invstd : 0.0f; /* per unit of x - mean */
  }
  if (din) par_for(n, par_parts(n, flops), grad_apply_samples, &j);
}

bn_grad bn_grad_left(const layer *l, const float *in, int n, const float *part) {
  return (bn_grad){l, in, part + (size_t)n * 2 * l->a.c};
}

size_t bn_scratch_size(const layer *l, int max_batch) {
  return (size_t)l->a.c * (2 * (size_t)max_batch + 3);
}

/* y' = gamma (W x + b - mean) / sqrt(var + eps) + beta, so per output
 * channel: W' = W s, b' = (b - mean) s + beta with s = gamma / sqrt(var + eps) */
void bn_fold_into(const layer *bn, float *w, float *b, size_t per_channel) {
  for (int c = 0; c < bn->a.c; c++) {
    float s = bn->w[c] / sqrtf(bn->rvar[c] + BN_EPS);
    for (size_t k = 0; k < per_channel; k++) w[c * per_channel + k] *= s;
    b[c] = (b[c] - bn->rmean[c]) * s + bn->b[c];
  }
}

/* The row of the layer table. */

static int tensors(layer *l, tensor_spec *t) {
  int C = l->a.c;
  t[0] = (tensor_spec){"bn.gamma", TENSOR_PARAM, 1, {C}, INIT_ONE, &l->w, &l->dw};
  t[1] = (tensor_spec){"bn.beta", TENSOR_PARAM, 1, {C}, INIT_ZERO, &l->b, &l->db};
  t[2] = (tensor_spec){"bn.running_mean", TENSOR_STATE, 1, {C}, INIT_ZERO, &l->rmean, NULL};
  t[3] = (tensor_spec){"bn.running_var", TENSOR_STATE, 1, {C}, INIT_ONE, &l->rvar, NULL};
  t[4] = (tensor_spec){"bn.batch_mean", TENSOR_SCRATCH, 1, {C}, INIT_ZERO, &l->bmean, NULL};
  t[5] = (tensor_spec){"bn.batch_invstd", TENSOR_SCRATCH, 1, {C}, INIT_ZERO, &l->binvstd, NULL};
  return 6;
}

static void needs(const layer *l, int max_batch, layer_needs *need) {
  need->bn_part = bn_scratch_size(l, max_batch);
}

static void forward(layer *l, const layer_fwd *f) {
  bn_forward(l, f->out, f->in, f->n, f->batch_stats, f->ws->bn_part);
}

static void backward(const layer *l, const layer_bwd *b) {
  if (b->leave) {
    bn_backward(l, NULL, b->dout, b->in, b->n, b->batch_stats, b->param_grads, b->ws->bn_part);
    *b->leave = bn_grad_left(l, b->in, b->n, b->ws->bn_part);
  } else {
    bn_backward(l, b->din, b->dout, b->in, b->n, b->batch_stats, b->param_grads, b->ws->bn_part);
  }
}

const layer_ops bn_ops = {
    .word = "bn",
    .tensors = tensors,
    .needs = needs,
    .forward = forward,
    .backward = backward,
};
