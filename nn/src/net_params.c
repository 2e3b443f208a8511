/* net_params: the parameters of a net: arenas and the named tensor table,
 * initialisation, copying between nets, batch-norm folding, and the summary
 * table with parameter and multiply-add counts. */
#include "fusion.h"
#include "layer_ops.h"
#include "net.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The tensors of layer l in file order, then its scratch; returns how many. */
static int layer_tensors(layer *l, tensor_spec *t) {
  const layer_ops *op = layer_ops_of(l->a.kind);
  return op->tensors ? op->tensors(l, t) : 0;
}

static size_t spec_count(const tensor_spec *t) {
  size_t n = 1;
  for (int d = 0; d < t->ndim; d++) n *= (size_t)t->dims[d];
  return n;
}

int net_build_tensors(nn_net *net) {
  tensor_spec t[LAYER_MAX_TENSORS];
  size_t np = 0, ns = 0;
  int nt = 0;
  for (int i = 0; i < net->nl; i++) {
    int k = layer_tensors(&net->L[i], t);
    for (int j = 0; j < k; j++) {
      *(t[j].role == TENSOR_PARAM ? &np : &ns) += spec_count(&t[j]);
      nt += t[j].role != TENSOR_SCRATCH;
    }
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
    int k = layer_tensors(&net->L[i], t);
    for (int j = 0; j < k; j++) {
      size_t count = spec_count(&t[j]);
      float *data = t[j].role == TENSOR_PARAM ? net->params + po : net->state + so;
      *t[j].data = data;
      if (t[j].role == TENSOR_PARAM) {
        *t[j].grad = net->grads + po;
        po += count;
      } else {
        so += count;
      }
      if (t[j].role == TENSOR_SCRATCH) continue;
      nn_tensor *x = &net->tensors[nt];
      snprintf(net->names[nt], sizeof net->names[nt], "%d.%s", i, t[j].what);
      x->name = net->names[nt];
      x->layer = i;
      x->ndim = t[j].ndim;
      memcpy(x->dims, t[j].dims, sizeof x->dims);
      x->count = count;
      x->data = data;
      x->grad = t[j].role == TENSOR_PARAM ? *t[j].grad : NULL;
      nt++;
    }
  }
  return 0;
}

void nn_net_init_params(nn_net *net, uint64_t seed) {
  nn_rng r;
  rng_seed(&r, seed);
  tensor_spec t[LAYER_MAX_TENSORS];
  for (int i = 0; i < net->nl; i++) {
    int k = layer_tensors(&net->L[i], t);
    for (int j = 0; j < k; j++) {
      float *v = *t[j].data;
      size_t count = spec_count(&t[j]);
      if (t[j].init == INIT_HE) {
        /* He-normal: std sqrt(2 / fan_in) keeps ReLU activations' scale */
        double fan_in = (double)count / t[j].dims[0];
        double std = sqrt(2.0 / fan_in);
        for (size_t e = 0; e < count; e++) v[e] = (float)(std * rng_normal(&r));
      } else {
        float value = t[j].init == INIT_ONE ? 1.0f : 0.0f;
        for (size_t e = 0; e < count; e++) v[e] = value;
      }
    }
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
  const layer_ops *op = layer_ops_of(a->kind);
  return op->macs ? op->macs(a) : 0.0;
}

double nn_net_macs_per_image(const nn_net *net) {
  double m = 0.0;
  for (int i = 0; i < net->nl; i++) m += layer_macs(&net->L[i].a);
  return m;
}

int nn_net_fold_batchnorm(nn_net *net, char *err, size_t errlen) {
  (void)err, (void)errlen;
  if (net->folded) return 0;
  fusion_fold(net->L, net->nl);
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
  tensor_spec t[LAYER_MAX_TENSORS];
  for (int i = 0; i < net->nl; i++) {
    layer *l = &net->L[i];
    size_t params = 0;
    int k = layer_tensors(l, t);
    for (int j = 0; j < k; j++)
      if (t[j].role == TENSOR_PARAM) params += spec_count(&t[j]);
    put(buf, len, &at, "%-5d %-8s %4d x %3d x %-5d %10zu %12.0f%s\n", i,
        layer_ops_of(l->a.kind)->word, l->a.oc, l->a.oh, l->a.ow, params, layer_macs(&l->a),
        l->skip ? " (folded)" : l->fuse_relu ? " (+relu)" : "");
  }
  put(buf, len, &at, "total: %zu parameters, %.1f M multiply-adds per image\n", net->nparams,
      nn_net_macs_per_image(net) / 1e6);
  if (len) buf[at < len ? at : len - 1] = '\0';
  return at;
}
