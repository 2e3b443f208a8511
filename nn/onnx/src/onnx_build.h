/* onnx_build: making protobuf-c ONNX messages for the exporter (private).
 * Every message, string and array comes from one arena, freed at once after
 * the model is packed, so building a graph needs no per-node ownership. */
#ifndef NN_ONNX_BUILD_H
#define NN_ONNX_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "onnx.pb-c.h"

typedef struct {
  void **blocks;
  size_t n, cap;
  int failed; /* an allocation failed: the graph is incomplete */
} onnx_arena;

void *arena_alloc(onnx_arena *a, size_t size); /* zeroed; NULL (and failed) when out of memory */
char *arena_strdup(onnx_arena *a, const char *s);
char *arena_printf(onnx_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void arena_free(onnx_arena *a);

/* A graph under construction: nodes and initializers appended in order. */
typedef struct {
  onnx_arena *arena;
  Onnx__NodeProto **nodes;
  size_t n_nodes, cap_nodes;
  Onnx__TensorProto **inits;
  size_t n_inits, cap_inits;
  int counter; /* for fresh value names */
} onnx_graph_builder;

/* A fresh value name "<stem>_<n>". */
char *builder_name(onnx_graph_builder *g, const char *stem);

/* Appends a node; inputs and outputs are NULL-terminated lists (copied).
 * Returns it, to add attributes to, or NULL when out of memory. */
Onnx__NodeProto *builder_node(onnx_graph_builder *g, const char *op, const char *const *inputs,
                              const char *const *outputs);
void node_attr_int(onnx_graph_builder *g, Onnx__NodeProto *n, const char *name, int64_t v);
void node_attr_float(onnx_graph_builder *g, Onnx__NodeProto *n, const char *name, float v);
void node_attr_ints(onnx_graph_builder *g, Onnx__NodeProto *n, const char *name,
                    const int64_t *v, size_t count);

/* Appends a float or int64 initializer (data copied into raw_data). */
void builder_float_init(onnx_graph_builder *g, const char *name, const int64_t *dims, int ndim,
                        const float *data);
void builder_int64_init(onnx_graph_builder *g, const char *name, const int64_t *dims, int ndim,
                        const int64_t *data);

/* A ValueInfoProto of a float tensor; dims < 0 are the symbolic dimension
 * named `symbol`. */
Onnx__ValueInfoProto *builder_value_info(onnx_graph_builder *g, const char *name,
                                         const int64_t *dims, int ndim, const char *symbol);

#endif
