/* onnx_import: an ONNX graph into an nn_model.
 *
 * The graph's nodes are read in their (topological) order from its one
 * input: each node reads values made by earlier nodes plus constants
 * (initializers or Constant nodes, folded here) and maps onto nn layers
 * (onnx_ops.c): a layer reads the layer that made its value (`from` in the
 * architecture text when that is not the line before; Add, Mul and Concat
 * of two values are merge layers). A Softmax ends the network; a Div or Mul
 * by a scalar before it is the temperature. The mirrored second pass of
 * emocam's own exports (a Gather of the input along the width, then the
 * same nodes on the same initializers, then the mean of the two softmaxes)
 * is recognised node by node and becomes flip averaging, so an export
 * imports as the model it was. Anything else is an error naming the node
 * and its operator. The architecture text is written from the layers, the
 * net built by nn, and the tensors copied in by name. */
#include "nn_onnx.h"
#include "onnx_graph.h"
#include "onnx_ops.h"
#include "onnx_names.h"
#include "onnx_tensor.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MIN_OPSET 7 /* the mapped operators mean the same from 7 on (BatchNormalization's spatial checked) */
#define MAX_OPSET 17
#define MAX_NODES 8192
#define ARCH_TEXT_MAX (IMPORT_MAX_LAYERS * 56 + 64)

const char *nn_onnx_operators(void) { return import_supported; }

static void layers_free(importer *im) {
  for (int i = 0; i < im->n; i++)
    for (int k = 0; k < 4; k++) free(im->L[i].t[k]);
  im->n = 0;
}

/* ---- the graph -------------------------------------------------------------- */

static int collect_constants(importer *im) {
  const Onnx__GraphProto *g = im->g;
  size_t cap = g->n_initializer + g->n_node;
  im->cname = malloc((cap ? cap : 1) * sizeof *im->cname);
  im->ctensor = malloc((cap ? cap : 1) * sizeof *im->ctensor);
  if (!im->cname || !im->ctensor) return import_fail(im, "out of memory");
  for (size_t i = 0; i < g->n_initializer; i++) {
    if (!g->initializer[i]->name) return import_fail(im, "initializer %zu has no name", i);
    im->cname[im->nconst] = g->initializer[i]->name;
    im->ctensor[im->nconst++] = g->initializer[i];
  }
  for (size_t i = 0; i < g->n_node; i++) {
    const Onnx__NodeProto *n = g->node[i];
    if (!is_op(n, "Constant")) continue;
    const Onnx__AttributeProto *a = node_attr(n, "value");
    if (!a || !a->t || n->n_output != 1 || !n->output[0])
      return NODE_FAIL(im, n, "%s", "only a Constant with a tensor 'value' is supported");
    im->cname[im->nconst] = n->output[0];
    im->ctensor[im->nconst++] = a->t;
  }
  return 0;
}

static int read_input(importer *im) {
  const Onnx__GraphProto *g = im->g;
  const Onnx__ValueInfoProto *in = NULL;
  for (size_t i = 0; i < g->n_input; i++) {
    if (!g->input[i]->name || import_constant(im, g->input[i]->name)) continue;
    if (in)
      return import_fail(im, "the graph has more than one input ('%s' and '%s'); nn takes one "
                             "image batch", in->name, g->input[i]->name);
    in = g->input[i];
  }
  if (!in) return import_fail(im, "the graph has no input");
  const Onnx__TypeProto *t = in->type;
  if (!t || t->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !t->tensor_type ||
      t->tensor_type->elem_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT || !t->tensor_type->shape)
    return import_fail(im, "input '%s' is not a float tensor of known shape", in->name);
  const Onnx__TensorShapeProto *s = t->tensor_type->shape;
  int64_t d[4] = {0};
  for (size_t i = 1; i < s->n_dim && i < 4; i++)
    d[i] = s->dim[i]->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE
               ? s->dim[i]->dim_value : -1;
  if (s->n_dim != 4 || (d[1] != 1 && d[1] != 3) || d[2] < 1 || d[2] > 4096 || d[3] < 1 || d[3] > 4096)
    return import_fail(im, "input '%s' must be N x C x H x W with C 1 or 3 and H, W 1..4096 fixed",
                       in->name);
  im->in_c = (int)d[1];
  im->in_h = (int)d[2];
  im->in_w = (int)d[3];
  im->input = in->name;
  return import_add_value(im, (ivalue){in->name, -1, im->in_c, im->in_h, im->in_w, 0, 0});
}

/* n is a Gather of the input along the width in reverse: emocam's mirror. */
static int is_mirror(importer *im, const Onnx__NodeProto *n) {
  if (!is_op(n, "Gather") || n->n_input != 2 || !n->input[0] || strcmp(n->input[0], im->input) ||
      n->n_output != 1 || !n->output[0])
    return 0;
  char why[256] = "";
  int64_t axis;
  long cnt = 0;
  if (attr_int(n, "axis", 0, &axis, why, sizeof why)) return 0;
  const Onnx__TensorProto *it = import_constant(im, n->input[1]);
  int64_t *idx = it ? tensor_int64s(it, &cnt, why, sizeof why) : NULL;
  int mirror = idx && axis == 3 && cnt == im->in_w;
  for (long i = 0; mirror && i < cnt; i++) mirror = idx[i] == im->in_w - 1 - i;
  free(idx);
  return mirror;
}

/* Two attributes hold the same value (compared as packed bytes). */
static int same_attr(const Onnx__AttributeProto *a, const Onnx__AttributeProto *b) {
  size_t na = onnx__attribute_proto__get_packed_size(a), nb = onnx__attribute_proto__get_packed_size(b);
  if (na != nb) return 0;
  uint8_t *pa = malloc(na ? na : 1), *pb = malloc(nb ? nb : 1);
  int same = pa && pb;
  if (same) {
    onnx__attribute_proto__pack(a, pa);
    onnx__attribute_proto__pack(b, pb);
    same = !memcmp(pa, pb, na);
  }
  free(pa);
  free(pb);
  return same;
}

/* pairs of value names (first pass -> mirrored pass) */
typedef struct {
  const char **from, **to;
  size_t n;
} name_map;

static const char *mapped_name(const name_map *m, const char *name) {
  for (size_t i = m->n; i-- > 0;)
    if (!strcmp(m->from[i], name)) return m->to[i];
  return NULL;
}

/* From the Gather at node index `at`: the first pass's nodes again, one by
 * one, on the mirrored input and the same constants, then the mean of the
 * two probabilities. *end: the output of that mean. */
static int read_mirror(importer *im, const size_t *pass1, size_t n1, size_t at, const char *p1,
                       const char **end) {
  const Onnx__GraphProto *g = im->g;
  const Onnx__NodeProto *gather = g->node[at++];
  name_map map = {malloc((n1 + 1) * sizeof(char *)), malloc((n1 + 1) * sizeof(char *)), 0};
  int rc = -1;
  if (!map.from || !map.to) {
    import_fail(im, "out of memory");
    goto done;
  }
  map.from[map.n] = im->input;
  map.to[map.n++] = gather->output[0];
  for (size_t k = 0; k < n1; k++) {
    while (at < g->n_node && is_op(g->node[at], "Constant")) at++;
    const Onnx__NodeProto *a = g->node[pass1[k]], *b = at < g->n_node ? g->node[at++] : NULL;
    int same = b && b->op_type && !strcmp(a->op_type, b->op_type) && a->n_input == b->n_input &&
               a->n_output == b->n_output && a->n_attribute == b->n_attribute && b->n_output >= 1;
    for (size_t i = 0; same && i < a->n_input; i++) {
      const char *x = a->input[i] ? a->input[i] : "", *y = b->input[i] ? b->input[i] : "";
      const char *want = import_constant(im, x) ? x : mapped_name(&map, x);
      same = want && !strcmp(want, y);
    }
    for (size_t i = 0; same && i < a->n_attribute; i++) same = same_attr(a->attribute[i], b->attribute[i]);
    if (!same) {
      import_fail(im, "after the mirror (node '%s'), node %zu is not the first pass's node '%s' "
                      "again (only emocam's flip averaging is supported)",
                  node_label(gather), at, node_label(a));
      goto done;
    }
    map.from[map.n] = a->output[0];
    map.to[map.n++] = b->output[0];
  }
  const char *p2 = mapped_name(&map, p1);
  while (at < g->n_node && is_op(g->node[at], "Constant")) at++;
  const Onnx__NodeProto *add = at < g->n_node ? g->node[at++] : NULL;
  while (at < g->n_node && is_op(g->node[at], "Constant")) at++;
  const Onnx__NodeProto *mul = at < g->n_node ? g->node[at++] : NULL;
  int ok = p2 && add && mul && is_op(add, "Add") && add->n_input == 2 && add->n_output == 1 &&
           add->input[0] && add->input[1] && add->output[0] &&
           ((!strcmp(add->input[0], p1) && !strcmp(add->input[1], p2)) ||
            (!strcmp(add->input[0], p2) && !strcmp(add->input[1], p1))) &&
           is_op(mul, "Mul") && mul->n_output == 1 && mul->n_input == 2 && mul->input[0] &&
           mul->input[1] && mul->output[0];
  if (ok) {
    const char *half = !strcmp(mul->input[0], add->output[0]) ? mul->input[1]
                       : !strcmp(mul->input[1], add->output[0]) ? mul->input[0] : NULL;
    const Onnx__TensorProto *t = import_constant(im, half);
    char why[256];
    long cnt = 0;
    float *v = t ? tensor_floats(t, &cnt, why, sizeof why) : NULL;
    ok = v && cnt == 1 && v[0] == 0.5f;
    free(v);
  }
  if (!ok) {
    import_fail(im, "the two passes are not averaged (Add of both softmaxes, then Mul by 0.5)");
    goto done;
  }
  *end = mul->output[0];
  /* an Identity naming the output may close the graph */
  while (at < g->n_node) {
    const Onnx__NodeProto *n = g->node[at++];
    if (is_op(n, "Constant")) continue;
    if (is_op(n, "Identity") && n->n_input == 1 && n->input[0] && !strcmp(n->input[0], *end) &&
        n->n_output == 1 && n->output[0]) {
      *end = n->output[0];
      continue;
    }
    NODE_FAIL(im, n, "%s", "nothing may follow emocam's flip averaging");
    goto done;
  }
  rc = 0;
done:
  free(map.from);
  free(map.to);
  return rc;
}

/* All nodes, in order: the network, then possibly the mirrored pass.
 * *end: the value the graph computes last; *flip: the mirror was there. */
static int read_graph(importer *im, const char **end, int *flip) {
  const Onnx__GraphProto *g = im->g;
  *flip = 0;
  if (g->n_node > MAX_NODES) return import_fail(im, "%zu nodes, more than %d", g->n_node, MAX_NODES);
  size_t *pass1 = malloc((g->n_node ? g->n_node : 1) * sizeof *pass1), n1 = 0;
  if (!pass1) return import_fail(im, "out of memory");
  int rc = 0;
  const char *last = im->input;
  for (size_t i = 0; i < g->n_node && rc == 0; i++) {
    const Onnx__NodeProto *n = g->node[i];
    if (is_op(n, "Constant")) continue;
    if (im->softmax && is_mirror(im, n)) {
      rc = read_mirror(im, pass1, n1, i, last, &last);
      *flip = rc == 0;
      break;
    }
    rc = import_node(im, n);
    if (rc == 0) {
      pass1[n1++] = i;
      last = n->output[0];
    }
  }
  free(pass1);
  *end = last;
  return rc;
}

/* "a,b,c" into n owned strings; -1 when the count is not n or a name is empty. */
static int split_classes(const char *s, int n, char ***out) {
  char **names = calloc((size_t)n, sizeof *names);
  if (!names) return -1;
  int k = 0;
  const char *p = s;
  while (k < n) {
    size_t len = strcspn(p, ",");
    if (len == 0 || len > 64 || !(names[k] = strndup(p, len))) break;
    k++;
    p += len;
    if (*p != ',') break;
    p++;
  }
  int ok = k == n && *p == '\0' && (k == 0 || p[-1] != ',');
  if (!ok) {
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
    return -1;
  }
  *out = names;
  return 0;
}

static const char *metadata(const Onnx__ModelProto *m, const char *key) {
  for (size_t i = 0; i < m->n_metadata_props; i++) {
    const Onnx__StringStringEntryProto *e = m->metadata_props[i];
    if (e->key && e->value && !strcmp(e->key, key)) return e->value;
  }
  return NULL;
}

static int parse_float(const char *s, float *out) {
  char *end;
  float v = s ? strtof(s, &end) : 0;
  if (!s || end == s || *end || !isfinite(v)) return -1;
  *out = v;
  return 0;
}

/* The preprocessing text: emocam's own from the metadata, or one for the
 * input's channels; the pixel convention appended when it is not emocam's. */
static char *preprocess_text(const Onnx__ModelProto *m, int channels, float scale, float mean) {
  char base[400];
  const char *own = metadata(m, "emocam_preprocess");
  if (own && strlen(own) < 300 && !strstr(own, "pixel_")) {
    snprintf(base, sizeof base, "%s", own);
  } else {
    snprintf(base, sizeof base, "colour=%s crop=center crop_scale=1 resize=area range=0,1",
             channels == 3 ? "rgb" : "grey");
  }
  char text[512];
  float dscale, dmean;
  nn_onnx_pixel_map(NULL, &dscale, &dmean);
  if (fabsf(scale - dscale) > 1e-9f * dscale || mean != dmean)
    snprintf(text, sizeof text, "%s pixel_mean=%.9g pixel_scale=%.9g", base, mean, scale);
  else
    snprintf(text, sizeof text, "%s", base);
  return strdup(text);
}

static int copy_tensor(nn_net *net, int layer, const char *what, const float *data, long count) {
  char name[64];
  snprintf(name, sizeof name, "%d.%s", layer, what);
  for (int i = 0; i < nn_net_num_tensors(net); i++) {
    nn_tensor t = nn_net_tensor(net, i);
    if (strcmp(t.name, name)) continue;
    if ((long)t.count != count) return -1;
    memcpy(t.data, data, sizeof(float) * (size_t)count);
    return 0;
  }
  return -1;
}

/* One architecture line per layer: `from NAME` where a layer does not read
 * the line before, merges naming their second input, `@tN` on the lines
 * read from elsewhere. */
static char *arch_text(const importer *im) {
  char *text = malloc(ARCH_TEXT_MAX);
  char *named = calloc((size_t)im->n + 1, 1);
  if (!text || !named) {
    free(text);
    free(named);
    return NULL;
  }
  for (int i = 0; i < im->n; i++) {
    const ilayer *l = &im->L[i];
    if (l->src >= 0 && l->src != i - 1) named[l->src] = 1;
    if (l->src2 >= 0) named[l->src2] = 1;
  }
  size_t at = (size_t)snprintf(text, ARCH_TEXT_MAX, "# imported from ONNX\ninput %d %d %d\n",
                               im->in_h, im->in_w, im->in_c);
  for (int i = 0; i < im->n && at < ARCH_TEXT_MAX; i++) {
    const ilayer *l = &im->L[i];
    char *o = text + at;
    size_t left = ARCH_TEXT_MAX - at;
    int k;
    int same = l->k % 2 == 1 && l->pad == l->k / 2;
    if (!strcmp(l->kind, "conv") && l->groups > 1)
      k = snprintf(o, left, "conv %d %d %d %d %d", l->out, l->k, l->s, l->pad, l->groups);
    else if (!strcmp(l->kind, "conv") && same) k = snprintf(o, left, "conv %d %d %d", l->out, l->k, l->s);
    else if (!strcmp(l->kind, "conv"))
      k = snprintf(o, left, "conv %d %d %d %d", l->out, l->k, l->s, l->pad);
    else if (!strcmp(l->kind, "dwconv")) k = snprintf(o, left, "dwconv %d %d", l->k, l->s);
    else if (!strcmp(l->kind, "maxpool") && l->k == l->s && l->pad == 0)
      k = snprintf(o, left, "maxpool %d", l->s);
    else if (!strcmp(l->kind, "maxpool") || !strcmp(l->kind, "avgpool"))
      k = snprintf(o, left, "%s %d %d %d", l->kind, l->k, l->s, l->pad);
    else if (!strcmp(l->kind, "dense")) k = snprintf(o, left, "dense %d", l->out);
    else if (!strcmp(l->kind, "leaky")) k = snprintf(o, left, "leaky %.9g", (double)l->p);
    else if (l->src2 == -1) k = snprintf(o, left, "%s input", l->kind);
    else if (l->src2 >= 0) k = snprintf(o, left, "%s t%d", l->kind, l->src2);
    else k = snprintf(o, left, "%s", l->kind);
    at += (size_t)k;
    if (l->src != i - 1 && at < ARCH_TEXT_MAX) {
      if (l->src < 0) at += (size_t)snprintf(text + at, ARCH_TEXT_MAX - at, " from input");
      else at += (size_t)snprintf(text + at, ARCH_TEXT_MAX - at, " from t%d", l->src);
    }
    if (named[i] && at < ARCH_TEXT_MAX) at += (size_t)snprintf(text + at, ARCH_TEXT_MAX - at, " @t%d", i);
    if (at < ARCH_TEXT_MAX) at += (size_t)snprintf(text + at, ARCH_TEXT_MAX - at, "\n");
  }
  if (at < ARCH_TEXT_MAX) snprintf(text + at, ARCH_TEXT_MAX - at, "softmax\n");
  free(named);
  return text;
}

static int build_model(importer *im, const Onnx__ModelProto *m, int flip,
                       const nn_onnx_import_opts *opts, nn_model *model, int max_batch) {
  if (im->n == 0) return import_fail(im, "the graph has no layers nn can run");
  const ilayer *last = &im->L[im->n - 1];
  int classes = last->oc * last->oh * last->ow;
  char *text = arch_text(im);
  if (!text) return import_fail(im, "out of memory");
  char why[NN_ERR_LEN];
  int rc = nn_net_create(&model->net, text, im->file, classes, max_batch, 1, why, sizeof why);
  free(text);
  if (rc != 0) return import_fail(im, "nn cannot run this graph: %s", why);
  for (int i = 0; i < im->n; i++) {
    const ilayer *l = &im->L[i];
    static const char *bn[4] = {"bn.gamma", "bn.beta", "bn.running_mean", "bn.running_var"};
    char w[32], b[32];
    snprintf(w, sizeof w, "%s.weight", l->kind);
    snprintf(b, sizeof b, "%s.bias", l->kind);
    int bad = 0;
    if (!strcmp(l->kind, "bn"))
      for (int k = 0; k < 4; k++) bad |= copy_tensor(model->net, i, bn[k], l->t[k], l->tn[k]);
    else if (l->t[0])
      bad = copy_tensor(model->net, i, w, l->t[0], l->tn[0]) |
            copy_tensor(model->net, i, b, l->t[1], l->tn[1]);
    if (bad)
      return import_fail(im, "layer %d (%s): its tensors do not match the network nn built", i, l->kind);
  }
  nn_net_set_temperature(model->net, im->temperature);
  model->num_classes = classes;
  model->flip_tta = flip;

  const char *names = opts && opts->classes ? opts->classes : metadata(m, "classes");
  if (!names)
    return import_fail(im, "the file names no classes (no 'classes' in its metadata_props): give "
                           "them in output order, e.g. --classes a,b,c (%d names)", classes);
  if (split_classes(names, classes, &model->class_names) != 0)
    return import_fail(im, "classes '%.200s': expected %d comma-separated names (1..64 "
                           "characters) for the %d outputs", names, classes, classes);

  float scale, mean;
  nn_onnx_pixel_map(NULL, &scale, &mean);
  const char *ms = metadata(m, "pixel_scale"), *mm = metadata(m, "pixel_mean");
  if (ms && parse_float(ms, &scale) != 0)
    return import_fail(im, "metadata pixel_scale '%.40s' is not a number", ms);
  if (mm && parse_float(mm, &mean) != 0)
    return import_fail(im, "metadata pixel_mean '%.40s' is not a number", mm);
  if (opts && opts->pixel_scale > 0) scale = opts->pixel_scale;
  if (opts && opts->have_pixel_mean) mean = opts->pixel_mean;
  if (!(scale > 0) || !isfinite(scale) || !isfinite(mean))
    return import_fail(im, "pixel scale %g and mean %g: the scale must be positive", (double)scale,
                       (double)mean);
  model->preprocess = preprocess_text(m, im->in_c, scale, mean);
  char state[300];
  snprintf(state, sizeof state, "made_by=ONNX import of %.60s (%.40s %.40s)\n", im->file,
           m->producer_name ? m->producer_name : "unknown producer",
           m->producer_version ? m->producer_version : "");
  model->train_state = strdup(state);
  if (!model->preprocess || !model->train_state) return import_fail(im, "out of memory");
  return 0;
}

int nn_onnx_import_buffer(const void *data, size_t size, const char *name,
                          const nn_onnx_import_opts *opts, nn_model *model, int max_batch,
                          char *err, size_t errlen) {
  memset(model, 0, sizeof *model);
  if (size > (size_t)NN_ONNX_MAX_FILE) {
    snprintf(err, errlen, "%s: %zu bytes, more than the %ld an ONNX model may have here",
             name ? name : "(memory)", size, NN_ONNX_MAX_FILE);
    return -1;
  }
  importer *im = calloc(1, sizeof *im);
  if (!im) {
    snprintf(err, errlen, "%s: out of memory", name ? name : "(memory)");
    return -1;
  }
  im->file = name ? name : "(memory)";
  im->err = err;
  im->errlen = errlen;
  im->temperature = 1.0f;
  int rc = -1;
  Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, size, data);
  if (!m) {
    import_fail(im, "not an ONNX model (the protobuf does not parse: truncated or another kind of file)");
    goto done;
  }
  if (!m->graph) {
    import_fail(im, "the model has no graph");
    goto done;
  }
  int64_t opset = -1;
  for (size_t i = 0; i < m->n_opset_import; i++) {
    const Onnx__OperatorSetIdProto *o = m->opset_import[i];
    if (!o->domain || !o->domain[0] || !strcmp(o->domain, "ai.onnx"))
      opset = o->has_version ? o->version : -1;
  }
  if (opset < MIN_OPSET || opset > MAX_OPSET) {
    import_fail(im, "opset %lld is not supported (%d to %d; re-export with opset_version in that "
                    "range)", (long long)opset, MIN_OPSET, MAX_OPSET);
    goto done;
  }
  im->g = m->graph;
  if (im->g->n_output != 1 || !im->g->output[0]->name) {
    import_fail(im, "the graph has %zu outputs, expected one (the class scores)", im->g->n_output);
    goto done;
  }
  const char *end = NULL;
  int flip = 0;
  if (collect_constants(im) || read_input(im) || read_graph(im, &end, &flip)) goto done;
  if (strcmp(end, im->g->output[0]->name)) {
    import_fail(im, "the graph's output '%s' is not what its last node makes ('%s')",
                im->g->output[0]->name, end);
    goto done;
  }
  const ivalue *out = import_value(im, end);
  if (!flip && out && out->layer != im->n - 1) {
    import_fail(im, "the graph's output is not the last layer's (nn's class scores come last)");
    goto done;
  }
  rc = build_model(im, m, flip, opts, model, max_batch);
done:
  layers_free(im);
  free(im->cname);
  free(im->ctensor);
  free(im->vals);
  free(im);
  if (m) onnx__model_proto__free_unpacked(m, NULL);
  if (rc != 0) nn_model_free(model);
  return rc;
}

int nn_onnx_import_file(const char *path, const nn_onnx_import_opts *opts, nn_model *model,
                        int max_batch, char *err, size_t errlen) {
  memset(model, 0, sizeof *model);
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    return -1;
  }
  unsigned char *buf = NULL;
  size_t size = 0, cap = 0;
  int rc = -1;
  for (;;) {
    if (size == cap) {
      if (cap >= (size_t)NN_ONNX_MAX_FILE) {
        snprintf(err, errlen, "%s: larger than %ld bytes, the most an ONNX model may have here",
                 path, NN_ONNX_MAX_FILE);
        goto done;
      }
      cap = cap ? cap * 2 : 1 << 16;
      unsigned char *b = realloc(buf, cap + 1);
      if (!b) {
        snprintf(err, errlen, "%s: out of memory reading it", path);
        goto done;
      }
      buf = b;
    }
    size_t got = fread(buf + size, 1, cap - size, f);
    size += got;
    if (got == 0) break;
  }
  if (ferror(f)) {
    snprintf(err, errlen, "%s: read error", path);
    goto done;
  }
  rc = nn_onnx_import_buffer(buf, size, path, opts, model, max_batch, err, errlen);
done:
  fclose(f);
  free(buf);
  return rc;
}
