/* layer_spec: what the architecture text says of one layer: its kind, its
 * arguments and the shapes they give (private, plain data). arch.c fills
 * it; layer.h builds the running layer around it. */
#ifndef NN_LAYER_SPEC_H
#define NN_LAYER_SPEC_H

#define ARCH_MAX_KERNEL 15      /* conv and dwconv K */
#define ARCH_MAX_CHANNELS 8192  /* conv OUT, dense N */
#define ARCH_MAX_STRIDE 16
#define ARCH_MAX_FEATURES (1L << 26) /* floats in one sample's activation */

/* One value per row of the layer table (layer_table.c), in its order. */
typedef enum {
  L_CONV, L_DWCONV, L_BN, L_RELU, L_MAXPOOL, L_DROPOUT, L_GAP, L_DENSE,
  /* format v2 */
  L_ADD, L_MUL, L_CONCAT, L_SIGMOID, L_LEAKY, L_RELU6, L_HSWISH, L_SILU, L_AVGPOOL,
  L_SOFTMAX, L_KINDS
} layer_kind;

#define ARCH_NAME_MAX 32 /* a tensor name (v2: `@name`), NUL included */

typedef struct {
  layer_kind kind;
  int line;          /* 1-based line in the text, for messages */
  /* Where the inputs come from (v2): the index of the layer whose output it
   * reads, -1 for the network's input. v1 text: always the line before. */
  int src;
  int src2;          /* merge layers (add, mul, concat): the second input; -2 none */
  int c2, h2, w2;    /* its shape */
  char name[ARCH_NAME_MAX]; /* "" or the name this layer's output was given */
  int out, k, s;     /* conv: OUT K STRIDE; dwconv: K STRIDE; maxpool: S; dense: N */
  int pad;           /* v2: conv's PAD, pooling's P; -1 when the line gives none (K/2, 0) */
  int groups;        /* v2: conv's GROUPS; 0 or 1: one group */
  float p;           /* dropout probability; leaky's slope */
  int c, h, w;       /* input shape of one sample */
  int oc, oh, ow;    /* output shape of one sample */
} arch_layer;

#endif
