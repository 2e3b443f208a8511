/* dwconv: what dwconv.c shares with dwconv_batch.c (private): the work of
 * one call, and the batch path's pieces, run by dwconv.c's par_for. */
#ifndef NN_DWCONV_H
#define NN_DWCONV_H

#include "layer.h"

typedef struct {
  const layer *l;
  float *out, *din;        /* forward: y; backward: dx (NULL: not wanted) */
  const float *in, *dout;  /* x; backward: dy */
  const layer *pre;        /* NULL or the bn (+ ReLU) applied to x as it is loaded */
  const bn_grad *post;     /* backward: NULL, or the bn after whose input gradient
                              is computed from dy as it is loaded (batch path) */
  const layer_ws *ws;
  int n, param_grads;
} dwconv_job;

/* dwconv_batch.c: 8 channels in SIMD lanes */
size_t dwconv_batch_scratch_size(const layer *l); /* floats per thread */
int dwconv_batch_items(const layer *l, int n);    /* forward items: groups of 8 x samples */
int dwconv_batch_groups(const layer *l);          /* backward items: groups of 8 channels */
void dwconv_batch_forward_items(void *job, int worker, int begin, int end);
void dwconv_batch_backward_groups(void *job, int worker, int begin, int end);

#endif
