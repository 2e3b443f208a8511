/* onnx_export: an nn_model as one ONNX graph (opset 13, or 14 for HardSwish).
 *
 * The graph is what `emocam predict` computes for an input of the model's
 * size: the layers in order (dropout left out: it is the identity at
 * inference), the logits divided by the temperature, softmax; with flip
 * averaging, the same layers again on the input mirrored left-right (Gather
 * along the width, sharing the first pass's initializers) and the mean of the
 * two probability vectors. Batch norms stay BatchNormalization nodes with the
 * running statistics, so an import gives the trainable model back. The
 * parameters are stored under their nn names ("3.conv.weight"). */
#include "nn_onnx.h"
#include "onnx_build.h"
#include "onnx_names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT_OPSET 13
#define EXPORT_IR_VERSION 7

typedef struct {
  onnx_graph_builder *g;
  const nn_net *net;
  char *err;
  size_t errlen;
  int opset;     /* EXPORT_OPSET, or higher when an operator needs it */
  int have_clip; /* relu6's bounds are in the graph */
} exporter;

static const float *tensor_data(const nn_net *net, int layer, const char *what) {
  char name[64];
  snprintf(name, sizeof name, "%d.%s", layer, what);
  for (int i = 0; i < nn_net_num_tensors(net); i++) {
    nn_tensor t = nn_net_tensor(net, i);
    if (!strcmp(t.name, name)) return t.data;
  }
  return NULL;
}

/* An initializer from the net's tensor "<layer>.<what>" with the given dims;
 * returns its name. */
static char *param(exporter *e, int layer, const char *what, const int64_t *dims, int ndim) {
  char *name = arena_printf(e->g->arena, "%d.%s", layer, what);
  const float *data = tensor_data(e->net, layer, what);
  if (!name || !data) return NULL;
  builder_float_init(e->g, name, dims, ndim, data);
  return name;
}

/* One layer's output in the graph being built: its value name and whether
 * it is [N, C, H, W] (else [N, features], after a dense layer). */
typedef struct {
  const char *name;
  int rank4;
} value;

/* v as [N, C, H, W] (a Reshape of a dense layer's [N, F] to [N, F, 1, 1]). */
static value as_map(exporter *e, value v, int c, int h, int w, int first) {
  if (v.rank4) return v;
  onnx_graph_builder *g = e->g;
  int64_t shape[4] = {0, c, h, w}; /* 0: keep N */
  char *sname = arena_printf(g->arena, "shape_%dx%dx%d", c, h, w);
  if (first && sname) {
    int seen = 0; /* one initializer per shape */
    for (size_t i = 0; i < g->n_inits; i++) seen |= !strcmp(g->inits[i]->name, sname);
    if (!seen) builder_int64_init(g, sname, (int64_t[]){4}, 1, shape);
  }
  char *y = builder_name(g, "reshape");
  builder_node(g, "Reshape", (const char *[]){v.name, sname, NULL}, (const char *[]){y, NULL});
  return (value){y, 1};
}

/* A constant scalar initializer (added once, on the first pass). */
static const char *scalar(exporter *e, const char *name, float v, int first) {
  if (first) builder_float_init(e->g, name, NULL, 0, &v);
  return name;
}

/* The nodes of one pass of the net over the value `x`; returns the name of
 * its logits ([N, classes]). Each layer reads its source's value (the line
 * before, or the one `from` names); merges read two. Initializers are added
 * only on the first pass (`first`); the mirrored pass refers to the same
 * names. */
static char *emit_layers(exporter *e, const char *x, int first) {
  onnx_graph_builder *g = e->g;
  int nl = nn_net_num_layers(e->net);
  value *vals = arena_alloc(g->arena, (size_t)nl * sizeof *vals);
  if (!vals) return NULL;
  value input = {x, 1}, cur = input;
  for (int i = 0; i < nl; i++) {
    nn_layer_info l;
    nn_net_layer(e->net, i, &l);
    const char *kind = l.kind;
    value in = l.src < 0 ? input : vals[l.src];
    if (!strcmp(kind, "softmax")) break;
    if (!strcmp(kind, "dropout")) { /* the identity at inference */
      vals[i] = cur = in;
      continue;
    }
    int elementwise = !strcmp(kind, "relu") || !strcmp(kind, "bn") || !strcmp(kind, "sigmoid") ||
                      !strcmp(kind, "leaky") || !strcmp(kind, "relu6") ||
                      !strcmp(kind, "hswish") || !strcmp(kind, "silu");
    int merge = !strcmp(kind, "add") || !strcmp(kind, "mul") || !strcmp(kind, "concat");
    if (!elementwise && strcmp(kind, "dense")) in = as_map(e, in, l.c, l.h, l.w, first);
    char *y = builder_name(g, kind);
    if (!y) return NULL;
    int rank4 = in.rank4;
    if (!strcmp(kind, "conv") || !strcmp(kind, "dwconv")) {
      int dw = !strcmp(kind, "dwconv");
      int64_t wd[4] = {l.oc, dw ? 1 : l.c / l.groups, l.k, l.k}, bd[1] = {l.oc};
      const char *w = first ? param(e, i, dw ? "dwconv.weight" : "conv.weight", wd, 4)
                            : arena_printf(g->arena, "%d.%s.weight", i, kind);
      const char *b = first ? param(e, i, dw ? "dwconv.bias" : "conv.bias", bd, 1)
                            : arena_printf(g->arena, "%d.%s.bias", i, kind);
      if (!w || !b) return NULL;
      Onnx__NodeProto *n =
          builder_node(g, "Conv", (const char *[]){in.name, w, b, NULL}, (const char *[]){y, NULL});
      int64_t p = l.pad;
      node_attr_ints(g, n, "kernel_shape", (int64_t[]){l.k, l.k}, 2);
      node_attr_ints(g, n, "pads", (int64_t[]){p, p, p, p}, 4);
      node_attr_ints(g, n, "strides", (int64_t[]){l.stride, l.stride}, 2);
      node_attr_ints(g, n, "dilations", (int64_t[]){1, 1}, 2);
      node_attr_int(g, n, "group", dw ? l.c : l.groups);
    } else if (!strcmp(kind, "bn")) {
      static const char *what[4] = {"bn.gamma", "bn.beta", "bn.running_mean", "bn.running_var"};
      const char *ins[6] = {in.name};
      int64_t d[1] = {l.c};
      for (int k = 0; k < 4; k++) {
        ins[k + 1] = first ? param(e, i, what[k], d, 1) : arena_printf(g->arena, "%d.%s", i, what[k]);
        if (!ins[k + 1]) return NULL;
      }
      Onnx__NodeProto *n = builder_node(g, "BatchNormalization", ins, (const char *[]){y, NULL});
      node_attr_float(g, n, "epsilon", ONNX_BN_EPSILON);
    } else if (!strcmp(kind, "relu") || !strcmp(kind, "sigmoid")) {
      builder_node(g, kind[0] == 'r' ? "Relu" : "Sigmoid", (const char *[]){in.name, NULL},
                   (const char *[]){y, NULL});
    } else if (!strcmp(kind, "leaky")) {
      Onnx__NodeProto *n =
          builder_node(g, "LeakyRelu", (const char *[]){in.name, NULL}, (const char *[]){y, NULL});
      node_attr_float(g, n, "alpha", l.p);
    } else if (!strcmp(kind, "relu6")) {
      const char *lo = scalar(e, "clip_min", 0.0f, first && !e->have_clip);
      const char *hi = scalar(e, "clip_max", 6.0f, first && !e->have_clip);
      e->have_clip = 1;
      builder_node(g, "Clip", (const char *[]){in.name, lo, hi, NULL}, (const char *[]){y, NULL});
    } else if (!strcmp(kind, "hswish")) {
      builder_node(g, "HardSwish", (const char *[]){in.name, NULL}, (const char *[]){y, NULL});
      e->opset = 14; /* HardSwish is an opset-14 operator */
    } else if (!strcmp(kind, "silu")) { /* x * sigmoid(x) */
      char *s2 = builder_name(g, "sigmoid");
      builder_node(g, "Sigmoid", (const char *[]){in.name, NULL}, (const char *[]){s2, NULL});
      builder_node(g, "Mul", (const char *[]){in.name, s2, NULL}, (const char *[]){y, NULL});
    } else if (merge) {
      value other = l.src2 < 0 ? input : vals[l.src2];
      /* both as maps unless both are [N, F] (a dense layer's) */
      if (in.rank4 || other.rank4) {
        in = as_map(e, in, l.c, l.h, l.w, first);
        nn_layer_info o;
        if (l.src2 >= 0) nn_net_layer(e->net, l.src2, &o);
        other = as_map(e, other, l.src2 >= 0 ? o.oc : nn_net_input_c(e->net),
                       l.src2 >= 0 ? o.oh : nn_net_input_h(e->net),
                       l.src2 >= 0 ? o.ow : nn_net_input_w(e->net), first);
        rank4 = 1;
      }
      const char *op = !strcmp(kind, "add") ? "Add" : !strcmp(kind, "mul") ? "Mul" : "Concat";
      Onnx__NodeProto *n =
          builder_node(g, op, (const char *[]){in.name, other.name, NULL}, (const char *[]){y, NULL});
      if (op[0] == 'C') node_attr_int(g, n, "axis", 1);
    } else if (!strcmp(kind, "maxpool") || !strcmp(kind, "avgpool")) {
      Onnx__NodeProto *n = builder_node(g, kind[0] == 'm' ? "MaxPool" : "AveragePool",
                                        (const char *[]){in.name, NULL}, (const char *[]){y, NULL});
      int64_t p = l.pad;
      node_attr_ints(g, n, "kernel_shape", (int64_t[]){l.k, l.k}, 2);
      node_attr_ints(g, n, "strides", (int64_t[]){l.stride, l.stride}, 2);
      if (p) node_attr_ints(g, n, "pads", (int64_t[]){p, p, p, p}, 4);
    } else if (!strcmp(kind, "gap")) {
      builder_node(g, "GlobalAveragePool", (const char *[]){in.name, NULL}, (const char *[]){y, NULL});
    } else if (!strcmp(kind, "dense")) {
      if (in.rank4) {
        char *f = builder_name(g, "flatten");
        Onnx__NodeProto *n =
            builder_node(g, "Flatten", (const char *[]){in.name, NULL}, (const char *[]){f, NULL});
        node_attr_int(g, n, "axis", 1);
        in = (value){f, 0};
      }
      int64_t wd[2] = {l.oc, (int64_t)l.c * l.h * l.w}, bd[1] = {l.oc};
      const char *w = first ? param(e, i, "dense.weight", wd, 2)
                            : arena_printf(g->arena, "%d.dense.weight", i);
      const char *b = first ? param(e, i, "dense.bias", bd, 1)
                            : arena_printf(g->arena, "%d.dense.bias", i);
      if (!w || !b) return NULL;
      Onnx__NodeProto *n =
          builder_node(g, "Gemm", (const char *[]){in.name, w, b, NULL}, (const char *[]){y, NULL});
      node_attr_int(g, n, "transB", 1);
      rank4 = 0;
    } else {
      snprintf(e->err, e->errlen, "layer %d: kind '%s' has no ONNX form", i, kind);
      return NULL;
    }
    vals[i] = cur = (value){y, rank4};
  }
  if (cur.rank4) { /* logits straight from a map of classes x 1 x 1 */
    char *f = builder_name(g, "flatten");
    Onnx__NodeProto *n =
        builder_node(g, "Flatten", (const char *[]){cur.name, NULL}, (const char *[]){f, NULL});
    node_attr_int(g, n, "axis", 1);
    return f;
  }
  return (char *)cur.name;
}

/* logits / temperature, softmax over the classes; returns the probabilities. */
static char *emit_softmax(exporter *e, const char *logits, int first) {
  onnx_graph_builder *g = e->g;
  float t = nn_net_temperature(e->net);
  const char *cur = logits;
  if (t != 1.0f) {
    if (first) builder_float_init(e->g, ONNX_TEMPERATURE_NAME, NULL, 0, &t);
    char *y = builder_name(g, "scaled");
    builder_node(g, "Div", (const char *[]){cur, ONNX_TEMPERATURE_NAME, NULL},
                 (const char *[]){y, NULL});
    cur = y;
  }
  char *p = builder_name(g, "probs");
  Onnx__NodeProto *n =
      builder_node(g, "Softmax", (const char *[]){cur, NULL}, (const char *[]){p, NULL});
  node_attr_int(g, n, "axis", 1);
  return p;
}

static Onnx__StringStringEntryProto *entry(onnx_arena *a, const char *k, const char *v) {
  Onnx__StringStringEntryProto *p = arena_alloc(a, sizeof *p);
  if (!p) return NULL;
  onnx__string_string_entry_proto__init(p);
  p->key = arena_strdup(a, k);
  p->value = arena_strdup(a, v ? v : "");
  return p;
}

int nn_onnx_export_buffer(const nn_model *model, const char *version, unsigned char **out,
                          size_t *size, char *err, size_t errlen) {
  *out = NULL;
  *size = 0;
  const nn_net *net = model->net;
  if (!net || model->num_classes != nn_net_num_classes(net)) {
    snprintf(err, errlen, "no model to export (no net, or class names that do not match it)");
    return -1;
  }
  onnx_arena arena = {0};
  onnx_graph_builder g = {.arena = &arena};
  exporter e = {.g = &g, .net = net, .err = err, .errlen = errlen, .opset = EXPORT_OPSET};
  err[0] = '\0';
  int C = nn_net_input_c(net), H = nn_net_input_h(net), W = nn_net_input_w(net);

  char *logits = emit_layers(&e, ONNX_INPUT_NAME, 1);
  char *probs = logits ? emit_softmax(&e, logits, 1) : NULL;
  if (probs && model->flip_tta) {
    /* the mirrored pass: indices W-1 .. 0 along the width */
    int64_t *rev = arena_alloc(&arena, (size_t)W * sizeof *rev);
    if (rev) {
      for (int i = 0; i < W; i++) rev[i] = W - 1 - i;
      builder_int64_init(&g, ONNX_MIRROR_NAME, (int64_t[]){W}, 1, rev);
    }
    char *mirrored = builder_name(&g, "mirrored");
    Onnx__NodeProto *n = builder_node(&g, "Gather", (const char *[]){ONNX_INPUT_NAME, ONNX_MIRROR_NAME, NULL},
                                      (const char *[]){mirrored, NULL});
    node_attr_int(&g, n, "axis", 3);
    char *logits2 = mirrored ? emit_layers(&e, mirrored, 0) : NULL;
    char *probs2 = logits2 ? emit_softmax(&e, logits2, 0) : NULL;
    float half = 0.5f;
    builder_float_init(&g, ONNX_HALF_NAME, NULL, 0, &half);
    char *sum = builder_name(&g, "sum");
    builder_node(&g, "Add", (const char *[]){probs, probs2, NULL}, (const char *[]){sum, NULL});
    probs = probs2 ? sum : NULL;
    builder_node(&g, "Mul", (const char *[]){sum, ONNX_HALF_NAME, NULL},
                 (const char *[]){ONNX_OUTPUT_NAME, NULL});
  } else if (probs) {
    builder_node(&g, "Identity", (const char *[]){probs, NULL}, (const char *[]){ONNX_OUTPUT_NAME, NULL});
  }
  if (!probs) {
    if (!err[0]) snprintf(err, errlen, "out of memory building the graph");
    arena_free(&arena);
    return -1;
  }

  Onnx__GraphProto *graph = arena_alloc(&arena, sizeof *graph);
  Onnx__ModelProto *m = arena_alloc(&arena, sizeof *m);
  Onnx__OperatorSetIdProto *opset = arena_alloc(&arena, sizeof *opset);
  Onnx__OperatorSetIdProto **opsets = arena_alloc(&arena, sizeof *opsets);
  Onnx__ValueInfoProto **ins = arena_alloc(&arena, sizeof *ins);
  Onnx__ValueInfoProto **outs = arena_alloc(&arena, sizeof *outs);
  Onnx__StringStringEntryProto **meta = arena_alloc(&arena, 8 * sizeof *meta);
  if (!graph || !m || !opset || !opsets || !ins || !outs || !meta) goto oom;
  onnx__graph_proto__init(graph);
  onnx__model_proto__init(m);
  onnx__operator_set_id_proto__init(opset);
  ins[0] = builder_value_info(&g, ONNX_INPUT_NAME, (int64_t[]){-1, C, H, W}, 4, "N");
  outs[0] = builder_value_info(&g, ONNX_OUTPUT_NAME, (int64_t[]){-1, model->num_classes}, 2, "N");
  graph->name = arena_strdup(&arena, "emocam");
  graph->node = g.nodes;
  graph->n_node = g.n_nodes;
  graph->initializer = g.inits;
  graph->n_initializer = g.n_inits;
  graph->input = ins;
  graph->n_input = 1;
  graph->output = outs;
  graph->n_output = 1;

  /* metadata: classes, the pixel convention, where it came from */
  size_t cl = 1;
  for (int i = 0; i < model->num_classes; i++) cl += strlen(model->class_names[i]) + 1;
  char *classes = arena_alloc(&arena, cl);
  if (!classes) goto oom;
  for (int i = 0; i < model->num_classes; i++) {
    if (i) strcat(classes, ",");
    strcat(classes, model->class_names[i]);
  }
  float scale, mean;
  nn_onnx_pixel_map(model->preprocess, &scale, &mean);
  int nm = 0;
  meta[nm++] = entry(&arena, "classes", classes);
  meta[nm++] = entry(&arena, "pixel_scale", arena_printf(&arena, "%.9g", scale));
  meta[nm++] = entry(&arena, "pixel_mean", arena_printf(&arena, "%.9g", mean));
  meta[nm++] = entry(&arena, "emocam_version", version);
  meta[nm++] = entry(&arena, "emocam_preprocess", model->preprocess);
  meta[nm++] = entry(&arena, "emocam_arch", nn_net_arch_text(net));
  meta[nm++] = entry(&arena, "emocam_flip_tta", model->flip_tta ? "1" : "0");
  m->has_ir_version = 1;
  m->ir_version = EXPORT_IR_VERSION;
  opset->domain = arena_strdup(&arena, "");
  opset->has_version = 1;
  opset->version = e.opset;
  opsets[0] = opset;
  m->opset_import = opsets;
  m->n_opset_import = 1;
  m->producer_name = arena_strdup(&arena, "emocam");
  m->producer_version = arena_strdup(&arena, version ? version : "");
  m->graph = graph;
  m->metadata_props = meta;
  m->n_metadata_props = (size_t)nm;
  if (arena.failed) goto oom;

  *size = onnx__model_proto__get_packed_size(m);
  *out = malloc(*size ? *size : 1);
  if (!*out) goto oom;
  onnx__model_proto__pack(m, *out);
  arena_free(&arena);
  return 0;
oom:
  arena_free(&arena);
  snprintf(err, errlen, "out of memory building the ONNX graph");
  return -1;
}

int nn_onnx_export_file(const char *path, const nn_model *model, const char *version, char *err,
                        size_t errlen) {
  unsigned char *buf;
  size_t size;
  char why[NN_ERR_LEN];
  if (nn_onnx_export_buffer(model, version, &buf, &size, why, sizeof why) != 0) {
    snprintf(err, errlen, "%s: cannot export: %s", path, why);
    return -1;
  }
  int rc = nn_write_file_atomic(path, buf, size, err, errlen);
  free(buf);
  return rc;
}
