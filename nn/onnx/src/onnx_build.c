/* onnx_build: the exporter's arena and message constructors (onnx_build.h). */
#include "onnx_build.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* raw_data is little-endian by the ONNX spec; the floats are copied as they
 * lie in memory. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "nn/onnx writes raw_data as host memory: little-endian hosts only"
#endif

void *arena_alloc(onnx_arena *a, size_t size) {
  if (a->failed) return NULL;
  if (a->n == a->cap) {
    size_t cap = a->cap ? a->cap * 2 : 256;
    void **b = realloc(a->blocks, cap * sizeof *b);
    if (!b) {
      a->failed = 1;
      return NULL;
    }
    a->blocks = b;
    a->cap = cap;
  }
  void *p = calloc(1, size ? size : 1);
  if (!p) {
    a->failed = 1;
    return NULL;
  }
  a->blocks[a->n++] = p;
  return p;
}

char *arena_strdup(onnx_arena *a, const char *s) {
  size_t n = strlen(s) + 1;
  char *p = arena_alloc(a, n);
  if (p) memcpy(p, s, n);
  return p;
}

char *arena_printf(onnx_arena *a, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) return NULL;
  char *p = arena_alloc(a, (size_t)n + 1);
  if (!p) return NULL;
  va_start(ap, fmt);
  vsnprintf(p, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return p;
}

void arena_free(onnx_arena *a) {
  for (size_t i = 0; i < a->n; i++) free(a->blocks[i]);
  free(a->blocks);
  memset(a, 0, sizeof *a);
}

/* Appends p to a growing array of pointers kept in the arena's heap (the
 * arrays themselves are realloc'd, then handed to the arena when done). */
static int push(onnx_arena *a, void ***items, size_t *n, size_t *cap, void *p) {
  if (!p) return -1;
  if (*n == *cap) {
    size_t c = *cap ? *cap * 2 : 64;
    void **bigger = arena_alloc(a, c * sizeof *bigger);
    if (!bigger) return -1;
    if (*n) memcpy(bigger, *items, *n * sizeof *bigger);
    *items = bigger; /* the old array stays in the arena until the end */
    *cap = c;
  }
  (*items)[(*n)++] = p;
  return 0;
}

char *builder_name(onnx_graph_builder *g, const char *stem) {
  return arena_printf(g->arena, "%s_%d", stem, g->counter++);
}

static char **copy_names(onnx_arena *a, const char *const *names, size_t *count) {
  size_t n = 0;
  while (names && names[n]) n++;
  char **out = arena_alloc(a, (n ? n : 1) * sizeof *out);
  if (!out) return NULL;
  for (size_t i = 0; i < n; i++) out[i] = arena_strdup(a, names[i]);
  *count = n;
  return out;
}

Onnx__NodeProto *builder_node(onnx_graph_builder *g, const char *op, const char *const *inputs,
                              const char *const *outputs) {
  Onnx__NodeProto *n = arena_alloc(g->arena, sizeof *n);
  if (!n) return NULL;
  onnx__node_proto__init(n);
  n->op_type = arena_strdup(g->arena, op);
  n->input = copy_names(g->arena, inputs, &n->n_input);
  n->output = copy_names(g->arena, outputs, &n->n_output);
  n->name = builder_name(g, op);
  if (push(g->arena, (void ***)&g->nodes, &g->n_nodes, &g->cap_nodes, n) != 0) return NULL;
  return n;
}

static Onnx__AttributeProto *add_attr(onnx_graph_builder *g, Onnx__NodeProto *n,
                                      const char *name, Onnx__AttributeProto__AttributeType t) {
  if (!n) return NULL;
  Onnx__AttributeProto *a = arena_alloc(g->arena, sizeof *a);
  Onnx__AttributeProto **list =
      arena_alloc(g->arena, (n->n_attribute + 1) * sizeof *list);
  if (!a || !list) return NULL;
  onnx__attribute_proto__init(a);
  a->name = arena_strdup(g->arena, name);
  a->has_type = 1;
  a->type = t;
  if (n->n_attribute) memcpy(list, n->attribute, n->n_attribute * sizeof *list);
  list[n->n_attribute++] = a;
  n->attribute = list;
  return a;
}

void node_attr_int(onnx_graph_builder *g, Onnx__NodeProto *n, const char *name, int64_t v) {
  Onnx__AttributeProto *a = add_attr(g, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
  if (!a) return;
  a->has_i = 1;
  a->i = v;
}

void node_attr_float(onnx_graph_builder *g, Onnx__NodeProto *n, const char *name, float v) {
  Onnx__AttributeProto *a = add_attr(g, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
  if (!a) return;
  a->has_f = 1;
  a->f = v;
}

void node_attr_ints(onnx_graph_builder *g, Onnx__NodeProto *n, const char *name,
                    const int64_t *v, size_t count) {
  Onnx__AttributeProto *a = add_attr(g, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
  if (!a) return;
  a->ints = arena_alloc(g->arena, count * sizeof *a->ints);
  if (!a->ints) return;
  memcpy(a->ints, v, count * sizeof *v);
  a->n_ints = count;
}

static void add_init(onnx_graph_builder *g, const char *name, const int64_t *dims, int ndim,
                     int32_t type, const void *data, size_t bytes) {
  Onnx__TensorProto *t = arena_alloc(g->arena, sizeof *t);
  if (!t) return;
  onnx__tensor_proto__init(t);
  t->name = arena_strdup(g->arena, name);
  t->has_data_type = 1;
  t->data_type = type;
  t->n_dims = (size_t)ndim;
  t->dims = arena_alloc(g->arena, (ndim ? (size_t)ndim : 1) * sizeof *t->dims);
  t->raw_data.data = arena_alloc(g->arena, bytes);
  if (!t->dims || !t->raw_data.data) return;
  if (ndim) memcpy(t->dims, dims, (size_t)ndim * sizeof *dims);
  memcpy(t->raw_data.data, data, bytes);
  t->raw_data.len = bytes;
  t->has_raw_data = 1;
  push(g->arena, (void ***)&g->inits, &g->n_inits, &g->cap_inits, t);
}

static size_t dims_count(const int64_t *dims, int ndim) {
  size_t n = 1;
  for (int d = 0; d < ndim; d++) n *= (size_t)dims[d];
  return n;
}

void builder_float_init(onnx_graph_builder *g, const char *name, const int64_t *dims, int ndim,
                        const float *data) {
  add_init(g, name, dims, ndim, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, data,
           dims_count(dims, ndim) * sizeof(float));
}

void builder_int64_init(onnx_graph_builder *g, const char *name, const int64_t *dims, int ndim,
                        const int64_t *data) {
  add_init(g, name, dims, ndim, ONNX__TENSOR_PROTO__DATA_TYPE__INT64, data,
           dims_count(dims, ndim) * sizeof(int64_t));
}

Onnx__ValueInfoProto *builder_value_info(onnx_graph_builder *g, const char *name,
                                         const int64_t *dims, int ndim, const char *symbol) {
  onnx_arena *a = g->arena;
  Onnx__ValueInfoProto *v = arena_alloc(a, sizeof *v);
  Onnx__TypeProto *type = arena_alloc(a, sizeof *type);
  Onnx__TypeProto__Tensor *tt = arena_alloc(a, sizeof *tt);
  Onnx__TensorShapeProto *shape = arena_alloc(a, sizeof *shape);
  Onnx__TensorShapeProto__Dimension **dl = arena_alloc(a, (size_t)ndim * sizeof *dl);
  if (!v || !type || !tt || !shape || !dl) return NULL;
  onnx__value_info_proto__init(v);
  onnx__type_proto__init(type);
  onnx__type_proto__tensor__init(tt);
  onnx__tensor_shape_proto__init(shape);
  for (int d = 0; d < ndim; d++) {
    dl[d] = arena_alloc(a, sizeof **dl);
    if (!dl[d]) return NULL;
    onnx__tensor_shape_proto__dimension__init(dl[d]);
    if (dims[d] >= 0) {
      dl[d]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
      dl[d]->dim_value = dims[d];
    } else {
      dl[d]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
      dl[d]->dim_param = arena_strdup(a, symbol);
    }
  }
  shape->n_dim = (size_t)ndim;
  shape->dim = dl;
  tt->has_elem_type = 1;
  tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  tt->shape = shape;
  type->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  type->tensor_type = tt;
  v->name = arena_strdup(a, name);
  v->type = type;
  return v;
}
