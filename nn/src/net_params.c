/* net_params: the parameters of a net: arenas and the named tensor table,
 * initialisation, copying between nets, batch-norm folding, and the summary
 * table with parameter and multiply-add counts. */
#include "net.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* one tensor a layer owns; trainable tensors live in the params arena */
typedef struct {
  const char *what;
  int trainable, ndim, dims[4];
  float **data, **grad; /* where the layer keeps its view */
} tensor_spec;

/* The tensors of layer l in file order; returns how many. */
static int layer_tensors(layer *l, tensor_spec *t) {
  const arch_layer *a = &l->a;
  int in = a->c * a->h * a->w;
  switch (a->kind) {
  case L_CONV:
    t[0] = (tensor_spec){"conv.weight", 1, 4, {a->oc, a->c, a->k, a->k}, &l->w, &l->dw};
    t[1] = (tensor_spec){"conv.bias", 1, 1, {a->oc}, &l->b, &l->db};
    return 2;
  case L_DWCONV:
    t[0] = (tensor_spec){"dwconv.weight", 1, 4, {a->c, 1, a->k, a->k}, &l->w, &l->dw};
    t[1] = (tensor_spec){"dwconv.bias", 1, 1, {a->c}, &l->b, &l->db};
    return 2;
  case L_DENSE:
    t[0] = (tensor_spec){"dense.weight", 1, 2, {a->oc, in}, &l->w, &l->dw};
    t[1] = (tensor_spec){"dense.bias", 1, 1, {a->oc}, &l->b, &l->db};
    return 2;
  case L_BN:
    t[0] = (tensor_spec){"bn.gamma", 1, 1, {a->c}, &l->w, &l->dw};
    t[1] = (tensor_spec){"bn.beta", 1, 1, {a->c}, &l->b, &l->db};
    t[2] = (tensor_spec){"bn.running_mean", 0, 1, {a->c}, &l->rmean, NULL};
    t[3] = (tensor_spec){"bn.running_var", 0, 1, {a->c}, &l->rvar, NULL};
    return 4;
  default:
    return 0;
  }
}

static size_t spec_count(const tensor_spec *t) {
  size_t n = 1;
  for (int d = 0; d < t->ndim; d++) n *= (size_t)t->dims[d];
  return n;
}

int net_build_tensors(nn_net *net) {
  tensor_spec t[4];
  size_t np = 0, ns = 0;
  int nt = 0;
  for (int i = 0; i < net->nl; i++) {
    layer *l = &net->L[i];
    int k = layer_tensors(l, t);
    for (int j = 0; j < k; j++) *(t[j].trainable ? &np : &ns) += spec_count(&t[j]);
    if (l->a.kind == L_BN) ns += 2 * (size_t)l->a.c; /* batch mean, invstd */
    nt += k;
  }
  net->nparams = np;
  net->nstate = ns;
  net->ntensors = nt;
  net->params = calloc(np ? np : 1, sizeof(float));
  net->grads = calloc(np ? np : 1, sizeof(float));
  net->state = calloc(ns ? ns : 1, sizeof(float));
  net->tensors = calloc(nt ? nt : 1, sizeof *net->tensors);
  net->names = calloc(nt ? nt : 1, sizeof *net->names);
  if (!net->params || !net->grads || !net->state || !net->tensors || !net->names) return -1;
  size_t po = 0, so = 0;
  nt = 0;
  for (int i = 0; i < net->nl; i++) {
    layer *l = &net->L[i];
    int k = layer_tensors(l, t);
    for (int j = 0; j < k; j++, nt++) {
      nn_tensor *x = &net->tensors[nt];
      size_t count = spec_count(&t[j]);
      snprintf(net->names[nt], sizeof net->names[nt], "%d.%s", i, t[j].what);
      x->name = net->names[nt];
      x->layer = i;
      x->ndim = t[j].ndim;
      memcpy(x->dims, t[j].dims, sizeof x->dims);
      x->count = count;
      if (t[j].trainable) {
        x->data = net->params + po;
        x->grad = net->grads + po;
        *t[j].grad = x->grad;
        po += count;
      } else {
        x->data = net->state + so;
        so += count;
      }
      *t[j].data = x->data;
    }
    if (l->a.kind == L_BN) {
      l->bmean = net->state + so;
      l->binvstd = net->state + so + l->a.c;
      so += 2 * (size_t)l->a.c;
    }
  }
  return 0;
}

void nn_net_init_params(nn_net *net, uint64_t seed) {
  nn_rng r;
  rng_seed(&r, seed);
  for (int i = 0; i < net->nl; i++) {
    layer *l = &net->L[i];
    const arch_layer *a = &l->a;
    size_t wn = 0;
    double fan_in = 1.0;
    switch (a->kind) {
    case L_CONV:
      wn = (size_t)a->oc * a->c * a->k * a->k;
      fan_in = (double)a->c * a->k * a->k;
      break;
    case L_DWCONV:
      wn = (size_t)a->c * a->k * a->k;
      fan_in = (double)a->k * a->k;
      break;
    case L_DENSE:
      wn = (size_t)a->oc * a->c * a->h * a->w;
      fan_in = (double)a->c * a->h * a->w;
      break;
    case L_BN:
      for (int c = 0; c < a->c; c++) {
        l->w[c] = 1.0f, l->b[c] = 0.0f, l->rmean[c] = 0.0f, l->rvar[c] = 1.0f;
      }
      continue;
    default:
      continue;
    }
    /* He-normal: std sqrt(2 / fan_in) keeps ReLU activations' scale */
    double std = sqrt(2.0 / fan_in);
    for (size_t k = 0; k < wn; k++) l->w[k] = (float)(std * rng_normal(&r));
    memset(l->b, 0, sizeof(float) * (a->kind == L_DWCONV ? a->c : a->oc));
  }
}

int nn_net_num_tensors(const nn_net *net) { return net->ntensors; }

nn_tensor nn_net_tensor(const nn_net *net, int i) {
  if (i < 0 || i >= net->ntensors) return (nn_tensor){0};
  return net->tensors[i];
}

int nn_net_copy_matching(nn_net *dst, const nn_net *src) {
  int copied = 0;
  for (int i = 0; i < dst->ntensors; i++) {
    nn_tensor *d = &dst->tensors[i];
    for (int j = 0; j < src->ntensors; j++) {
      const nn_tensor *s = &src->tensors[j];
      if (strcmp(d->name, s->name) || d->ndim != s->ndim ||
          memcmp(d->dims, s->dims, sizeof(int) * (size_t)d->ndim))
        continue;
      memcpy(d->data, s->data, sizeof(float) * d->count);
      copied++;
      break;
    }
  }
  return copied;
}

size_t nn_net_param_count(const nn_net *net) { return net->nparams; }

static double layer_macs(const arch_layer *a) {
  switch (a->kind) {
  case L_CONV: return (double)a->oc * a->c * a->k * a->k * a->oh * a->ow;
  case L_DWCONV: return (double)a->c * a->k * a->k * a->oh * a->ow;
  case L_DENSE: return (double)a->oc * a->c * a->h * a->w;
  default: return 0.0;
  }
}

double nn_net_macs_per_image(const nn_net *net) {
  double m = 0.0;
  for (int i = 0; i < net->nl; i++) m += layer_macs(&net->L[i].a);
  return m;
}

/* y' = gamma (W x + b - mean) / sqrt(var + eps) + beta, so per output
 * channel: W' = W s, b' = (b - mean) s + beta with s = gamma / sqrt(var + eps) */
int nn_net_fold_batchnorm(nn_net *net, char *err, size_t errlen) {
  (void)err, (void)errlen;
  if (net->folded) return 0;
  for (int i = 1; i < net->nl; i++) {
    layer *bn = &net->L[i], *cv = &net->L[i - 1];
    if (bn->a.kind != L_BN || (cv->a.kind != L_CONV && cv->a.kind != L_DWCONV)) continue;
    int C = bn->a.c;
    size_t per = (size_t)(cv->a.kind == L_CONV ? cv->a.c : 1) * cv->a.k * cv->a.k;
    for (int c = 0; c < C; c++) {
      float s = bn->w[c] / sqrtf(bn->rvar[c] + BN_EPS);
      for (size_t k = 0; k < per; k++) cv->w[c * per + k] *= s;
      cv->b[c] = (cv->b[c] - bn->rmean[c]) * s + bn->b[c];
    }
    bn->skip = 1;
  }
  /* fuse a ReLU into the conv before it (through a folded bn) */
  for (int i = 1; i < net->nl; i++) {
    if (net->L[i].a.kind != L_RELU) continue;
    int j = i - 1;
    while (j > 0 && net->L[j].skip) j--;
    if (net->L[j].a.kind == L_CONV || net->L[j].a.kind == L_DWCONV) {
      net->L[j].fuse_relu = 1;
      net->L[i].skip = 1;
    }
  }
  net->folded = 1;
  net->training = 0;
  return 0;
}

int net_is_folded(const nn_net *net) { return net->folded; }

/* appends to buf like snprintf, tracking the length needed */
static void put(char *buf, size_t len, size_t *at, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *dst = *at < len ? buf + *at : NULL;
  int n = vsnprintf(dst, dst ? len - *at : 0, fmt, ap);
  va_end(ap);
  if (n > 0) *at += (size_t)n;
}

size_t nn_net_summary(const nn_net *net, char *buf, size_t len) {
  size_t at = 0;
  if (len) buf[0] = '\0';
  put(buf, len, &at, "%-5s %-8s %-16s %10s %12s\n", "layer", "kind", "output", "params", "MACs");
  put(buf, len, &at, "%-5s %-8s %4d x %3d x %-5d %10s %12s\n", "-", "input", net->arch.in_c,
      net->arch.in_h, net->arch.in_w, "", "");
  tensor_spec t[4];
  for (int i = 0; i < net->nl; i++) {
    layer *l = &net->L[i];
    size_t params = 0;
    int k = layer_tensors(l, t);
    for (int j = 0; j < k; j++)
      if (t[j].trainable) params += spec_count(&t[j]);
    put(buf, len, &at, "%-5d %-8s %4d x %3d x %-5d %10zu %12.0f%s\n", i,
        layer_kind_names[l->a.kind], l->a.oc, l->a.oh, l->a.ow, params, layer_macs(&l->a),
        l->skip ? " (folded)" : l->fuse_relu ? " (+relu)" : "");
  }
  put(buf, len, &at, "total: %zu parameters, %.1f M multiply-adds per image\n", net->nparams,
      nn_net_macs_per_image(net) / 1e6);
  if (len) buf[at < len ? at : len - 1] = '\0';
  return at;
}
