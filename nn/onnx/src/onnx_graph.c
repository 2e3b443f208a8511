/* onnx_graph: the importer's state shared by its two halves (onnx_graph.h):
 * messages that name the file and the node, the constants, and the values
 * the graph has made so far. onnx_import.c (the walk) and onnx_ops.c (one
 * node each) both use it; it uses neither. */
#include "onnx_graph.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int import_fail(importer *im, const char *fmt, ...) {
  char msg[NN_ERR_LEN];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  snprintf(im->err, im->errlen, "%s: %s", im->file, msg);
  return -1;
}

const char *node_label(const Onnx__NodeProto *n) {
  if (n->name && n->name[0]) return n->name;
  return n->n_output && n->output[0] ? n->output[0] : "(unnamed)";
}

int is_op(const Onnx__NodeProto *n, const char *op) { return n->op_type && !strcmp(n->op_type, op); }

const Onnx__TensorProto *import_constant(const importer *im, const char *name) {
  if (!name) return NULL;
  for (size_t i = 0; i < im->nconst; i++)
    if (!strcmp(im->cname[i], name)) return im->ctensor[i];
  return NULL;
}

ivalue *import_value(importer *im, const char *name) {
  if (!name) return NULL;
  for (size_t i = im->nvals; i-- > 0;) /* the latest first: names are unique anyway */
    if (!strcmp(im->vals[i].name, name)) return &im->vals[i];
  return NULL;
}

int import_add_value(importer *im, ivalue v) {
  if (import_value(im, v.name) || import_constant(im, v.name))
    return import_fail(im, "value '%s' is made twice (not a valid graph)", v.name);
  if (im->nvals == im->capvals) {
    size_t cap = im->capvals ? im->capvals * 2 : 64;
    ivalue *b = realloc(im->vals, cap * sizeof *b);
    if (!b) return import_fail(im, "out of memory");
    im->vals = b;
    im->capvals = cap;
  }
  im->vals[im->nvals++] = v;
  return 0;
}

int import_readers(const importer *im, const char *name) {
  int k = 0;
  for (size_t i = 0; i < im->g->n_node; i++) {
    const Onnx__NodeProto *n = im->g->node[i];
    for (size_t j = 0; j < n->n_input; j++) k += n->input[j] && !strcmp(n->input[j], name);
  }
  for (size_t i = 0; i < im->g->n_output; i++)
    k += im->g->output[i]->name && !strcmp(im->g->output[i]->name, name);
  return k;
}

