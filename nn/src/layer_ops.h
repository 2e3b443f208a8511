/* layer_ops: the table of layer kinds (private). A row says everything the
 * rest of nn needs of a kind: its word and arguments in the architecture
 * text, its output shape, its tensors and how they start, its cost, the
 * scratch it needs, and its forward and backward passes. Adding a layer is
 * adding its file (which defines its row) and one line in layer_table.c;
 * arch.c, net.c and net_params.c only walk the table. */
#ifndef NN_LAYER_OPS_H
#define NN_LAYER_OPS_H

#include "layer.h"
#include "rng.h"

#include <stddef.h>

/* One argument of a layer line: a whole number in [lo, hi], a probability
 * in [0, 1), or a count that may also be the word `classes`. */
typedef enum { ARG_INT, ARG_PROB, ARG_INT_OR_CLASSES } layer_arg_kind;
typedef struct {
  const char *name; /* in messages: "OUT", "K" */
  layer_arg_kind kind;
  int lo, hi;
  size_t offset;    /* offsetof(arch_layer, field): int, or float for ARG_PROB */
} layer_arg;

#define LAYER_MAX_ARGS 5

/* The arguments of a pooling window (v2: `maxpool K S P`, `avgpool K S P`). */
#define POOL_WINDOW_ARGS                                                  \
  {{"K", ARG_INT, 1, ARCH_MAX_KERNEL, offsetof(arch_layer, k)},          \
   {"S", ARG_INT, 1, ARCH_MAX_STRIDE, offsetof(arch_layer, s)},          \
   {"P", ARG_INT, 0, ARCH_MAX_KERNEL - 1, offsetof(arch_layer, pad)}}

/* How a tensor starts: He-normal (std sqrt(2 / fan-in), fan-in = the
 * product of dims after the first), zeros or ones. */
typedef enum { INIT_HE, INIT_ZERO, INIT_ONE } tensor_init;

/* Trainable parameters live in the params arena and have gradients; state
 * (bn's running statistics) is saved with them but not trained; scratch
 * (bn's batch statistics) is neither a named tensor nor in model files. */
typedef enum { TENSOR_PARAM, TENSOR_STATE, TENSOR_SCRATCH } tensor_role;

/* One tensor a layer owns. */
typedef struct {
  const char *what; /* "conv.weight": the name in model files after "I." */
  tensor_role role;
  int ndim, dims[4];
  tensor_init init;
  float **data, **grad; /* where the layer keeps its views */
} tensor_spec;
#define LAYER_MAX_TENSORS 6

/* Buffers a layer needs beyond its input and output, in floats. */
typedef struct {
  size_t col;     /* per thread, inference and training (im2col, dwconv planes) */
  size_t wflip;   /* once: conv backward's flipped kernel */
  size_t slots;   /* training: conv weight gradients per chunk of samples */
  size_t bn_part; /* training: bn per-sample sums */
  size_t saved;   /* training: kept by forward for backward (l->saved) */
} layer_needs;

/* One forward pass of a layer over a batch. */
typedef struct {
  float *out;          /* NULL for a bn that leaves its map to the layer after */
  const float *in;     /* a deferring bn's input where pre is set */
  int n;
  int train;           /* training forward: save what backward needs */
  int batch_stats;     /* bn: normalise with this batch's statistics */
  const layer *pre;    /* NULL, or the bn whose map applies to `in` as it is loaded */
  const layer_ws *ws;
  nn_rng *rng;         /* dropout masks, drawn on the calling thread */
  const float *in2;    /* merge layers: the second input */
} layer_fwd;

/* One backward pass: parameter gradients added, din overwritten. */
typedef struct {
  float *din;          /* NULL: not wanted */
  const float *dout;
  const float *in;     /* the forward's input (a deferring bn's, where pre is set) */
  const float *out;    /* the forward's output (l->act) */
  int n;
  int param_grads;     /* add into the parameter gradients */
  int batch_stats;
  const layer *pre;
  const bn_grad *post; /* a bn after this layer that left its input gradient here */
  bn_grad *leave;      /* bn: leave the input gradient to the layer before, here,
                          instead of writing din */
  const layer_ws *ws;
  const float *in2;    /* merge layers: the second input */
  float *din2;         /* and its gradient (NULL: not wanted), overwritten */
} layer_bwd;

typedef struct {
  const char *word;   /* in the architecture text */
  const char *usage;  /* the arguments, for messages: "OUT K STRIDE" */
  int nargs;
  layer_arg args[LAYER_MAX_ARGS];
  /* v2: a second, longer form of the arguments (0: none), e.g. conv's
   * "OUT K STRIDE PAD" */
  const char *alt_usage;
  int alt_nargs;
  int alt_min;        /* the long form's trailing arguments from this many on may
                         be left out (0: all are needed) */
  layer_arg alt_args[LAYER_MAX_ARGS];
  int merge;          /* reads two tensors: the line's input and `NAME` (add, mul, concat) */
  /* output shape from the input shape and the arguments (NULL: the input's).
   * 0, or -1 with a reason in why (the parser adds FILE:LINE). */
  int (*shape)(arch_layer *a, char *why, size_t len);
  /* the tensors in model-file order, returns how many (NULL: none) */
  int (*tensors)(layer *l, tensor_spec *t);
  double (*macs)(const arch_layer *a); /* multiply-adds per sample (NULL: 0) */
  void (*needs)(const layer *l, int max_batch, layer_needs *need); /* NULL: none */
  void (*forward)(layer *l, const layer_fwd *f);        /* NULL: nothing to do */
  void (*backward)(const layer *l, const layer_bwd *b); /* NULL: nothing to do */
  /* The fusion plan's questions (fusion.c); NULL: no. */
  /* in training, a batch of n can apply a bn's map (and its ReLU) to its
   * input as it loads it (layer_fwd.pre) */
  int (*takes_bn_map)(const layer *l, int n);
  /* in training, a batch of n can compute the input gradient of a bn after
   * it as it loads its output gradient (layer_bwd.post) */
  int (*takes_bn_grad)(const layer *l, int n);
  /* weights per output channel, when a bn after it can be folded into its
   * weights and bias (W' = W s, b' = (b - mean) s + beta) and a ReLU after
   * that applied by it (l->fuse_relu) at inference */
  long (*folds_bn)(const arch_layer *a);
  int in_place;          /* may overwrite its input (its backward needs only its output) */
  int inference_identity; /* passes its input through at inference (dropout) */
} layer_ops;

/* layer_table.c */
const layer_ops *layer_ops_of(layer_kind kind);
/* the kind whose word is w, or L_KINDS */
layer_kind layer_kind_of_word(const char *w);
/* "conv, dwconv, ... or softmax" into buf, for messages */
void layer_words(char *buf, size_t len);

/* the rows, each in its layer's file */
extern const layer_ops conv_ops, dwconv_ops, bn_ops, relu_ops, maxpool_ops, dropout_ops, gap_ops,
    dense_ops, softmax_ops;
/* format v2: merge.c, act.c */
extern const layer_ops add_ops, mul_ops, concat_ops, sigmoid_ops, leaky_ops, relu6_ops,
    hswish_ops, silu_ops, avgpool_ops;

#endif
