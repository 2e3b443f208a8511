/* net: the nn_net struct shared by net.c (building, forward, training) and
 * net_params.c (tensors, initialisation, folding, summary). Private. */
#ifndef NN_NET_PRIV_H
#define NN_NET_PRIV_H

#include "arch.h"
#include "layer.h"
#include "nn.h"
#include "rng.h"

struct nn_net {
  char *arch_text;        /* owned copy */
  arch_spec arch;
  int nl;                 /* layers, the final softmax included */
  layer *L;               /* [nl] */
  int num_classes, max_batch;
  int training, frozen, folded;
  float temperature;

  /* parameters and state, one arena each; layers and tensors hold views */
  float *params, *grads;  /* [nparams] trainable values and their gradients */
  size_t nparams;
  float *state;           /* bn running mean/var, then bn batch mean/invstd */
  size_t nstate;
  int ntensors;
  nn_tensor *tensors;     /* [ntensors] */
  char (*names)[32];      /* [ntensors] */

  /* inference buffers */
  size_t max_feat;        /* largest per-sample tensor: any layer's input or output */
  float *ping, *pong;     /* [max_batch * max_feat] alternating layer outputs */
  float *logits;          /* [max_batch, classes] of the last forward */
  float *dlogits;         /* [max_batch, classes] probabilities, then dL/dlogits */
  int last_n;
  layer_ws ws;
  float *ws_arena;

  /* training buffers, allocated on the first training forward */
  float *train_arena;
  float *gA, *gB;         /* [max_batch * max_feat] alternating gradients */
  float *input_grad;      /* [max_batch, C, H, W] */
  int want_input_grad;    /* compute it (nn_net_want_input_grad) */
  int has_input_grad;     /* the last batch computed it */

  /* v2 text with branches (a `from` or a merge layer): every layer keeps its
   * own output (l->act, allocated with the net) and, in training, its own
   * output gradient; fusion only where the layers form a chain link. */
  int dag;
  const float **val;      /* [nl] where each layer's output of this pass is */
  float *dag_arena;       /* the layers' outputs */
  float **grad_of;        /* [nl] training: each layer's output gradient */
  float *gtmp, *gtmp2;    /* training: an input gradient before it is added in */

  nn_rng dropout_rng;
  int fixed_dropout;      /* test hook: reseed the dropout PRNG every forward */
  uint64_t fixed_dropout_seed;
};

/* 1 once nn_net_fold_batchnorm has run: no more training or saving. */
int net_is_folded(const nn_net *net);

/* Test hook for gradient checks: when on, every training forward draws the
 * same dropout masks (the PRNG is reseeded from seed). */
void net_fix_dropout(nn_net *net, int on, uint64_t seed);

/* net_params.c */
int net_build_tensors(nn_net *net); /* sizes arenas, fills tensors; 0 or -1 (no memory) */

#endif
