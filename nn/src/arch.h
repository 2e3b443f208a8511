/* arch: parser of the architecture text, format v1 (private).
 * Turns the text into a list of layer specs with their shapes, rejecting
 * anything malformed (each layer word's arguments and shape rule are its row
 * of the layer table) with "FILE:LINE: reason". Format: assets/arch/README.md. */
#ifndef NN_ARCH_H
#define NN_ARCH_H

#include <stddef.h>

#include "layer_spec.h"

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
