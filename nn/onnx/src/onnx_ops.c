/* onnx_ops: one ONNX node onto nn layers (onnx_ops.h).
 *
 * Each operator reads its data inputs (values made by earlier nodes) and
 * its constants, checks the options against what nn's layer runs, and
 * pushes the layer (reading the value's layer: `from` in the architecture
 * text when that is not the line before) or, for the operators that are the
 * identity to nn (Flatten, Dropout, Identity), records its output as the
 * same layer's. Anything nn cannot run exactly is an error naming the node
 * and the option. */
#include "onnx_ops.h"
#include "onnx_names.h"
#include "onnx_tensor.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char import_supported[] =
    "Conv (any groups; square kernel, symmetric padding), "
    "BatchNormalization, Relu, "
    "LeakyRelu, Clip (0..6 or 0..), Sigmoid, HardSwish, Add, Mul, Concat (channels), MaxPool "
    "and AveragePool (square windows, symmetric padding, floor sizes), GlobalAveragePool, "
    "ReduceMean (over H and W), Flatten, "
    "Reshape to two dimensions, Squeeze of 1x1 maps, Gemm, MatMul, Dropout, Identity, Constant, "
    "Pad of zeros, "
    "Softmax (last; a Div or Mul by a scalar before it is the temperature)";

/* The floats of the constant `name`, which must hold `want` elements (-1:
 * any, count in *got); NULL after the failure is reported. */
static float *const_floats(importer *im, const Onnx__NodeProto *n, const char *name, long want,
                           long *got, const char *role) {
  const Onnx__TensorProto *t = import_constant(im, name);
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

/* A new layer reading value v; NULL after the failure when there are too many. */
static ilayer *push_layer(importer *im, const Onnx__NodeProto *n, const char *kind,
                          const ivalue *v) {
  if (im->n == IMPORT_MAX_LAYERS) {
    NODE_FAIL(im, n, "more than %d layers", IMPORT_MAX_LAYERS);
    return NULL;
  }
  ilayer *l = &im->L[im->n++];
  memset(l, 0, sizeof *l);
  l->kind = kind;
  l->src = v->layer;
  l->src2 = -2;
  l->c = l->oc = v->c;
  l->h = l->oh = v->h;
  l->w = l->ow = v->w;
  return l;
}

/* The value the last layer made, as node n's output. */
static int output_of_last(importer *im, const Onnx__NodeProto *n, int flat) {
  const ilayer *l = &im->L[im->n - 1];
  return import_add_value(im, (ivalue){n->output[0], im->n - 1, l->oc, l->oh, l->ow, flat, 0});
}

/* ---- convolutions, normalisation, pooling, dense ----------------------------- */

/* The padding of a convolution or pooling window of kernel k, stride s on
 * value v: the same on every side (pads, or auto_pad VALID, or SAME_* where
 * it comes out even), less than k. */
static int read_pads(importer *im, const Onnx__NodeProto *n, int64_t k, int64_t s, const ivalue *v,
                     size_t npads, const int64_t *pads, int64_t *p) {
  const Onnx__AttributeProto *ap = node_attr(n, "auto_pad");
  char mode[16] = "NOTSET";
  if (ap && ap->has_s && ap->s.len && ap->s.len < sizeof mode) {
    memcpy(mode, ap->s.data, ap->s.len);
    mode[ap->s.len] = '\0';
  }
  if (!strcmp(mode, "VALID")) {
    *p = 0;
  } else if (!strcmp(mode, "SAME_UPPER") || !strcmp(mode, "SAME_LOWER")) {
    /* out = ceil(in / s): total padding (out - 1) s + k - in, split in two */
    int64_t th = ((v->h + s - 1) / s - 1) * s + k - v->h, tw = ((v->w + s - 1) / s - 1) * s + k - v->w;
    if (th != tw || th < 0 || th % 2)
      return NODE_FAIL(im, n, "auto_pad %s pads unevenly here (nn pads the same on every side)", mode);
    *p = th / 2;
  } else if (!strcmp(mode, "NOTSET")) {
    *p = npads ? pads[0] : 0;
    if (npads && (npads != 4 || pads[1] != *p || pads[2] != *p || pads[3] != *p))
      return NODE_FAIL(im, n, "%s", "padding must be the same on every side (nn pads symmetrically)");
  } else {
    return NODE_FAIL(im, n, "auto_pad '%s' is not supported", mode);
  }
  if (*p < 0 || *p >= k) return NODE_FAIL(im, n, "padding %lld must be less than the kernel", (long long)*p);
  return 0;
}

static int read_conv(importer *im, const Onnx__NodeProto *n, const ivalue *v) {
  char why[256] = "";
  if (v->flat) return NODE_FAIL(im, n, "%s", "a convolution of flattened features is not supported");
  if (n->n_input < 2) return NODE_FAIL(im, n, "%s", "needs a weight input");
  const Onnx__TensorProto *wt = import_constant(im, n->input[1]);
  if (!wt || wt->n_dims != 4)
    return NODE_FAIL(im, n, "weight '%s' must be a constant of 4 dimensions", n->input[1]);
  int64_t oc = wt->dims[0], per = wt->dims[1], kh = wt->dims[2], kw = wt->dims[3];
  int64_t group;
  const int64_t *ks, *st, *pads, *dil;
  size_t nks, nst, npads, ndil;
  if (attr_int(n, "group", 1, &group, why, sizeof why) ||
      attr_ints(n, "kernel_shape", &ks, &nks, why, sizeof why) ||
      attr_ints(n, "strides", &st, &nst, why, sizeof why) ||
      attr_ints(n, "pads", &pads, &npads, why, sizeof why) ||
      attr_ints(n, "dilations", &dil, &ndil, why, sizeof why))
    return NODE_FAIL(im, n, "%s", why);
  for (size_t i = 0; i < ndil; i++)
    if (dil[i] != 1) return NODE_FAIL(im, n, "%s", "dilations other than 1 are not supported");
  if (kh != kw || kh < 1 || kh > 15)
    return NODE_FAIL(im, n, "kernel %lldx%lld is not supported (square, 1..15)", (long long)kh,
                     (long long)kw);
  if (nks && (nks != 2 || ks[0] != kh || ks[1] != kw))
    return NODE_FAIL(im, n, "%s", "kernel_shape does not match the weight");
  int64_t s = nst ? st[0] : 1;
  if (nst && (nst != 2 || st[1] != s))
    return NODE_FAIL(im, n, "%s", "strides must be equal in both dimensions");
  if (s < 1 || s > 16) return NODE_FAIL(im, n, "stride %lld is not supported (1..16)", (long long)s);
  int64_t p;
  if (read_pads(im, n, kh, s, v, npads, pads, &p) != 0) return -1;
  /* depthwise with padding K/2 runs as dwconv (faster); other groups as a
   * grouped conv */
  int dw = group > 1 && group == v->c && oc == v->c && per == 1 && 2 * p == kh - 1;
  if (group < 1 || group > v->c || v->c % group || oc % group || per * group != v->c)
    return NODE_FAIL(im, n, "group %lld with %lld input channels per group does not split the "
                            "value's %d channels", (long long)group, (long long)per, v->c);
  if (oc < 1 || oc > 8192) return NODE_FAIL(im, n, "%lld output channels (1..8192)", (long long)oc);
  ilayer *l = push_layer(im, n, dw ? "dwconv" : "conv", v);
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
  l->pad = (int)p;
  l->groups = dw ? 1 : (int)group;
  l->oh = (v->h + 2 * (int)p - (int)kh) / (int)s + 1;
  l->ow = (v->w + 2 * (int)p - (int)kh) / (int)s + 1;
  if (l->oh < 1 || l->ow < 1) return NODE_FAIL(im, n, "%s", "the input is smaller than the kernel");
  return output_of_last(im, n, 0);
}

static int read_bn(importer *im, const Onnx__NodeProto *n, const ivalue *v) {
  char why[256] = "";
  float eps;
  int64_t training, spatial;
  if (n->n_input != 5) return NODE_FAIL(im, n, "%s", "needs 5 inputs (x, scale, B, mean, var)");
  if (attr_float(n, "epsilon", 1e-5f, &eps, why, sizeof why) ||
      attr_int(n, "training_mode", 0, &training, why, sizeof why) ||
      attr_int(n, "spatial", 1, &spatial, why, sizeof why))
    return NODE_FAIL(im, n, "%s", why);
  if (training) return NODE_FAIL(im, n, "%s", "training_mode 1 is not supported");
  if (spatial != 1)
    return NODE_FAIL(im, n, "%s", "spatial 0 (per-position statistics, opset 7) is not supported");
  if (n->n_output > 1) return NODE_FAIL(im, n, "%s", "running statistics as outputs are not supported");
  if (v->flat && (v->h != 1 || v->w != 1))
    return NODE_FAIL(im, n, "%s", "batch norm over flattened features of a map is not supported");
  int C = v->c;
  ilayer *l = push_layer(im, n, "bn", v);
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
  return output_of_last(im, n, v->flat);
}

/* MaxPool and AveragePool: square windows, equal strides, symmetric padding,
 * floor sizes; AveragePool not counting the padding (ONNX's default). */
static int read_pool(importer *im, const Onnx__NodeProto *n, const ivalue *v) {
  char why[256] = "";
  const int64_t *ks, *st, *pads, *dil;
  size_t nks, nst, npads, ndil;
  int64_t ceil_mode, order, include_pad;
  int avg = is_op(n, "AveragePool");
  if (v->flat) return NODE_FAIL(im, n, "%s", "pooling flattened features is not supported");
  if (attr_ints(n, "kernel_shape", &ks, &nks, why, sizeof why) ||
      attr_ints(n, "strides", &st, &nst, why, sizeof why) ||
      attr_ints(n, "pads", &pads, &npads, why, sizeof why) ||
      attr_ints(n, "dilations", &dil, &ndil, why, sizeof why) ||
      attr_int(n, "ceil_mode", 0, &ceil_mode, why, sizeof why) ||
      attr_int(n, "storage_order", 0, &order, why, sizeof why) ||
      attr_int(n, "count_include_pad", 0, &include_pad, why, sizeof why))
    return NODE_FAIL(im, n, "%s", why);
  if (nks != 2 || ks[0] != ks[1]) return NODE_FAIL(im, n, "%s", "the kernel must be square (2-D)");
  int64_t k = ks[0], s = nst ? st[0] : 1;
  if (nst && (nst != 2 || st[1] != s)) return NODE_FAIL(im, n, "%s", "strides must be equal in both dimensions");
  if (k < 1 || k > 15 || s < 1 || s > 16)
    return NODE_FAIL(im, n, "kernel %lld, stride %lld: not supported (1..15, 1..16)", (long long)k, (long long)s);
  for (size_t i = 0; i < ndil; i++)
    if (dil[i] != 1) return NODE_FAIL(im, n, "%s", "dilations other than 1 are not supported");
  if (ceil_mode) return NODE_FAIL(im, n, "%s", "ceil_mode 1 is not supported (floor sizes)");
  if (n->n_output != 1) return NODE_FAIL(im, n, "%s", "an indices output is not supported");
  if (avg && include_pad) return NODE_FAIL(im, n, "%s", "count_include_pad 1 is not supported");
  int64_t p;
  if (read_pads(im, n, k, s, v, npads, pads, &p) != 0) return -1;
  int oh = (v->h + 2 * (int)p - (int)k), ow = (v->w + 2 * (int)p - (int)k);
  if (oh < 0 || ow < 0)
    return NODE_FAIL(im, n, "input %dx%d is smaller than the window %lld", v->h, v->w, (long long)k);
  ilayer *l = push_layer(im, n, avg ? "avgpool" : "maxpool", v);
  if (!l) return -1;
  l->k = (int)k;
  l->s = (int)s;
  l->pad = (int)p;
  l->oh = oh / (int)s + 1;
  l->ow = ow / (int)s + 1;
  return output_of_last(im, n, 0);
}

/* GlobalAveragePool, or ReduceMean over H and W (keepdims 0: flat). */
static int read_gap(importer *im, const Onnx__NodeProto *n, const ivalue *v) {
  int flat = 0;
  if (v->flat) return NODE_FAIL(im, n, "%s", "pooling flattened features is not supported");
  if (is_op(n, "ReduceMean")) {
    char why[256] = "";
    const int64_t *axes;
    size_t na;
    int64_t keep;
    if (attr_ints(n, "axes", &axes, &na, why, sizeof why) ||
        attr_int(n, "keepdims", 1, &keep, why, sizeof why))
      return NODE_FAIL(im, n, "%s", why);
    int hw = na == 2 && ((axes[0] == 2 && axes[1] == 3) || (axes[0] == -2 && axes[1] == -1) ||
                         (axes[0] == 3 && axes[1] == 2));
    if (!hw || n->n_input > 1)
      return NODE_FAIL(im, n, "%s", "only the mean over H and W (axes [2, 3]) is supported");
    flat = !keep;
  }
  ilayer *l = push_layer(im, n, "gap", v);
  if (!l) return -1;
  l->oh = l->ow = 1;
  return output_of_last(im, n, flat);
}

/* Gemm, or MatMul (transposed weights, zero bias: an Add after it sets it). */
static int read_dense(importer *im, const Onnx__NodeProto *n, const ivalue *v) {
  char why[256] = "";
  int matmul = is_op(n, "MatMul");
  int64_t ta = 0, tb = 0;
  float alpha = 1, beta = 1;
  if (!matmul && (attr_int(n, "transA", 0, &ta, why, sizeof why) ||
                  attr_int(n, "transB", 0, &tb, why, sizeof why) ||
                  attr_float(n, "alpha", 1, &alpha, why, sizeof why) ||
                  attr_float(n, "beta", 1, &beta, why, sizeof why)))
    return NODE_FAIL(im, n, "%s", why);
  if (ta) return NODE_FAIL(im, n, "%s", "transA is not supported");
  if (n->n_input < 2) return NODE_FAIL(im, n, "%s", "needs a weight input");
  const Onnx__TensorProto *wt = import_constant(im, n->input[1]);
  if (!wt || wt->n_dims != 2)
    return NODE_FAIL(im, n, "weight '%s' must be a constant of 2 dimensions", n->input[1]);
  long in = (long)v->c * v->h * v->w;
  int64_t rows = wt->dims[0], cols = wt->dims[1];
  int64_t N = tb ? rows : cols, IN = tb ? cols : rows;
  if (IN != in)
    return NODE_FAIL(im, n, "weight takes %lld inputs, the value has %ld", (long long)IN, in);
  if (N < 1 || N > 8192) return NODE_FAIL(im, n, "%lld outputs (1..8192)", (long long)N);
  ilayer *l = push_layer(im, n, "dense", v);
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
  return output_of_last(im, n, 1);
}

/* Flatten from axis 1, Reshape to [N, features], Squeeze of 1x1 maps: the
 * same values, flat. */
static int read_flatten(importer *im, const Onnx__NodeProto *n, const ivalue *v) {
  char why[256] = "";
  if (is_op(n, "Flatten")) {
    int64_t axis;
    if (attr_int(n, "axis", 1, &axis, why, sizeof why)) return NODE_FAIL(im, n, "%s", why);
    if (axis != 1) return NODE_FAIL(im, n, "axis %lld is not supported (1)", (long long)axis);
  } else if (is_op(n, "Reshape")) {
    const Onnx__TensorProto *t = n->n_input == 2 ? import_constant(im, n->input[1]) : NULL;
    if (!t) return NODE_FAIL(im, n, "%s", "the shape must be a constant");
    long cnt = 0;
    int64_t *s = tensor_int64s(t, &cnt, why, sizeof why);
    if (!s) return NODE_FAIL(im, n, "shape %s", why);
    long f = (long)v->c * v->h * v->w;
    int flat2 = cnt == 2 && (s[1] == f || (s[1] == -1 && s[0] != -1));
    /* [N, F] back to [N, F, 1, 1] (emocam's exports, before a merge) */
    int map4 = cnt == 4 && s[1] == f && s[2] == 1 && s[3] == 1 && v->h == 1 && v->w == 1;
    free(s);
    if (!flat2 && !map4) return NODE_FAIL(im, n, "only a reshape to [N, %ld] is supported", f);
    ivalue out = *v;
    out.name = n->output[0];
    out.flat = flat2;
    return import_add_value(im, out);
  } else if (v->h != 1 || v->w != 1) { /* Squeeze */
    return NODE_FAIL(im, n, "squeezing a %dx%d map is not supported", v->h, v->w);
  }
  ivalue out = *v;
  out.name = n->output[0];
  out.flat = 1;
  return import_add_value(im, out);
}

/* ---- element-wise ------------------------------------------------------------ */

static int read_activation(importer *im, const Onnx__NodeProto *n, const ivalue *v) {
  const char *kind = is_op(n, "Relu") ? "relu" : is_op(n, "Sigmoid") ? "sigmoid"
                     : is_op(n, "HardSwish") ? "hswish" : "leaky";
  float slope = 0;
  if (is_op(n, "LeakyRelu")) {
    char why[256] = "";
    if (attr_float(n, "alpha", 0.01f, &slope, why, sizeof why)) return NODE_FAIL(im, n, "%s", why);
    if (!(slope >= 0.0f && slope < 1.0f))
      return NODE_FAIL(im, n, "alpha %g is not supported (0 <= alpha < 1)", (double)slope);
  }
  if (is_op(n, "Clip")) { /* min and max: inputs from opset 11, attributes before */
    char why[256] = "";
    float lo = -INFINITY, hi = INFINITY;
    if (n->n_input == 1) {
      if (attr_float(n, "min", -INFINITY, &lo, why, sizeof why) ||
          attr_float(n, "max", INFINITY, &hi, why, sizeof why))
        return NODE_FAIL(im, n, "%s", why);
    }
    for (size_t k = 1; k < n->n_input && k < 3; k++) {
      if (!n->input[k] || !n->input[k][0]) continue;
      long cnt = 0;
      float *b = const_floats(im, n, n->input[k], 1, &cnt, k == 1 ? "min" : "max");
      if (!b) return -1;
      *(k == 1 ? &lo : &hi) = b[0];
      free(b);
    }
    if (lo == 0.0f && hi == 6.0f) kind = "relu6";
    else if (lo == 0.0f && isinf(hi) && hi > 0) kind = "relu";
    else
      return NODE_FAIL(im, n, "bounds %g..%g are not supported (0..6: relu6, 0..: relu)",
                       (double)lo, (double)hi);
  }
  ilayer *l = push_layer(im, n, kind, v);
  if (!l) return -1;
  l->p = slope;
  return output_of_last(im, n, v->flat);
}

/* Two values of the graph: add, mul or concat; Mul(x, Sigmoid(x)) is silu. */
static int read_merge(importer *im, const Onnx__NodeProto *n, ivalue *a, ivalue *b) {
  const char *kind = is_op(n, "Add") ? "add" : is_op(n, "Mul") ? "mul" : "concat";
  if (is_op(n, "Concat")) {
    char why[256] = "";
    int64_t axis;
    if (attr_int(n, "axis", 1, &axis, why, sizeof why)) return NODE_FAIL(im, n, "%s", why);
    if (axis != 1 || a->flat || b->flat)
      return NODE_FAIL(im, n, "%s", "only concatenation of maps along the channels (axis 1) is supported");
  }
  if (is_op(n, "Mul")) { /* x * sigmoid(x): the sigmoid layer becomes silu */
    for (int k = 0; k < 2; k++) {
      ivalue *s = k ? a : b, *x = k ? b : a;
      ilayer *sl = s->layer >= 0 ? &im->L[s->layer] : NULL;
      if (sl && s->layer == im->n - 1 && !strcmp(sl->kind, "sigmoid") && sl->src == x->layer &&
          import_readers(im, s->name) == 1) {
        sl->kind = "silu";
        return output_of_last(im, n, x->flat);
      }
    }
  }
  if (a->flat != b->flat) /* ONNX would broadcast [N, C] against [N, C, H, W] by the last axes */
    return NODE_FAIL(im, n, "%s", "a flattened value and a map cannot be combined (reshape the "
                                  "flat one to [N, C, 1, 1])");
  ilayer *l = push_layer(im, n, kind, a);
  if (!l) return -1;
  l->src2 = b->layer;
  int same = a->c == b->c && a->h == b->h && a->w == b->w;
  if (!strcmp(kind, "concat")) {
    if (a->h != b->h || a->w != b->w) return NODE_FAIL(im, n, "%s", "the maps differ in size");
    l->oc = a->c + b->c;
  } else if (!same) {
    int bcast = !strcmp(kind, "mul") && a->c == b->c && (a->h * a->w == 1 || b->h * b->w == 1);
    if (!bcast)
      return NODE_FAIL(im, n, "shapes %dx%dx%d and %dx%dx%d are not supported (equal, or for Mul "
                              "one of them C x 1 x 1)", a->c, a->h, a->w, b->c, b->h, b->w);
    if (a->h * a->w == 1) l->oh = b->h, l->ow = b->w;
  }
  return output_of_last(im, n, a->flat && b->flat);
}

/* Add of a constant: the bias of the dense layer that made the value. */
static int read_bias_add(importer *im, const Onnx__NodeProto *n, const ivalue *v, const char *other) {
  ilayer *l = v->layer >= 0 ? &im->L[v->layer] : NULL;
  if (!l || strcmp(l->kind, "dense") || v->layer != im->n - 1 || import_readers(im, v->name) != 1)
    return NODE_FAIL(im, n, "%s", "adding a constant is only supported as the bias of a dense "
                                  "layer (MatMul or Gemm, then Add)");
  float *b = const_floats(im, n, other, l->out, NULL, "bias");
  if (!b) return -1;
  for (int i = 0; i < l->out; i++) l->t[1][i] += b[i];
  free(b);
  ivalue out = *v;
  out.name = n->output[0];
  return import_add_value(im, out);
}

/* Div or Mul by a scalar constant: a temperature, for the Softmax after it. */
static int read_temperature(importer *im, const Onnx__NodeProto *n, const ivalue *v,
                            const char *other) {
  long cnt = 0;
  float *s = const_floats(im, n, other, -1, &cnt, "operand");
  if (!s) return -1;
  float t = s[0];
  free(s);
  if (cnt != 1)
    return NODE_FAIL(im, n, "%s", "multiplying by a constant tensor is not supported (a scalar "
                                  "before the final Softmax is the temperature)");
  if (is_op(n, "Mul")) t = t != 0.0f ? 1.0f / t : 0.0f;
  if (!(t > 0.0f) || !isfinite(t)) return NODE_FAIL(im, n, "temperature %g is not positive", (double)t);
  if (v->layer != im->n - 1 || v->temp > 0)
    return NODE_FAIL(im, n, "%s", "a scalar Div or Mul is only supported on the last layer, just "
                                  "before the final Softmax");
  ivalue out = *v;
  out.name = n->output[0];
  out.temp = t;
  return import_add_value(im, out);
}

static int read_softmax(importer *im, const Onnx__NodeProto *n, const ivalue *v) {
  char why[256] = "";
  int64_t axis;
  if (attr_int(n, "axis", -1, &axis, why, sizeof why)) return NODE_FAIL(im, n, "%s", why);
  if (axis != 1 && axis != -1) return NODE_FAIL(im, n, "axis %lld is not supported (1)", (long long)axis);
  if (!v->flat && (v->h != 1 || v->w != 1))
    return NODE_FAIL(im, n, "%s", "softmax over a map is not supported (flatten first)");
  if (v->layer != im->n - 1 || v->layer < 0)
    return NODE_FAIL(im, n, "%s", "the softmax must read the last layer");
  im->temperature = v->temp > 0 ? v->temp : 1.0f;
  im->softmax = 1;
  ivalue out = *v;
  out.name = n->output[0];
  out.temp = 0;
  return import_add_value(im, out);
}

int import_node(importer *im, const Onnx__NodeProto *n) {
  if (!n->op_type) return NODE_FAIL(im, n, "%s", "has no operator type");
  if (n->domain && n->domain[0] && strcmp(n->domain, "ai.onnx"))
    return NODE_FAIL(im, n, "operator domain '%s' is not supported", n->domain);
  if (!n->n_output || !n->output[0] || !n->output[0][0])
    return NODE_FAIL(im, n, "%s", "has no output");
  if (im->softmax && !is_op(n, "Identity"))
    return NODE_FAIL(im, n, "%s", "nothing may follow the Softmax but emocam's mirrored pass");
  /* the data inputs: values made earlier (constants are the weights) */
  ivalue *data[2] = {NULL, NULL};
  const char *other = NULL; /* the constant operand of Add, Mul, Div */
  int nd = 0;
  for (size_t i = 0; i < n->n_input; i++) {
    const char *name = n->input[i];
    if (!name || !name[0]) continue;
    ivalue *v = import_value(im, name);
    if (v) {
      if (nd == 2) return NODE_FAIL(im, n, "%s", "more than two data inputs are not supported");
      data[nd++] = v;
    } else if (import_constant(im, name)) {
      if (!other) other = name;
    } else {
      return NODE_FAIL(im, n, "reads '%s', which no earlier node makes", name);
    }
  }
  if (nd == 0) return NODE_FAIL(im, n, "%s", "reads no value of the graph");
  ivalue v = *data[0];
  if (v.temp > 0 && !is_op(n, "Softmax"))
    return NODE_FAIL(im, n, "%s", "a scalar Div or Mul is only supported just before the final Softmax");
  int two = nd == 2;
  if (two && !(is_op(n, "Add") || is_op(n, "Mul") || is_op(n, "Concat")))
    return NODE_FAIL(im, n, "%s", "two data inputs: only Add, Mul and Concat take them");
  if (is_op(n, "Conv")) return read_conv(im, n, &v);
  if (is_op(n, "BatchNormalization")) return read_bn(im, n, &v);
  if (is_op(n, "Relu") || is_op(n, "Sigmoid") || is_op(n, "HardSwish") || is_op(n, "LeakyRelu") ||
      is_op(n, "Clip"))
    return read_activation(im, n, &v);
  if (is_op(n, "MaxPool") || is_op(n, "AveragePool")) return read_pool(im, n, &v);
  if (is_op(n, "GlobalAveragePool") || is_op(n, "ReduceMean")) return read_gap(im, n, &v);
  if (is_op(n, "Flatten") || is_op(n, "Reshape") || is_op(n, "Squeeze")) return read_flatten(im, n, &v);
  if (is_op(n, "Gemm") || is_op(n, "MatMul")) return read_dense(im, n, &v);
  if (is_op(n, "Pad")) { /* PyTorch writes one, all zeros, before some AveragePools */
    char why[256] = "";
    long cnt = 0;
    const Onnx__TensorProto *t = n->n_input > 1 ? import_constant(im, n->input[1]) : NULL;
    int64_t *pads = t ? tensor_int64s(t, &cnt, why, sizeof why) : NULL;
    int zero = pads != NULL;
    for (long i = 0; zero && i < cnt; i++) zero = pads[i] == 0;
    free(pads);
    if (!zero) return NODE_FAIL(im, n, "%s", "only a Pad of zeros is supported (give the padding to the Conv or pool)");
    v.name = n->output[0];
    return import_add_value(im, v);
  }
  if (is_op(n, "Dropout") || is_op(n, "Identity")) {
    v.name = n->output[0];
    return import_add_value(im, v);
  }
  if (is_op(n, "Concat") && !two) return NODE_FAIL(im, n, "%s", "needs two values to concatenate");
  if ((is_op(n, "Add") || is_op(n, "Mul") || is_op(n, "Concat")) && two) {
    ivalue a = *data[0], b = *data[1];
    return read_merge(im, n, &a, &b);
  }
  if (is_op(n, "Add")) return read_bias_add(im, n, &v, other);
  if (is_op(n, "Div") || is_op(n, "Mul")) {
    if (is_op(n, "Div") && n->input[0] && strcmp(n->input[0], v.name))
      return NODE_FAIL(im, n, "%s", "only division by a constant is supported");
    return read_temperature(im, n, &v, other);
  }
  if (is_op(n, "Softmax")) return read_softmax(im, n, &v);
  return NODE_FAIL(im, n, "operator %s is not supported; nn maps: %s", n->op_type, import_supported);
}
