/* adamw: the AdamW optimizer (decoupled weight decay, bias correction) with
 * global-norm gradient clipping, and the warmup + cosine learning-rate
 * schedule. Per trainable element, with g the (clipped) gradient:
 * m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
 * p = p (1 - lr wd) - lr (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps),
 * the decay applying to conv and dense weights only (as torch.optim.AdamW
 * with those in a weight-decay group). */
#include "net.h"
#include "threads.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct nn_adamw {
  int ntensors;
  size_t total;
  float **m, **v; /* [ntensors]; NULL for non-trainable tensors */
  float *arena;   /* [2 * total] */
  int64_t steps;
};

void nn_adamw_defaults(nn_adamw_opts *o) {
  o->lr = 1e-3f;
  o->beta1 = 0.9f;
  o->beta2 = 0.999f;
  o->eps = 1e-8f;
  o->weight_decay = 1e-4f;
  o->clip_norm = 5.0f;
}

int nn_adamw_create(nn_adamw **out, const nn_net *net, char *err, size_t errlen) {
  *out = NULL;
  nn_adamw *o = calloc(1, sizeof *o);
  int n = nn_net_num_tensors(net);
  size_t total = 0;
  for (int i = 0; i < n; i++) {
    nn_tensor t = nn_net_tensor(net, i);
    if (t.grad) total += t.count;
  }
  if (o) {
    o->ntensors = n;
    o->total = total;
    o->m = calloc((size_t)n + 1, sizeof(float *));
    o->v = calloc((size_t)n + 1, sizeof(float *));
    o->arena = calloc(2 * total + 1, sizeof(float));
  }
  if (!o || !o->m || !o->v || !o->arena) {
    nn_adamw_destroy(o);
    if (err && errlen) snprintf(err, errlen, "adamw: out of memory for %zu moments", 2 * total);
    return -1;
  }
  size_t at = 0;
  for (int i = 0; i < n; i++) {
    nn_tensor t = nn_net_tensor(net, i);
    if (!t.grad) continue;
    o->m[i] = o->arena + at;
    o->v[i] = o->arena + total + at;
    at += t.count;
  }
  *out = o;
  return 0;
}

void nn_adamw_destroy(nn_adamw *o) {
  if (!o) return;
  free(o->m);
  free(o->v);
  free(o->arena);
  free(o);
}

static int decays(const char *name) {
  const char *dot = strchr(name, '.');
  return dot && (!strcmp(dot, ".conv.weight") || !strcmp(dot, ".dense.weight"));
}

typedef struct {
  float *m, *v, *p;
  const float *g;
  float scale, b1, b2, keep, step, sbc2, eps;
} update_job;

/* elements [begin, end) of one tensor; each element on its own, so the
 * split does not change the result */
static void update_part(void *ctx, int worker, int begin, int end) {
  const update_job *j = ctx;
  (void)worker;
  float b1 = j->b1, b2 = j->b2;
  for (int k = begin; k < end; k++) {
    float gk = j->g[k] * j->scale;
    j->m[k] = b1 * j->m[k] + (1.0f - b1) * gk;
    j->v[k] = b2 * j->v[k] + (1.0f - b2) * gk * gk;
    j->p[k] = j->p[k] * j->keep - j->step * j->m[k] / (sqrtf(j->v[k]) / j->sbc2 + j->eps);
  }
}

float nn_adamw_step(nn_adamw *o, nn_net *net, const nn_adamw_opts *opts) {
  if (!o || !net || !opts || o->ntensors != nn_net_num_tensors(net) || net_is_folded(net))
    return -1.0f;
  int frozen = nn_net_frozen(net);
  double sq = 0.0;
  for (int i = 0; i < o->ntensors; i++) {
    nn_tensor t = nn_net_tensor(net, i);
    if (!t.grad || t.layer < frozen) continue;
    for (size_t k = 0; k < t.count; k++) sq += (double)t.grad[k] * t.grad[k];
  }
  float norm = (float)sqrt(sq);
  float scale = 1.0f;
  if (opts->clip_norm > 0.0f && norm > opts->clip_norm) scale = opts->clip_norm / (norm + 1e-6f);
  o->steps++;
  float b1 = opts->beta1, b2 = opts->beta2, lr = opts->lr, eps = opts->eps;
  float bc1 = 1.0f - (float)pow(b1, (double)o->steps);
  float sbc2 = (float)sqrt(1.0 - pow(b2, (double)o->steps));
  float step = lr / bc1;
  for (int i = 0; i < o->ntensors; i++) {
    nn_tensor t = nn_net_tensor(net, i);
    if (!t.grad || t.layer < frozen) continue;
    float keep = decays(t.name) ? 1.0f - lr * opts->weight_decay : 1.0f;
    update_job j = {o->m[i], o->v[i], t.data, t.grad, scale, b1, b2, keep, step, sbc2, eps};
    int count = (int)t.count;
    par_for(count, par_parts(count, 20.0 * count), update_part, &j);
  }
  return norm;
}

int64_t nn_adamw_steps(const nn_adamw *o) { return o->steps; }
void nn_adamw_set_steps(nn_adamw *o, int64_t steps) { o->steps = steps < 0 ? 0 : steps; }

float *nn_adamw_m(nn_adamw *o, int i) { return i >= 0 && i < o->ntensors ? o->m[i] : NULL; }
float *nn_adamw_v(nn_adamw *o, int i) { return i >= 0 && i < o->ntensors ? o->v[i] : NULL; }

float nn_lr_warmup_cosine(float base, int64_t step, int64_t warmup, int64_t total,
                          float min_ratio) {
  if (step < 0) step = 0;
  if (warmup > 0 && step < warmup) return base * (float)step / (float)warmup;
  if (total <= warmup) return base;
  double progress = (double)(step - warmup) / (double)(total - warmup);
  if (progress > 1.0) progress = 1.0;
  double cosine = 0.5 * (1.0 + cos(3.14159265358979323846 * progress));
  return (float)(base * (min_ratio + (1.0 - min_ratio) * cosine));
}
