/* dwconv: depthwise K x K convolution (one filter per channel), zero padding
 * K/2, with bias, as direct loops: SGEMM would see 1-row matrices here.
 * y[n,c,oy,ox] = b[c] + sum_{ky,kx} w[c,ky,kx] x[n,c,oy*S-pad+ky,ox*S-pad+kx].
 * Work is split by channel, so each channel's gradient has a single writer. */
#include "layer.h"
#include "threads.h"

#include <string.h>

/* output positions o whose input o*S - pad + k lies in [0, size) */
static void valid_range(int size, int osize, int S, int pad, int k, int *lo, int *hi) {
  int a = pad - k;
  *lo = a > 0 ? (a + S - 1) / S : 0;
  int b = size - 1 + pad - k;
  *hi = b < 0 ? 0 : b / S + 1;
  if (*hi > osize) *hi = osize;
  if (*lo > *hi) *lo = *hi;
}

typedef struct {
  const layer *l;
  float *out, *din;
  const float *in, *dout;
  int n, param_grads;
} job;

/* one plane: y[OH,OW] from x[H,W] */
static void plane_forward(const layer *l, float *y, const float *x, const float *w, float b) {
  int H = l->a.h, W = l->a.w, K = l->a.k, S = l->a.s, pad = l->pad;
  int OH = l->a.oh, OW = l->a.ow;
  for (int i = 0; i < OH * OW; i++) y[i] = b;
  for (int ky = 0; ky < K; ky++) {
    int ylo, yhi;
    valid_range(H, OH, S, pad, ky, &ylo, &yhi);
    for (int kx = 0; kx < K; kx++) {
      int xlo, xhi;
      valid_range(W, OW, S, pad, kx, &xlo, &xhi);
      float wk = w[ky * K + kx];
      for (int oy = ylo; oy < yhi; oy++) {
        const float *xr = x + (size_t)(oy * S - pad + ky) * W - pad + kx;
        float *yr = y + (size_t)oy * OW;
        if (S == 1)
          for (int ox = xlo; ox < xhi; ox++) yr[ox] += wk * xr[ox];
        else
          for (int ox = xlo; ox < xhi; ox++) yr[ox] += wk * xr[ox * S];
      }
    }
  }
  if (l->fuse_relu)
    for (int i = 0; i < OH * OW; i++) y[i] = y[i] > 0.0f ? y[i] : 0.0f;
}

static void fwd_planes(void *ctx, int part, int begin, int end) {
  const job *j = ctx;
  const layer *l = j->l;
  (void)part;
  int C = l->a.c, K = l->a.k;
  long ihw = (long)l->a.h * l->a.w, ohw = (long)l->a.oh * l->a.ow;
  for (int p = begin; p < end; p++) {
    int c = p % C;
    plane_forward(l, j->out + p * ohw, j->in + p * ihw, l->w + (size_t)c * K * K, l->b[c]);
  }
}

void dwconv_forward(const layer *l, float *out, const float *in, int n) {
  job j = {.l = l, .out = out, .in = in, .n = n};
  double flops = 2.0 * l->a.c * l->a.k * l->a.k * l->a.oh * l->a.ow * n;
  par_for(n * l->a.c, par_parts(n * l->a.c, flops), fwd_planes, &j);
}

/* dx[iy,ix] += w dy[oy,ox]; dw += dy[oy,ox] x[iy,ix]; db += dy */
static void bwd_channels(void *ctx, int part, int begin, int end) {
  const job *j = ctx;
  const layer *l = j->l;
  (void)part;
  int C = l->a.c, H = l->a.h, W = l->a.w, K = l->a.k, S = l->a.s, pad = l->pad;
  int OH = l->a.oh, OW = l->a.ow;
  long ihw = (long)H * W, ohw = (long)OH * OW;
  for (int c = begin; c < end; c++) {
    const float *w = l->w + (size_t)c * K * K;
    float *dw = l->dw + (size_t)c * K * K;
    for (int s = 0; s < j->n; s++) {
      long plane = (long)s * C + c;
      const float *x = j->in + plane * ihw, *dy = j->dout + plane * ohw;
      float *dx = j->din ? j->din + plane * ihw : NULL;
      if (dx) memset(dx, 0, sizeof(float) * ihw);
      if (j->param_grads) {
        float acc = 0.0f;
        for (long i = 0; i < ohw; i++) acc += dy[i];
        l->db[c] += acc;
      }
      for (int ky = 0; ky < K; ky++) {
        int ylo, yhi;
        valid_range(H, OH, S, pad, ky, &ylo, &yhi);
        for (int kx = 0; kx < K; kx++) {
          int xlo, xhi;
          valid_range(W, OW, S, pad, kx, &xlo, &xhi);
          float wk = w[ky * K + kx], gw = 0.0f;
          for (int oy = ylo; oy < yhi; oy++) {
            long off = (long)(oy * S - pad + ky) * W - pad + kx;
            const float *xr = x + off, *dyr = dy + (size_t)oy * OW;
            if (j->param_grads)
              for (int ox = xlo; ox < xhi; ox++) gw += dyr[ox] * xr[ox * S];
            if (dx) {
              float *dxr = dx + off;
              for (int ox = xlo; ox < xhi; ox++) dxr[ox * S] += wk * dyr[ox];
            }
          }
          if (j->param_grads) dw[ky * K + kx] += gw;
        }
      }
    }
  }
}

void dwconv_backward(const layer *l, float *din, const float *dout, const float *in, int n,
                     int param_grads) {
  job j = {.l = l, .din = din, .in = in, .dout = dout, .n = n, .param_grads = param_grads};
  double flops = 4.0 * l->a.c * l->a.k * l->a.k * l->a.oh * l->a.ow * n;
  par_for(l->a.c, par_parts(l->a.c, flops), bwd_channels, &j);
}
