/* arch: parser of the architecture text, format v1 (private).
 * Turns the text into a list of layer specs with their shapes, rejecting
 * anything malformed with "FILE:LINE: reason". Format: assets/arch/README.md. */
#ifndef NN_ARCH_H
#define NN_ARCH_H

#include <stddef.h>

#define ARCH_MAX_KERNEL 15 /* conv and dwconv K */

typedef enum {
  L_CONV, L_DWCONV, L_BN, L_RELU, L_MAXPOOL, L_DROPOUT, L_GAP, L_DENSE, L_SOFTMAX
} layer_kind;

extern const char *const layer_kind_names[]; /* indexed by layer_kind */

typedef struct {
  layer_kind kind;
  int line;          /* 1-based line in the text, for messages */
  int out, k, s;     /* conv: OUT K STRIDE; dwconv: K STRIDE; maxpool: S; dense: N */
  float p;           /* dropout probability */
  int c, h, w;       /* input shape of one sample */
  int oc, oh, ow;    /* output shape of one sample */
} arch_layer;

typedef struct {
  int in_c, in_h, in_w;
  int num_classes;   /* size of the final output (the logits) */
  int n;             /* layers after `input` */
  arch_layer *layers; /* [n], owned */
} arch_spec;

/* Parses text. num_classes > 0 fixes the word `classes` and must equal the
 * final output size; <= 0 means the text must give numbers. Returns 0, or -1
 * with err = "SOURCE:LINE: reason". On success free with arch_free. */
int arch_parse(arch_spec *out, const char *text, const char *source, int num_classes,
               char *err, size_t errlen);
void arch_free(arch_spec *a);

#endif
