/* layer: the layer struct and the forward/backward functions of every layer
 * kind (private). Each kind is a pair of plain functions over NCHW float
 * buffers: forward(out, in, ...), backward(din, dout, in, ...). Backward adds
 * into parameter gradients (zeroed once per step by the net) and overwrites
 * the input gradient (layers with parameters take din NULL when it is not
 * wanted). Buffers belong to the net; layers hold views. */
#ifndef NN_LAYER_H
#define NN_LAYER_H

#include "layer_spec.h"

#include <stddef.h>

#define BN_EPS 1e-5f
#define BN_MOMENTUM 0.1f

typedef struct {
  arch_layer a;        /* kind, line, hyper-parameters and shapes */
  int pad;             /* conv/dwconv: K/2 */
  /* parameters (views into the net's arenas); NULL where the kind has none */
  float *w, *b;        /* conv [OUT,C,K,K]; dwconv [C,1,K,K]; dense [N,IN]; bn gamma [C], beta [C] */
  float *dw, *db;      /* their gradients */
  float *rmean, *rvar; /* bn running statistics [C] */
  /* saved by forward for backward */
  float *bmean, *binvstd; /* bn: statistics used by the last forward [C] */
  void *saved;            /* training, what the kind's needs() asked for: maxpool's argmax
                             (int [N, C, OH, OW], index into the input plane), dropout's
                             mask (float [N, C*H*W], 0 or 1/(1-p)) */
  float *act;             /* training: this layer's output [N, OC, OH, OW] */
  int fuse_relu;          /* bn always, conv/dwconv after folding: apply the next ReLU */
  int relu_fused;         /* relu: applied by the layer before (forward and backward) */
  int skip;               /* identity at inference (a folded bn, a relu fused into a conv) */
  int deferred;           /* bn, training: the last forward left its map to the layer after */
  int readers;            /* layers that read this one's output (v2 text may branch) */
} layer;

/* Scratch shared by the layers of one net, one slice per thread. */
typedef struct {
  int threads;     /* slices below */
  float **col;     /* [threads] im2col/col2im matrices, dwconv planes: col_size floats each */
  size_t col_size;
  float *wflip;    /* conv backward: the flipped kernel, wflip_size floats */
  size_t wflip_size;
  float *slots;    /* training: conv weight gradients per chunk of samples; borrowed
                      from the net's training buffers, NULL before the first one */
  float *bn_part;  /* training: bn's per-sample sums, borrowed the same way */
} layer_ws;

/* A bn's input gradient left to the layer before it, which computes it as
 * it reads its output gradient (bn_grad_plane) instead of reading one the
 * bn wrote: bn_backward(din NULL) then bn_grad_left, before the bn's
 * scratch is used again. */
typedef struct {
  const layer *bn;
  const float *x; /* the bn's input: the layer before's output [N, C, H, W] */
  const float *k; /* per channel, the factors bn_backward computed */
} bn_grad;

/* conv and dwconv, padding pad: the first and one-past-last output
 * positions o whose input o*S - pad + k lies inside [0, size). */
static inline void conv_valid_range(int size, int osize, int S, int pad, int k, int *lo, int *hi) {
  int a = pad - k;
  *lo = a > 0 ? (a + S - 1) / S : 0;
  int b = size - 1 + pad - k;
  *hi = b < 0 ? 0 : b / S + 1;
  if (*hi > osize) *hi = osize;
  if (*lo > *hi) *lo = *hi;
}

static inline long layer_in_size(const layer *l) { return (long)l->a.c * l->a.h * l->a.w; }
static inline long layer_out_size(const layer *l) { return (long)l->a.oc * l->a.oh * l->a.ow; }

/* conv.c: y = W * im2col(x) + b; 1x1 stride-1 convs skip im2col */
/* the output shape of a conv or dwconv, padding K/2 (odd K only) */
int conv_shape_same(arch_layer *a, char *why, size_t len);
size_t conv_col_size(const layer *l);   /* floats of im2col scratch per thread */
size_t conv_wflip_size(const layer *l); /* floats of the flipped kernel */
size_t conv_slots_size(const layer *l, int max_batch); /* floats of gradient slots */
/* For tests: im2col tiles of about this many bytes (<= 0: the default), so
 * that small planes take the tiled path of large ones too. */
void conv_set_tile_bytes(long bytes);
/* 1: a bn before may leave its map to this conv (pre, below) */
int conv_takes_map(const layer *l);
/* train: split the same way whatever the thread count (see conv.c).
 * pre: NULL, or (where conv_takes_map, in training) a bn whose output is this
 * layer's input: `in` is then the bn's input, and the bn's map is applied
 * as it is gathered (bn_map_plane). post: NULL, or a bn after this layer
 * that left its input gradient to us: dout is then the bn's dy. */
void conv_forward(const layer *l, float *out, const float *in, int n, int train, const layer *pre,
                  const layer_ws *ws);
void conv_backward(const layer *l, float *din, const float *dout, const float *in, int n,
                   int param_grads, const layer *pre, const bn_grad *post, const layer_ws *ws);

/* dwconv.c: depthwise K x K, direct loops per plane; layers of
 * DWCONV_BUNDLE_MIN_C channels or more, and batches of DWCONV_BATCH_MIN or
 * more, go to dwconv_batch.c (8 channels in SIMD lanes).
 * pre: NULL, or a bn with a fused ReLU whose output is this layer's input:
 * `in` is then the bn's input, and the bn's affine map and ReLU are applied
 * as it is loaded (only where dwconv_bundles says so). post: as for
 * conv_backward, also only where dwconv_bundles says so. */
#define DWCONV_BATCH_MIN 8
#define DWCONV_BUNDLE_MIN_C 8
size_t dwconv_scratch_size(const layer *l); /* floats of scratch per thread, both paths */
int dwconv_bundles(const layer *l, int n);  /* 1: a batch of n takes dwconv_batch.c */
void dwconv_forward(const layer *l, float *out, const float *in, int n, const layer *pre,
                    const layer_ws *ws);
void dwconv_backward(const layer *l, float *din, const float *dout, const float *in, int n,
                     int param_grads, const layer *pre, const bn_grad *post,
                     const layer_ws *ws);

/* bn.c: batch norm over channels; `batch_stats` selects training behaviour.
 * With l->fuse_relu the output is max(bn, 0), and backward masks dout where
 * it was cut (recomputed from the input and the statistics forward saved).
 * part: bn_scratch_size floats for per-sample sums; forward without
 * batch_stats does not use it (may be NULL). out NULL: only the statistics
 * (the layer after applies the map as it loads its input, bn_map_plane);
 * din NULL: only the parameter gradients and the factors of the input
 * gradient (the layer before computes it, bn_grad_left). */
size_t bn_scratch_size(const layer *l, int max_batch);
void bn_forward(layer *l, float *out, const float *in, int n, int batch_stats, float *part);
void bn_backward(const layer *l, float *din, const float *dout, const float *in, int n,
                 int batch_stats, int param_grads, float *part);

/* after bn_backward(din NULL) of a batch of n: the gradient it left */
bn_grad bn_grad_left(const layer *l, const float *in, int n, const float *part);
/* dx = the bn's input gradient for one plane of channel c, from dy (the
 * gradient of its output, before the fused ReLU's mask) and x, hw floats */
void bn_grad_plane(const bn_grad *g, int c, float *dx, const float *dy, const float *x, long hw);

/* y = the map of channel c (below, then the fused ReLU) applied to one
 * plane of the bn's input x, hw floats: for a layer that reads the bn's
 * output, applying the map as it loads its input. */
void bn_map_plane(const layer *l, int c, float *y, const float *x, long hw);

/* Folds the running statistics and affine of bn into the weights w
 * [C][per_channel] and bias b [C] of the layer before it (inference). */
void bn_fold_into(const layer *bn, float *w, float *b, size_t per_channel);

/* The affine map of the last bn forward for channel c, y = x scale + shift:
 * one expression for every pass that applies it, so that they agree bit for
 * bit. */
static inline float bn_scale(const layer *l, int c) { return l->w[c] * l->binvstd[c]; }
static inline float bn_shift(const layer *l, int c, float scale) {
  return l->b[c] - l->bmean[c] * scale;
}

/* relu.c, maxpool.c, gap.c, dropout.c */
void relu_forward(float *out, const float *in, long count);
void relu_backward(float *din, const float *dout, const float *out, long count);
void maxpool_forward(const layer *l, float *out, const float *in, int n, int *argmax);
void maxpool_backward(const layer *l, float *din, const float *dout, int n);
void gap_forward(const layer *l, float *out, const float *in, int n);
void gap_backward(const layer *l, float *din, const float *dout, int n);
void dropout_apply(float *out, const float *in, const float *mask, long count);

/* gconv.c: grouped convolution, direct loops (conv with GROUPS > 1) */
void gconv_forward(const layer *l, float *out, const float *in, int n);
void gconv_backward(const layer *l, float *din, const float *dout, const float *in, int n,
                    int param_grads);

/* pool.c: windows of any K, S, P (maxpool's long form, avgpool) */
void pool_forward(const layer *l, float *out, const float *in, int n, int *argmax);
void pool_backward(const layer *l, float *din, const float *dout, int n);
int pool_shape(arch_layer *a, char *why, size_t len);

/* dense.c: y[n,N] = x[n,IN] W^T + b */
void dense_forward(const layer *l, float *out, const float *in, int n);
void dense_backward(const layer *l, float *din, const float *dout, const float *in, int n,
                    int param_grads);

#endif
