/* onnx_import: an ONNX graph into an nn_model.
 *
 * The graph must be a chain from its one input to its one output: each node
 * takes the value the node before it made, plus constants (initializers or
 * Constant nodes, folded here). Each node maps onto an nn layer (Conv to
 * conv or dwconv, BatchNormalization to bn, Gemm or MatMul + Add to dense,
 * ...) or onto nothing (Flatten, Dropout, Identity); a Div or Mul by a
 * scalar before the final Softmax is the temperature. The mirrored second
 * pass of emocam's own exports (Gather of the input along the width, the
 * same layers on the same initializers, the mean of the two softmaxes) is
 * recognised and becomes flip averaging, so an export imports as the model
 * it was. Anything else is an error naming the node and its operator.
 * The architecture text is written from the layers, the net built with nn,
 * and the tensors copied in by name. */
#include "nn_onnx.h"
#include "onnx_names.h"
#include "onnx_tensor.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "onnx.pb-c.h"

#define MIN_OPSET 7 /* the mapped operators mean the same from 7 on (BatchNormalization's spatial checked) */
#define MAX_OPSET 17
#define MAX_LAYERS 512
#define ARCH_TEXT_MAX (MAX_LAYERS * 40 + 64)

static const char supported[] =
    "Conv (group 1 or depthwise, square odd kernel, padding K/2), BatchNormalization, Relu, "
    "MaxPool (kernel = stride, no padding), GlobalAveragePool, Flatten, Reshape to two "
    "dimensions, Gemm, MatMul (+ Add of a bias), Dropout, Identity, Constant, Softmax "
    "(last; a Div or Mul by a scalar before it is the temperature)";

const char *nn_onnx_operators(void) { return supported; }

/* One nn layer as read from the graph, with its tensors (owned). */
typedef struct {
  const char *kind; /* nn's word */
  int out, k, s;
  int c, h, w, oc, oh, ow;
  float *t[4];      /* conv/dwconv/dense: weight, bias; bn: gamma, beta, mean, var */
  long tn[4];
  char sig[160];    /* op and initializer names, to compare the mirrored pass */
} ilayer;

typedef struct {
  ilayer L[MAX_LAYERS];
  int n;
  float temperature;
  int softmax;      /* ended with a Softmax */
} chain;

typedef struct {
  const char *file;
  char *err;
  size_t errlen;
  const Onnx__GraphProto *g;
  /* constants: initializers, then Constant nodes' outputs */
  const char **cname;
  const Onnx__TensorProto **ctensor;
  size_t nconst;
  size_t next;      /* the next node to read */
  int in_c, in_h, in_w;
  const char *input;
} importer;

static int fail(importer *im, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(importer *im, const char *fmt, ...) {
  char msg[NN_ERR_LEN];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  snprintf(im->err, im->errlen, "%s: %s", im->file, msg);
  return -1;
}

static const char *node_label(const Onnx__NodeProto *n) {
  if (n->name && n->name[0]) return n->name;
  return n->n_output && n->output[0] ? n->output[0] : "(unnamed)";
}

/* fail() with "node 'NAME' (OP): " in front. */
#define NODE_FAIL(im, n, fmt, ...)                                                              \
  fail(im, "node '%s' (%s): " fmt, node_label(n), (n)->op_type ? (n)->op_type : "?", __VA_ARGS__)

static const Onnx__TensorProto *constant(const importer *im, const char *name) {
  if (!name) return NULL;
  for (size_t i = 0; i < im->nconst; i++)
    if (!strcmp(im->cname[i], name)) return im->ctensor[i];
  return NULL;
}

/* The floats of the constant `name`, which must hold `want` elements (-1:
 * any, count in *got); NULL after fail(). */
static float *const_floats(importer *im, const Onnx__NodeProto *n, const char *name, long want,
                           long *got, const char *role) {
  const Onnx__TensorProto *t = constant(im, name);
  if (!t) {
    NODE_FAIL(im, n, "its %s '%s' is not a constant (initializer or Constant): nn needs fixed "
                     "weights", role, name ? name : "");
    return NULL;
  }
  char why[256];
  long count = 0;
  float *v = tensor_floats(t, &count, why, sizeof why);
  if (!v) {
    NODE_FAIL(im, n, "its %s '%s' %s", role, name, why);
    return NULL;
  }
  if (want >= 0 && count != want) {
    NODE_FAIL(im, n, "its %s '%s' has %ld values, expected %ld", role, name, count, want);
    free(v);
    return NULL;
  }
  if (got) *got = count;
  return v;
}

static void layer_free(ilayer *l) {
  for (int k = 0; k < 4; k++) free(l->t[k]);
  memset(l, 0, sizeof *l);
}

static void chain_free(chain *c) {
  for (int i = 0; i < c->n; i++) layer_free(&c->L[i]);
  c->n = 0;
}

/* A new layer reading shape (c, h, w); NULL after fail() when the chain is full. */
static ilayer *push_layer(importer *im, chain *ch, const Onnx__NodeProto *n, const char *kind,
                          int c, int h, int w) {
  if (ch->n == MAX_LAYERS) {
    NODE_FAIL(im, n, "more than %d layers", MAX_LAYERS);
    return NULL;
  }
  ilayer *l = &ch->L[ch->n++];
  memset(l, 0, sizeof *l);
  l->kind = kind;
  l->c = l->oc = c;
  l->h = l->oh = h;
  l->w = l->ow = w;
  snprintf(l->sig, sizeof l->sig, "%s", n->op_type);
  for (size_t i = 1; i < n->n_input; i++) {
    size_t at = strlen(l->sig);
    snprintf(l->sig + at, sizeof l->sig - at, " %s", n->input[i] ? n->input[i] : "");
  }
  return l;
}

/* ---- one operator each ------------------------------------------------------ */

typedef struct {
  int c, h, w;  /* the current value: [N, c, h, w], or [N, c*h*w] when flat */
  int flat;
} value_shape;

static int read_conv(importer *im, chain *ch, const Onnx__NodeProto *n, value_shape *v) {
  char why[256] = "";
  if (n->n_input < 2) return NODE_FAIL(im, n, "%s", "needs a weight input");
  const Onnx__TensorProto *wt = constant(im, n->input[1]);
  if (!wt || wt->n_dims != 4)
    return NODE_FAIL(im, n, "weight '%s' must be a constant of 4 dimensions", n->input[1]);
  int64_t oc = wt->dims[0], per = wt->dims[1], kh = wt->dims[2], kw = wt->dims[3];
  int64_t group, dil_ok = 1;
  const int64_t *ks, *st, *pads, *dil;
  size_t nks, nst, npads, ndil;
  if (attr_int(n, "group", 1, &group, why, sizeof why) || attr_ints(n, "kernel_shape", &ks, &nks, why, sizeof why) ||
      attr_ints(n, "strides", &st, &nst, why, sizeof why) || attr_ints(n, "pads", &pads, &npads, why, sizeof why) ||
      attr_ints(n, "dilations", &dil, &ndil, why, sizeof why))
    return NODE_FAIL(im, n, "%s", why);
  for (size_t i = 0; i < ndil; i++) dil_ok &= dil[i] == 1;
  if (!dil_ok) return NODE_FAIL(im, n, "%s", "dilations other than 1 are not supported");
  if (kh != kw || kh < 1 || kh > 15 || kh % 2 == 0)
    return NODE_FAIL(im, n, "kernel %lldx%lld is not supported (square, odd, 1..15)",
                     (long long)kh, (long long)kw);
  if (nks && (nks != 2 || ks[0] != kh || ks[1] != kw))
    return NODE_FAIL(im, n, "%s", "kernel_shape does not match the weight");
  int64_t s = nst ? st[0] : 1;
  if (nst && (nst != 2 || st[1] != s)) return NODE_FAIL(im, n, "%s", "strides must be equal in both dimensions");
  if (s < 1 || s > 16) return NODE_FAIL(im, n, "stride %lld is not supported (1..16)", (long long)s);
  int64_t p = kh / 2;
  const Onnx__AttributeProto *ap = node_attr(n, "auto_pad");
  if (ap && ap->has_s && ap->s.len && !(ap->s.len == 6 && !memcmp(ap->s.data, "NOTSET", 6)))
    return NODE_FAIL(im, n, "auto_pad '%.*s' is not supported: give explicit pads of K/2",
                     (int)(ap->s.len > 20 ? 20 : ap->s.len), (const char *)ap->s.data);
  if (npads != 4 || pads[0] != p || pads[1] != p || pads[2] != p || pads[3] != p)
    return NODE_FAIL(im, n, "padding must be K/2 = %lld on every side (nn pads the same on "
                            "all sides)", (long long)p);
  int dw = 0;
  if (group == 1) {
    if (per != v->c) return NODE_FAIL(im, n, "weight has %lld input channels, the value %d",
                                      (long long)per, v->c);
  } else if (group == v->c && oc == v->c && per == 1) {
    dw = 1;
  } else {
    return NODE_FAIL(im, n, "group %lld is not supported (1, or depthwise: group = channels "
                            "= output channels)", (long long)group);
  }
  if (oc < 1 || oc > 8192) return NODE_FAIL(im, n, "%lld output channels (1..8192)", (long long)oc);
  ilayer *l = push_layer(im, ch, n, dw ? "dwconv" : "conv", v->c, v->h, v->w);
  if (!l) return -1;
  l->out = (int)oc;
  l->k = (int)kh;
  l->s = (int)s;
  long wn = (long)oc * per * kh * kw;
  if (!(l->t[0] = const_floats(im, n, n->input[1], wn, NULL, "weight"))) return -1;
  l->tn[0] = wn;
  if (n->n_input > 2 && n->input[2] && n->input[2][0]) {
    if (!(l->t[1] = const_floats(im, n, n->input[2], oc, NULL, "bias"))) return -1;
  } else if (!(l->t[1] = calloc((size_t)oc, sizeof(float)))) {
    return NODE_FAIL(im, n, "%s", "out of memory");
  }
  l->tn[1] = oc;
  l->oc = (int)oc;
  l->oh = (v->h - 1) / (int)s + 1;
  l->ow = (v->w - 1) / (int)s + 1;
  v->c = l->oc;
  v->h = l->oh;
  v->w = l->ow;
  return 0;
}

static int read_bn(importer *im, chain *ch, const Onnx__NodeProto *n, value_shape *v) {
  char why[256] = "";
  float eps;
  int64_t training;
  if (n->n_input != 5) return NODE_FAIL(im, n, "%s", "needs 5 inputs (x, scale, B, mean, var)");
  if (attr_float(n, "epsilon", 1e-5f, &eps, why, sizeof why) ||
      attr_int(n, "training_mode", 0, &training, why, sizeof why))
    return NODE_FAIL(im, n, "%s", why);
  if (training) return NODE_FAIL(im, n, "%s", "training_mode 1 is not supported");
  int64_t spatial;
  if (attr_int(n, "spatial", 1, &spatial, why, sizeof why)) return NODE_FAIL(im, n, "%s", why);
  if (spatial != 1) return NODE_FAIL(im, n, "%s", "spatial 0 (per-position statistics, opset 7) is not supported");
  if (n->n_output > 1) return NODE_FAIL(im, n, "%s", "running statistics as outputs are not supported");
  if (v->flat && (v->h != 1 || v->w != 1))
    return NODE_FAIL(im, n, "%s", "batch norm over flattened features of a map is not supported");
  int C = v->c;
  ilayer *l = push_layer(im, ch, n, "bn", C, v->h, v->w);
  if (!l) return -1;
  static const char *role[4] = {"scale", "B", "mean", "var"};
  for (int k = 0; k < 4; k++) {
    if (!(l->t[k] = const_floats(im, n, n->input[k + 1], C, NULL, role[k]))) return -1;
    l->tn[k] = C;
  }
  /* nn's bn divides by sqrt(var + 1e-5): another epsilon moves into var */
  for (int c = 0; c < C; c++) {
    float var = l->t[3][c] + (eps - ONNX_BN_EPSILON);
    if (!(var > 0.0f) || !isfinite(var))
      return NODE_FAIL(im, n, "channel %d: variance %g + epsilon %g is not positive", c,
                       (double)l->t[3][c], (double)eps);
    l->t[3][c] = var;
  }
  return 0;
}

static int read_maxpool(importer *im, chain *ch, const Onnx__NodeProto *n, value_shape *v) {
  char why[256] = "";
  const int64_t *ks, *st, *pads, *dil;
  size_t nks, nst, npads, ndil;
  int64_t ceil_mode, order;
  if (attr_ints(n, "kernel_shape", &ks, &nks, why, sizeof why) ||
      attr_ints(n, "strides", &st, &nst, why, sizeof why) || attr_ints(n, "pads", &pads, &npads, why, sizeof why) ||
      attr_ints(n, "dilations", &dil, &ndil, why, sizeof why) ||
      attr_int(n, "ceil_mode", 0, &ceil_mode, why, sizeof why) ||
      attr_int(n, "storage_order", 0, &order, why, sizeof why))
    return NODE_FAIL(im, n, "%s", why);
  if (nks != 2 || ks[0] != ks[1]) return NODE_FAIL(im, n, "%s", "the kernel must be square");
  int64_t k = ks[0];
  int ok = k >= 1 && k <= 16 && nst == 2 && st[0] == k && st[1] == k && !ceil_mode &&
           n->n_output == 1;
  for (size_t i = 0; i < npads; i++) ok &= pads[i] == 0;
  for (size_t i = 0; i < ndil; i++) ok &= dil[i] == 1;
  if (!ok) return NODE_FAIL(im, n, "%s", "only kernel = stride (1..16), no padding, floor sizes, "
                                         "no indices output is supported");
  if (v->h / k < 1 || v->w / k < 1)
    return NODE_FAIL(im, n, "input %dx%d is smaller than the kernel %lld", v->h, v->w, (long long)k);
  ilayer *l = push_layer(im, ch, n, "maxpool", v->c, v->h, v->w);
  if (!l) return -1;
  l->s = l->k = (int)k;
  v->h = l->oh = v->h / (int)k;
  v->w = l->ow = v->w / (int)k;
  return 0;
}

/* Gemm, or MatMul (transposed weights, zero bias: an Add after it sets it). */
static int read_dense(importer *im, chain *ch, const Onnx__NodeProto *n, value_shape *v) {
  char why[256] = "";
  int matmul = !strcmp(n->op_type, "MatMul");
  int64_t ta = 0, tb = 0;
  float alpha = 1, beta = 1;
  if (!matmul && (attr_int(n, "transA", 0, &ta, why, sizeof why) ||
                  attr_int(n, "transB", 0, &tb, why, sizeof why) ||
                  attr_float(n, "alpha", 1, &alpha, why, sizeof why) ||
                  attr_float(n, "beta", 1, &beta, why, sizeof why)))
    return NODE_FAIL(im, n, "%s", why);
  if (ta) return NODE_FAIL(im, n, "%s", "transA is not supported");
  if (n->n_input < 2) return NODE_FAIL(im, n, "%s", "needs a weight input");
  const Onnx__TensorProto *wt = constant(im, n->input[1]);
  if (!wt || wt->n_dims != 2)
    return NODE_FAIL(im, n, "weight '%s' must be a constant of 2 dimensions", n->input[1]);
  long in = (long)v->c * v->h * v->w;
  int64_t rows = wt->dims[0], cols = wt->dims[1];
  int64_t N = tb ? rows : cols, IN = tb ? cols : rows;
  if (IN != in) return NODE_FAIL(im, n, "weight takes %lld inputs, the value has %ld", (long long)IN, in);
  if (N < 1 || N > 8192) return NODE_FAIL(im, n, "%lld outputs (1..8192)", (long long)N);
  ilayer *l = push_layer(im, ch, n, "dense", v->c, v->h, v->w);
  if (!l) return -1;
  l->out = (int)N;
  float *w = const_floats(im, n, n->input[1], N * IN, NULL, "weight");
  if (!w) return -1;
  if (tb) {
    l->t[0] = w;
  } else { /* [IN, N] -> nn's [N, IN] */
    if (!(l->t[0] = malloc(sizeof(float) * (size_t)(N * IN)))) {
      free(w);
      return NODE_FAIL(im, n, "%s", "out of memory");
    }
    for (int64_t i = 0; i < IN; i++)
      for (int64_t o = 0; o < N; o++) l->t[0][o * IN + i] = w[i * N + o];
    free(w);
  }
  for (long i = 0; i < N * IN; i++) l->t[0][i] *= alpha;
  l->tn[0] = N * IN;
  if (!matmul && n->n_input > 2 && n->input[2] && n->input[2][0]) {
    if (!(l->t[1] = const_floats(im, n, n->input[2], N, NULL, "bias C"))) return -1;
    for (long i = 0; i < N; i++) l->t[1][i] *= beta;
  } else if (!(l->t[1] = calloc((size_t)N, sizeof(float)))) {
    return NODE_FAIL(im, n, "%s", "out of memory");
  }
  l->tn[1] = N;
  l->oc = (int)N;
  l->oh = l->ow = 1;
  v->c = (int)N;
  v->h = v->w = 1;
  v->flat = 1;
  return 0;
}

/* Flatten from axis 1, Reshape to [N, features], Squeeze of 1x1 maps. */
static int read_flatten(importer *im, const Onnx__NodeProto *n, value_shape *v) {
  char why[256] = "";
  if (!strcmp(n->op_type, "Flatten")) {
    int64_t axis;
    if (attr_int(n, "axis", 1, &axis, why, sizeof why)) return NODE_FAIL(im, n, "%s", why);
    if (axis != 1) return NODE_FAIL(im, n, "axis %lld is not supported (1)", (long long)axis);
  } else if (!strcmp(n->op_type, "Reshape")) {
    const Onnx__TensorProto *t = n->n_input == 2 ? constant(im, n->input[1]) : NULL;
    if (!t) return NODE_FAIL(im, n, "%s", "the shape must be a constant");
    long cnt = 0;
    int64_t *s = tensor_int64s(t, &cnt, why, sizeof why);
    if (!s) return NODE_FAIL(im, n, "shape %s", why);
    long f = (long)v->c * v->h * v->w;
    int ok = cnt == 2 && (s[1] == f || (s[1] == -1 && s[0] != -1));
    free(s);
    if (!ok) return NODE_FAIL(im, n, "only a reshape to [N, %ld] is supported", f);
  } else { /* Squeeze */
    if (v->h != 1 || v->w != 1)
      return NODE_FAIL(im, n, "squeezing a %dx%d map is not supported", v->h, v->w);
  }
  v->flat = 1;
  return 0;
}

/* Add after a dense layer: its bias. */
static int read_bias_add(importer *im, chain *ch, const Onnx__NodeProto *n, const char *cur) {
  ilayer *l = ch->n ? &ch->L[ch->n - 1] : NULL;
  const char *other = n->n_input == 2 ? (!strcmp(n->input[0], cur) ? n->input[1] : n->input[0]) : NULL;
  if (!l || strcmp(l->kind, "dense") || !constant(im, other))
    return NODE_FAIL(im, n, "%s", "only the bias of a dense layer (MatMul or Gemm + Add of a "
                                  "constant) is supported; adding two values needs branches");
  float *b = const_floats(im, n, other, l->out, NULL, "bias");
  if (!b) return -1;
  for (int i = 0; i < l->out; i++) l->t[1][i] += b[i];
  free(b);
  size_t at = strlen(l->sig);
  snprintf(l->sig + at, sizeof l->sig - at, " +%s", other);
  return 0;
}

/* A scalar constant operand of n (the one that is not cur); 0 or fail. */
static int scalar_operand(importer *im, const Onnx__NodeProto *n, const char *cur, float *out) {
  const char *other = n->n_input == 2 ? (!strcmp(n->input[0], cur) ? n->input[1] : n->input[0]) : NULL;
  long cnt = 0;
  if (!constant(im, other))
    return NODE_FAIL(im, n, "%s", "only a Div or Mul by a scalar constant just before the final "
                                  "Softmax (the temperature) is supported");
  float *v = const_floats(im, n, other, -1, &cnt, "operand");
  if (!v) return -1;
  if (cnt != 1) {
    free(v);
    return NODE_FAIL(im, n, "%s", "only a scalar operand (the temperature) is supported");
  }
  *out = v[0];
  free(v);
  return 0;
}

static int is_op(const Onnx__NodeProto *n, const char *op) { return n->op_type && !strcmp(n->op_type, op); }

/* Reads nodes from im->next while they continue the chain from `start`,
 * up to and including a Softmax, or until a node does not take the current
 * value. *end: the last value. */
static int read_chain(importer *im, const char *start, chain *ch, const char **end) {
  value_shape v = {im->in_c, im->in_h, im->in_w, 0};
  const char *cur = start;
  float pending_t = 1.0f; /* a Div/Mul seen, waiting for its Softmax */
  int have_t = 0;
  ch->temperature = 1.0f;
  ch->softmax = 0;
  const Onnx__GraphProto *g = im->g;
  for (; im->next < g->n_node; im->next++) {
    const Onnx__NodeProto *n = g->node[im->next];
    if (is_op(n, "Constant")) continue;
    if (!n->n_input || !n->input[0] || strcmp(n->input[0], cur)) {
      /* Add and Mul are commutative: the value may come second */
      int second = n->n_input == 2 && n->input[1] && !strcmp(n->input[1], cur) &&
                   (is_op(n, "Add") || is_op(n, "Mul"));
      if (!second) break;
    }
    if (n->domain && n->domain[0] && strcmp(n->domain, "ai.onnx"))
      return NODE_FAIL(im, n, "operator domain '%s' is not supported", n->domain);
    if (!n->n_output || !n->output[0] || !n->output[0][0])
      return NODE_FAIL(im, n, "%s", "has no output");
    if (have_t && !is_op(n, "Softmax"))
      return NODE_FAIL(im, n, "%s", "a Div or Mul by a scalar is only supported just before the "
                                    "final Softmax");
    int rc = 0;
    if (is_op(n, "Conv")) {
      if (v.flat) return NODE_FAIL(im, n, "%s", "a convolution after a dense layer is not supported");
      rc = read_conv(im, ch, n, &v);
    } else if (is_op(n, "BatchNormalization")) {
      rc = read_bn(im, ch, n, &v);
    } else if (is_op(n, "Relu")) {
      rc = push_layer(im, ch, n, "relu", v.c, v.h, v.w) ? 0 : -1;
    } else if (is_op(n, "MaxPool")) {
      if (v.flat) return NODE_FAIL(im, n, "%s", "pooling after a dense layer is not supported");
      rc = read_maxpool(im, ch, n, &v);
    } else if (is_op(n, "GlobalAveragePool")) {
      if (v.flat) return NODE_FAIL(im, n, "%s", "pooling after a dense layer is not supported");
      ilayer *l = push_layer(im, ch, n, "gap", v.c, v.h, v.w);
      if (!l) return -1;
      l->oh = l->ow = v.h = v.w = 1;
    } else if (is_op(n, "Flatten") || is_op(n, "Reshape") || is_op(n, "Squeeze")) {
      rc = read_flatten(im, n, &v);
    } else if (is_op(n, "Gemm") || is_op(n, "MatMul")) {
      rc = read_dense(im, ch, n, &v);
    } else if (is_op(n, "Add")) {
      rc = read_bias_add(im, ch, n, cur);
    } else if (is_op(n, "Div") || is_op(n, "Mul")) {
      float s;
      if ((rc = scalar_operand(im, n, cur, &s)) == 0) {
        if (is_op(n, "Mul") && s != 0.0f) s = 1.0f / s;
        if (!(s > 0.0f) || !isfinite(s))
          return NODE_FAIL(im, n, "temperature %g is not positive", (double)s);
        pending_t = s;
        have_t = 1;
      }
    } else if (is_op(n, "Dropout") || is_op(n, "Identity")) {
      /* the identity at inference */
    } else if (is_op(n, "Softmax")) {
      char why[256] = "";
      int64_t axis;
      if (attr_int(n, "axis", -1, &axis, why, sizeof why)) return NODE_FAIL(im, n, "%s", why);
      if (axis != 1 && axis != -1) return NODE_FAIL(im, n, "axis %lld is not supported (1)", (long long)axis);
      if (!v.flat && (v.h != 1 || v.w != 1))
        return NODE_FAIL(im, n, "%s", "softmax over a map is not supported (flatten first)");
      ch->temperature = pending_t;
      ch->softmax = 1;
      cur = n->output[0];
      im->next++;
      break;
    } else {
      return NODE_FAIL(im, n, "operator %s is not supported; nn maps: %s", n->op_type, supported);
    }
    if (rc) return rc;
    cur = n->output[0];
  }
  if (have_t && !ch->softmax)
    return fail(im, "a Div or Mul by a scalar is only supported just before a final Softmax");
  *end = cur;
  return 0;
}

/* ---- the graph -------------------------------------------------------------- */

static int collect_constants(importer *im) {
  const Onnx__GraphProto *g = im->g;
  size_t cap = g->n_initializer + g->n_node;
  im->cname = malloc((cap ? cap : 1) * sizeof *im->cname);
  im->ctensor = malloc((cap ? cap : 1) * sizeof *im->ctensor);
  if (!im->cname || !im->ctensor) return fail(im, "out of memory");
  for (size_t i = 0; i < g->n_initializer; i++) {
    if (!g->initializer[i]->name) return fail(im, "initializer %zu has no name", i);
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
    if (!g->input[i]->name || constant(im, g->input[i]->name)) continue;
    if (in) return fail(im, "the graph has more than one input ('%s' and '%s'); nn takes one image "
                            "batch", in->name, g->input[i]->name);
    in = g->input[i];
  }
  if (!in) return fail(im, "the graph has no input");
  const Onnx__TypeProto *t = in->type;
  if (!t || t->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !t->tensor_type ||
      t->tensor_type->elem_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT || !t->tensor_type->shape)
    return fail(im, "input '%s' is not a float tensor of known shape", in->name);
  const Onnx__TensorShapeProto *s = t->tensor_type->shape;
  int64_t d[4] = {0};
  for (size_t i = 1; i < s->n_dim && i < 4; i++)
    d[i] = s->dim[i]->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE
               ? s->dim[i]->dim_value : -1;
  if (s->n_dim != 4 || (d[1] != 1 && d[1] != 3) || d[2] < 1 || d[2] > 4096 || d[3] < 1 || d[3] > 4096)
    return fail(im, "input '%s' must be N x C x H x W with C 1 or 3 and H, W 1..4096 fixed", in->name);
  im->in_c = (int)d[1];
  im->in_h = (int)d[2];
  im->in_w = (int)d[3];
  im->input = in->name;
  return 0;
}

/* After the first pass: emocam's mirrored pass and the mean, if they follow. */
static int read_mirror(importer *im, const chain *first, const char *p1, const char **end,
                       int *flip) {
  const Onnx__GraphProto *g = im->g;
  *flip = 0;
  while (im->next < g->n_node && is_op(g->node[im->next], "Constant")) im->next++;
  if (im->next >= g->n_node) return 0;
  const Onnx__NodeProto *n = g->node[im->next];
  if (!is_op(n, "Gather") || n->n_input != 2 || strcmp(n->input[0], im->input)) return 0;
  char why[256] = "";
  int64_t axis;
  long cnt = 0;
  if (attr_int(n, "axis", 0, &axis, why, sizeof why)) return NODE_FAIL(im, n, "%s", why);
  const Onnx__TensorProto *it = constant(im, n->input[1]);
  int64_t *idx = it ? tensor_int64s(it, &cnt, why, sizeof why) : NULL;
  int mirror = idx && axis == 3 && cnt == im->in_w;
  for (long i = 0; mirror && i < cnt; i++) mirror = idx[i] == im->in_w - 1 - i;
  free(idx);
  if (!mirror)
    return NODE_FAIL(im, n, "%s", "only emocam's flip averaging (a Gather of the input's width "
                                  "in reverse) is supported");
  im->next++;
  chain second = {0};
  const char *p2 = NULL;
  if (read_chain(im, n->output[0], &second, &p2) != 0) {
    chain_free(&second);
    return -1;
  }
  int same = second.softmax && second.n == first->n && second.temperature == first->temperature;
  for (int i = 0; same && i < first->n; i++) same = !strcmp(first->L[i].sig, second.L[i].sig);
  chain_free(&second);
  if (!same)
    return fail(im, "the mirrored pass after node '%s' is not the same network on the same "
                    "weights (only emocam's flip averaging is supported)", node_label(n));
  /* Add(p1, p2), Mul(sum, 0.5) */
  while (im->next < g->n_node && is_op(g->node[im->next], "Constant")) im->next++;
  const Onnx__NodeProto *add = im->next < g->n_node ? g->node[im->next++] : NULL;
  while (im->next < g->n_node && is_op(g->node[im->next], "Constant")) im->next++;
  const Onnx__NodeProto *mul = im->next < g->n_node ? g->node[im->next++] : NULL;
  float half = 0;
  int ok = add && mul && is_op(add, "Add") && add->n_input == 2 && add->n_output == 1 &&
           ((!strcmp(add->input[0], p1) && !strcmp(add->input[1], p2)) ||
            (!strcmp(add->input[0], p2) && !strcmp(add->input[1], p1))) &&
           is_op(mul, "Mul") && mul->n_output == 1 && mul->n_input == 2 &&
           (!strcmp(mul->input[0], add->output[0]) || !strcmp(mul->input[1], add->output[0]));
  if (ok) {
    if (scalar_operand(im, mul, add->output[0], &half) != 0) return -1;
    ok = half == 0.5f;
  }
  if (!ok) return fail(im, "the two passes are not averaged (Add, then Mul by 0.5)");
  *end = mul->output[0];
  *flip = 1;
  return 0;
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

static int build_model(importer *im, const Onnx__ModelProto *m, const chain *ch, int flip,
                       const nn_onnx_import_opts *opts, nn_model *model, int max_batch) {
  if (ch->n == 0) return fail(im, "the graph has no layers nn can run");
  const ilayer *last = &ch->L[ch->n - 1];
  int classes = last->oc * last->oh * last->ow;
  char *text = malloc(ARCH_TEXT_MAX);
  if (!text) return fail(im, "out of memory");
  size_t at = (size_t)snprintf(text, ARCH_TEXT_MAX, "# imported from ONNX\ninput %d %d %d\n",
                               im->in_h, im->in_w, im->in_c);
  for (int i = 0; i < ch->n; i++) {
    const ilayer *l = &ch->L[i];
    if (!strcmp(l->kind, "conv"))
      at += (size_t)snprintf(text + at, ARCH_TEXT_MAX - at, "conv %d %d %d\n", l->out, l->k, l->s);
    else if (!strcmp(l->kind, "dwconv"))
      at += (size_t)snprintf(text + at, ARCH_TEXT_MAX - at, "dwconv %d %d\n", l->k, l->s);
    else if (!strcmp(l->kind, "maxpool"))
      at += (size_t)snprintf(text + at, ARCH_TEXT_MAX - at, "maxpool %d\n", l->s);
    else if (!strcmp(l->kind, "dense"))
      at += (size_t)snprintf(text + at, ARCH_TEXT_MAX - at, "dense %d\n", l->out);
    else
      at += (size_t)snprintf(text + at, ARCH_TEXT_MAX - at, "%s\n", l->kind);
  }
  snprintf(text + at, ARCH_TEXT_MAX - at, "softmax\n");

  char why[NN_ERR_LEN];
  int rc = nn_net_create(&model->net, text, im->file, classes, max_batch, 1, why, sizeof why);
  free(text);
  if (rc != 0) return fail(im, "nn cannot run this graph: %s", why);
  for (int i = 0; i < ch->n; i++) {
    const ilayer *l = &ch->L[i];
    static const char *bn[4] = {"bn.gamma", "bn.beta", "bn.running_mean", "bn.running_var"};
    char w[32], b[32];
    snprintf(w, sizeof w, "%s.weight", l->kind);
    snprintf(b, sizeof b, "%s.bias", l->kind);
    int bad = 0;
    if (!strcmp(l->kind, "bn"))
      for (int k = 0; k < 4; k++) bad |= copy_tensor(model->net, i, bn[k], l->t[k], l->tn[k]);
    else if (l->t[0])
      bad = copy_tensor(model->net, i, w, l->t[0], l->tn[0]) | copy_tensor(model->net, i, b, l->t[1], l->tn[1]);
    if (bad) return fail(im, "layer %d (%s): its tensors do not match the network nn built", i, l->kind);
  }
  nn_net_set_temperature(model->net, ch->temperature);
  model->num_classes = classes;
  model->flip_tta = flip;

  const char *names = opts && opts->classes ? opts->classes : metadata(m, "classes");
  if (!names)
    return fail(im, "the file names no classes (no 'classes' in its metadata_props): give them "
                    "in output order, e.g. --classes a,b,c (%d names)", classes);
  if (split_classes(names, classes, &model->class_names) != 0)
    return fail(im, "classes '%.200s': expected %d comma-separated names (1..64 characters) for "
                    "the %d outputs", names, classes, classes);

  float scale, mean;
  nn_onnx_pixel_map(NULL, &scale, &mean);
  const char *ms = metadata(m, "pixel_scale"), *mm = metadata(m, "pixel_mean");
  if (ms && parse_float(ms, &scale) != 0) return fail(im, "metadata pixel_scale '%.40s' is not a number", ms);
  if (mm && parse_float(mm, &mean) != 0) return fail(im, "metadata pixel_mean '%.40s' is not a number", mm);
  if (opts && opts->pixel_scale > 0) scale = opts->pixel_scale;
  if (opts && opts->have_pixel_mean) mean = opts->pixel_mean;
  if (!(scale > 0) || !isfinite(scale) || !isfinite(mean))
    return fail(im, "pixel scale %g and mean %g: the scale must be positive", (double)scale, (double)mean);
  model->preprocess = preprocess_text(m, im->in_c, scale, mean);
  char state[300];
  snprintf(state, sizeof state, "made_by=ONNX import of %.60s (%.40s %.40s)\n", im->file,
           m->producer_name ? m->producer_name : "unknown producer",
           m->producer_version ? m->producer_version : "");
  model->train_state = strdup(state);
  if (!model->preprocess || !model->train_state) return fail(im, "out of memory");
  return 0;
}

int nn_onnx_import_buffer(const void *data, size_t size, const char *name,
                          const nn_onnx_import_opts *opts, nn_model *model, int max_batch,
                          char *err, size_t errlen) {
  memset(model, 0, sizeof *model);
  importer im = {.file = name ? name : "(memory)", .err = err, .errlen = errlen};
  if (size > (size_t)NN_ONNX_MAX_FILE)
    return fail(&im, "%zu bytes, more than the %ld an ONNX model may have here", size, NN_ONNX_MAX_FILE);
  Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, size, data);
  if (!m) return fail(&im, "not an ONNX model (the protobuf does not parse: truncated or another kind of file)");
  int rc = -1;
  chain *ch = calloc(1, sizeof *ch);
  if (!ch) {
    fail(&im, "out of memory");
    goto done;
  }
  if (!m->graph) {
    fail(&im, "the model has no graph");
    goto done;
  }
  int64_t opset = -1;
  for (size_t i = 0; i < m->n_opset_import; i++) {
    const Onnx__OperatorSetIdProto *o = m->opset_import[i];
    if (!o->domain || !o->domain[0] || !strcmp(o->domain, "ai.onnx")) opset = o->has_version ? o->version : -1;
  }
  if (opset < MIN_OPSET || opset > MAX_OPSET) {
    fail(&im, "opset %lld is not supported (%d to %d; re-export with opset_version in that range)",
         (long long)opset, MIN_OPSET, MAX_OPSET);
    goto done;
  }
  im.g = m->graph;
  if (im.g->n_output != 1 || !im.g->output[0]->name) {
    fail(&im, "the graph has %zu outputs, expected one (the class scores)", im.g->n_output);
    goto done;
  }
  if (collect_constants(&im) || read_input(&im)) goto done;
  const char *end = NULL;
  if (read_chain(&im, im.input, ch, &end) != 0) goto done;
  int flip = 0;
  if (ch->softmax && read_mirror(&im, ch, end, &end, &flip) != 0) goto done;
  /* an Identity naming the output may close the graph */
  while (im.next < im.g->n_node) {
    const Onnx__NodeProto *n = im.g->node[im.next];
    if (is_op(n, "Constant")) {
      im.next++;
    } else if (is_op(n, "Identity") && n->n_input == 1 && !strcmp(n->input[0], end) && n->n_output == 1) {
      end = n->output[0];
      im.next++;
    } else {
      NODE_FAIL(&im, n, "does not continue the chain from the input (it reads '%s', the chain "
                        "is at '%s'): graphs with branches are not supported; nn maps: %s",
                n->n_input && n->input[0] ? n->input[0] : "", end, supported);
      goto done;
    }
  }
  if (strcmp(end, im.g->output[0]->name)) {
    fail(&im, "the chain ends at '%s', not at the graph's output '%s'", end, im.g->output[0]->name);
    goto done;
  }
  rc = build_model(&im, m, ch, flip, opts, model, max_batch);
done:
  if (ch) chain_free(ch);
  free(ch);
  free(im.cname);
  free(im.ctensor);
  onnx__model_proto__free_unpacked(m, NULL);
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

int nn_onnx_is_onnx_file(const char *path) {
  size_t n = strlen(path);
  if (n > 5 && !strcasecmp(path + n - 5, ".onnx")) return 1;
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  int c = fgetc(f);
  fclose(f);
  return c == 0x08; /* field 1 (ir_version), varint: how every ONNX file begins */
}

int nn_onnx_pixel_map(const char *preprocess, float *scale, float *mean) {
  *scale = 1.0f / 255.0f;
  *mean = 0.0f;
  const char *s = preprocess ? strstr(preprocess, "pixel_scale=") : NULL;
  const char *m = preprocess ? strstr(preprocess, "pixel_mean=") : NULL;
  if (s) *scale = strtof(s + strlen("pixel_scale="), NULL);
  if (m) *mean = strtof(m + strlen("pixel_mean="), NULL);
  return s || m;
}
