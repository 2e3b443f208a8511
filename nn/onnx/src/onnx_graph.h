/* onnx_graph: the importer's state (private), which its parts share:
 * onnx_import.c walks the graph (constants, the input, the order of nodes,
 * emocam's mirrored pass) and builds the model; onnx_ops.c maps one node
 * onto nn layers; onnx_graph.c holds what both read and write (messages,
 * constants, values). */
#ifndef NN_ONNX_GRAPH_H
#define NN_ONNX_GRAPH_H

#include <stddef.h>

#include "nn.h"
#include "onnx.pb-c.h"

#define IMPORT_MAX_LAYERS 512

/* One nn layer read from the graph, with its tensors (owned). */
typedef struct {
  const char *kind; /* nn's word */
  int out, k, s;
  int pad;          /* conv, pooling: the padding on each side */
  int groups;       /* conv: channel groups (1: none) */
  float p;          /* leaky's slope */
  int src, src2;    /* the layers it reads (-1: the input; src2 -2: none) */
  int c, h, w, oc, oh, ow;
  float *t[4];      /* conv/dwconv/dense: weight, bias; bn: gamma, beta, mean, var */
  long tn[4];
} ilayer;

/* A value of the graph: which layer's output holds it, and its shape. */
typedef struct {
  const char *name; /* the ONNX value name (borrowed from the model) */
  int layer;        /* -1: the input */
  int c, h, w;
  int flat;         /* [N, c*h*w] in ONNX terms (after Flatten or a dense layer) */
  float temp;       /* > 0: the layer's output divided by this (a temperature) */
} ivalue;

typedef struct {
  const char *file;
  char *err;
  size_t errlen;
  const Onnx__GraphProto *g;
  /* constants: initializers, then Constant nodes' outputs */
  const char **cname;
  const Onnx__TensorProto **ctensor;
  size_t nconst;
  /* the values made so far */
  ivalue *vals;
  size_t nvals, capvals;
  /* the layers */
  ilayer L[IMPORT_MAX_LAYERS];
  int n;
  float temperature;
  int softmax;      /* the graph's Softmax was read */
  const char *input;
  int in_c, in_h, in_w;
} importer;

int import_fail(importer *im, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *node_label(const Onnx__NodeProto *n);
/* import_fail() with "node 'NAME' (OP): " in front */
#define NODE_FAIL(im, n, fmt, ...)                                                            \
  import_fail(im, "node '%s' (%s): " fmt, node_label(n), (n)->op_type ? (n)->op_type : "?", \
              __VA_ARGS__)

int is_op(const Onnx__NodeProto *n, const char *op);
const Onnx__TensorProto *import_constant(const importer *im, const char *name);
/* The value called name, or NULL. */
ivalue *import_value(importer *im, const char *name);
/* Records a value; -1 after import_fail (out of memory). */
int import_add_value(importer *im, ivalue v);
/* How many nodes read the value called name. */
int import_readers(const importer *im, const char *name);

#endif
