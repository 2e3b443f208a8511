/* gconv: grouped convolution (format v2, `conv OUT K STRIDE PAD GROUPS`):
 * the C input channels and OUT output channels split into GROUPS equal
 * groups, output channel o reading only the C / GROUPS channels of its
 * group: y[n,o,oy,ox] = b[o] + sum_{c,ky,kx} w[o,c,ky,kx]
 * x[n, g(o) C/G + c, oy S - P + ky, ox S - P + kx], weight [OUT, C/G, K, K].
 * Direct loops (grouped convolutions are rare in the networks emocam runs;
 * depthwise ones have dwconv.c), split across nn's threads so that each
 * thread owns what it writes: forward and dx by plane, dW and db by output
 * channel. */
#include "layer_ops.h"
#include "threads.h"

#include <string.h>

typedef struct {
  const layer *l;
  int n;
  float *out;
  const float *in, *dout;
} job;

static void fwd_part(void *ctx, int part, int begin, int end) {
  const job *j = ctx;
  const layer *l = j->l;
  (void)part;
  int C = l->a.c, H = l->a.h, W = l->a.w, OC = l->a.oc, OH = l->a.oh, OW = l->a.ow;
  int K = l->a.k, S = l->a.s, P = l->pad, G = l->a.groups, Cg = C / G, OCg = OC / G;
  for (int p = begin; p < end; p++) { /* p = sample * OC + o */
    int s = p / OC, o = p % OC, c0 = (o / OCg) * Cg;
    const float *x = j->in + (size_t)s * C * H * W, *w = l->w + (size_t)o * Cg * K * K;
    float *y = j->out + (size_t)p * OH * OW;
    for (int oy = 0; oy < OH; oy++)
      for (int ox = 0; ox < OW; ox++) {
        float acc = l->b[o];
        for (int c = 0; c < Cg; c++)
          for (int ky = 0; ky < K; ky++) {
            int iy = oy * S - P + ky;
            if (iy < 0 || iy >= H) continue;
            const float *xr = x + ((size_t)(c0 + c) * H + iy) * W, *wr = w + ((size_t)c * K + ky) * K;
            for (int kx = 0; kx < K; kx++) {
              int ix = ox * S - P + kx;
              if (ix >= 0 && ix < W) acc += wr[kx] * xr[ix];
            }
          }
        y[oy * OW + ox] = acc;
      }
  }
}

/* dW[o], db[o] over the batch */
static void dw_part(void *ctx, int part, int begin, int end) {
  const job *j = ctx;
  const layer *l = j->l;
  (void)part;
  int C = l->a.c, H = l->a.h, W = l->a.w, OC = l->a.oc, OH = l->a.oh, OW = l->a.ow;
  int K = l->a.k, S = l->a.s, P = l->pad, G = l->a.groups, Cg = C / G, OCg = OC / G;
  for (int o = begin; o < end; o++) {
    int c0 = (o / OCg) * Cg;
    float *dw = l->dw + (size_t)o * Cg * K * K;
    for (int s = 0; s < j->n; s++) {
      const float *x = j->in + (size_t)s * C * H * W, *dy = j->dout + ((size_t)s * OC + o) * OH * OW;
      for (int oy = 0; oy < OH; oy++)
        for (int ox = 0; ox < OW; ox++) {
          float g = dy[oy * OW + ox];
          l->db[o] += g;
          for (int c = 0; c < Cg; c++)
            for (int ky = 0; ky < K; ky++) {
              int iy = oy * S - P + ky;
              if (iy < 0 || iy >= H) continue;
              const float *xr = x + ((size_t)(c0 + c) * H + iy) * W;
              float *dwr = dw + ((size_t)c * K + ky) * K;
              for (int kx = 0; kx < K; kx++) {
                int ix = ox * S - P + kx;
                if (ix >= 0 && ix < W) dwr[kx] += g * xr[ix];
              }
            }
        }
    }
  }
}

/* dx of input plane p = sample * C + c, from its group's output channels */
static void dx_part(void *ctx, int part, int begin, int end) {
  const job *j = ctx;
  const layer *l = j->l;
  (void)part;
  int C = l->a.c, H = l->a.h, W = l->a.w, OC = l->a.oc, OH = l->a.oh, OW = l->a.ow;
  int K = l->a.k, S = l->a.s, P = l->pad, G = l->a.groups, Cg = C / G, OCg = OC / G;
  for (int p = begin; p < end; p++) {
    int s = p / C, c = p % C, g = c / Cg, cl = c - g * Cg;
    float *dx = j->out + (size_t)p * H * W;
    memset(dx, 0, sizeof(float) * (size_t)H * W);
    for (int o = g * OCg; o < (g + 1) * OCg; o++) {
      const float *dy = j->dout + ((size_t)s * OC + o) * OH * OW;
      const float *w = l->w + ((size_t)o * Cg + cl) * K * K;
      for (int oy = 0; oy < OH; oy++)
        for (int ox = 0; ox < OW; ox++) {
          float gy = dy[oy * OW + ox];
          for (int ky = 0; ky < K; ky++) {
            int iy = oy * S - P + ky;
            if (iy < 0 || iy >= H) continue;
            for (int kx = 0; kx < K; kx++) {
              int ix = ox * S - P + kx;
              if (ix >= 0 && ix < W) dx[iy * W + ix] += gy * w[ky * K + kx];
            }
          }
        }
    }
  }
}

void gconv_forward(const layer *l, float *out, const float *in, int n) {
  job j = {.l = l, .n = n, .out = out, .in = in};
  int planes = n * l->a.oc;
  double work = (double)layer_out_size(l) * l->a.c / l->a.groups * l->a.k * l->a.k * n;
  par_for(planes, par_parts(planes, work), fwd_part, &j);
  if (l->fuse_relu) /* a ReLU folded into this layer at inference */
    for (long i = 0; i < layer_out_size(l) * n; i++) out[i] = out[i] > 0.0f ? out[i] : 0.0f;
}

void gconv_backward(const layer *l, float *din, const float *dout, const float *in, int n,
                    int param_grads) {
  job j = {.l = l, .n = n, .out = din, .in = in, .dout = dout};
  double work = (double)layer_out_size(l) * l->a.c / l->a.groups * l->a.k * l->a.k * n;
  if (param_grads) par_for(l->a.oc, par_parts(l->a.oc, work), dw_part, &j);
  if (din) par_for(n * l->a.c, par_parts(n * l->a.c, work), dx_part, &j);
}
