/* net: building a network from architecture text, its buffers, the forward
 * pass (inference and training), and one training step's backward pass.
 * Buffers are sized once: inference buffers in nn_net_create, training
 * buffers (per-layer activations kept for backward, gradients) on the first
 * training forward. Nothing is allocated per pass. */
#include "net.h"

#include "fusion.h"
#include "layer_ops.h"
#include "loss.h"
#include "threads.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DROPOUT_SEED_SALT 0xD50F0A7D00000001ull

static int fail(char *err, size_t errlen, const char *src, const char *msg) {
  if (err && errlen) snprintf(err, errlen, "%s: %s", src, msg);
  return -1;
}

/* Layers that may overwrite their input in place: the input is not needed
 * by anyone's backward. Never layer 0, whose input is the caller's const
 * batch. */
static int in_place(const layer *l, int i) {
  return i > 0 && l->a.src == i - 1 && l[-1].readers == 1 && layer_ops_of(l->a.kind)->in_place;
}

static layer_needs needs_of(const layer *l, int max_batch) {
  layer_needs need = {0};
  const layer_ops *op = layer_ops_of(l->a.kind);
  if (op->needs) op->needs(l, max_batch, &need);
  return need;
}

static int alloc_workspace(nn_net *net) {
  size_t col = 0, wflip = 0;
  for (int i = 0; i < net->nl; i++) {
    layer_needs need = needs_of(&net->L[i], net->max_batch);
    col = need.col > col ? need.col : col;
    wflip = need.wflip > wflip ? need.wflip : wflip;
  }
  int t = nn_get_threads();
  net->ws.threads = t;
  net->ws.col_size = col;
  net->ws.wflip_size = wflip;
  net->ws.col = calloc((size_t)t, sizeof(float *));
  net->ws_arena = malloc(sizeof(float) * (col * (size_t)t + wflip + 1));
  if (!net->ws.col || !net->ws_arena) return -1;
  for (int i = 0; i < t; i++) net->ws.col[i] = net->ws_arena + (size_t)i * col;
  net->ws.wflip = net->ws_arena + (size_t)t * col;
  return 0;
}

/* A net with branches: an output buffer per layer (before the softmax). */
static int alloc_dag_outputs(nn_net *net) {
  size_t total = 0, B = (size_t)net->max_batch;
  for (int i = 0; i < net->nl - 1; i++) total += B * (size_t)layer_out_size(&net->L[i]);
  net->val = calloc((size_t)net->nl, sizeof *net->val);
  net->grad_of = calloc((size_t)net->nl, sizeof *net->grad_of);
  net->dag_arena = malloc(sizeof(float) * (total ? total : 1));
  if (!net->val || !net->grad_of || !net->dag_arena) return -1;
  float *at = net->dag_arena;
  for (int i = 0; i < net->nl - 1; i++) {
    net->L[i].act = at;
    at += B * (size_t)layer_out_size(&net->L[i]);
  }
  return 0;
}

int nn_net_create(nn_net **out, const char *arch_text, const char *source_name, int num_classes,
                  int max_batch, uint64_t seed, char *err, size_t errlen) {
  *out = NULL;
  const char *src = source_name ? source_name : "<arch>";
  if (max_batch < 1 || max_batch > 65536)
    return fail(err, errlen, src, "max_batch must be 1..65536");
  nn_net *net = calloc(1, sizeof *net);
  if (!net) return fail(err, errlen, src, "out of memory");
  if (arch_parse(&net->arch, arch_text, src, num_classes, err, errlen)) {
    free(net);
    return -1;
  }
  net->arch_text = strdup(arch_text);
  net->nl = net->arch.n;
  net->L = calloc((size_t)net->nl, sizeof *net->L);
  net->num_classes = net->arch.num_classes;
  net->max_batch = max_batch;
  net->temperature = 1.0f;
  if (!net->arch_text || !net->L) goto oom;
  size_t feat = (size_t)net->arch.in_c * net->arch.in_h * net->arch.in_w;
  for (int i = 0; i < net->nl; i++) {
    layer *l = &net->L[i];
    l->a = net->arch.layers[i];
    /* the padding the line gives (v2), else convolutions' K/2, pooling's 0 */
    int conv = l->a.kind == L_CONV || l->a.kind == L_DWCONV;
    l->pad = l->a.pad >= 0 ? l->a.pad : conv ? l->a.k / 2 : 0;
    size_t o = (size_t)layer_out_size(l);
    feat = o > feat ? o : feat;
  }
  net->max_feat = feat;
  for (int i = 0; i < net->nl; i++) {
    const arch_layer *a = &net->L[i].a;
    if (a->src >= 0) net->L[a->src].readers++;
    if (a->src2 >= 0) net->L[a->src2].readers++;
    net->dag |= a->src != i - 1 || a->src2 != -2;
  }
  fusion_plan(net->L, net->nl);
  if (net_build_tensors(net) || alloc_workspace(net)) goto oom;
  size_t act = (size_t)max_batch * feat, cls = (size_t)max_batch * net->num_classes;
  net->ping = malloc(sizeof(float) * act);
  net->pong = malloc(sizeof(float) * act);
  net->logits = calloc(cls, sizeof(float));
  net->dlogits = calloc(cls, sizeof(float));
  if (!net->ping || !net->pong || !net->logits || !net->dlogits) goto oom;
  if (net->dag && alloc_dag_outputs(net)) goto oom;
  nn_net_init_params(net, seed);
  rng_seed(&net->dropout_rng, seed ^ DROPOUT_SEED_SALT);
  *out = net;
  return 0;
oom:
  nn_net_destroy(net);
  return fail(err, errlen, src, "out of memory allocating the network's buffers");
}

void nn_net_destroy(nn_net *net) {
  if (!net) return;
  free(net->arch_text);
  arch_free(&net->arch);
  free(net->L);
  free(net->params);
  free(net->grads);
  free(net->state);
  free(net->tensors);
  free(net->names);
  free(net->ping);
  free(net->pong);
  free(net->logits);
  free(net->dlogits);
  free(net->ws.col);
  free(net->ws_arena);
  free(net->train_arena);
  free(net->val);
  free(net->grad_of);
  free(net->dag_arena);
  free(net);
}

/* Training buffers: each layer's output (an in-place layer shares its
 * input's) and what it saves for backward (maxpool argmax, dropout masks),
 * two gradient buffers, the input gradient, the conv layers' per-chunk
 * weight gradient slots and bn's per-sample sums. */
static int ensure_training_buffers(nn_net *net) {
  if (net->train_arena) return 0;
  size_t B = (size_t)net->max_batch, total = 0, slots = 0, bn_part = 0;
  for (int i = 0; i < net->nl; i++) {
    layer_needs need = needs_of(&net->L[i], net->max_batch);
    slots = need.slots > slots ? need.slots : slots;
    bn_part = need.bn_part > bn_part ? need.bn_part : bn_part;
  }
  for (int pass = 0; pass < 2; pass++) {
    float *base = net->train_arena;
    size_t at = 0;
#define TAKE(n) (base ? base + (at += (n)) - (n) : (at += (n), NULL))
    for (int i = 0; i < net->nl - 1; i++) {
      layer *l = &net->L[i];
      size_t o = B * (size_t)layer_out_size(l), saved = needs_of(l, net->max_batch).saved;
      if (net->dag) net->grad_of[i] = TAKE(o); /* its output is already its own */
      else l->act = in_place(l, i) ? net->L[i - 1].act : TAKE(o);
      if (saved) l->saved = TAKE(saved); /* ints or floats: the same size */
    }
    if (net->dag) {
      net->gtmp = TAKE(B * net->max_feat);
      net->gtmp2 = TAKE(B * net->max_feat);
    }
    net->gA = TAKE(B * net->max_feat);
    net->gB = TAKE(B * net->max_feat);
    net->input_grad = TAKE(B * (size_t)net->arch.in_c * net->arch.in_h * net->arch.in_w);
    net->ws.slots = TAKE(slots);
    net->ws.bn_part = TAKE(bn_part);
#undef TAKE
    total = at;
    if (pass == 0) {
      net->train_arena = calloc(total, sizeof(float));
      if (!net->train_arena) return -1;
    }
  }
  return 0;
}

/* Runs layers 0..nl-2 (the softmax is applied by the caller). Training uses
 * the per-layer buffers; inference alternates ping/pong. Returns the logits. */
static const float *run_forward(nn_net *net, const float *x, int n, int train) {
  const float *in = x, *pre_in = NULL; /* pre_in: a deferring bn's input */
  const layer *pre = NULL;
  if (train && net->fixed_dropout) rng_seed(&net->dropout_rng, net->fixed_dropout_seed);
  for (int i = 0; i < net->nl - 1; i++) {
    layer *l = &net->L[i];
    const layer_ops *op = layer_ops_of(l->a.kind);
    /* identity: nothing is run or written */
    int passes = l->skip || l->relu_fused || (!train && op->inference_identity);
    float *out;
    if (train)
      out = l->act;
    else if (passes || (in_place(l, i) && in != x))
      out = (float *)in;
    else
      out = in == net->ping ? net->pong : net->ping;
    l->deferred = train && fusion_defers_map(net->L, net->nl, i, n);
    if (!passes && op->forward) {
      layer_fwd f = {.out = l->deferred ? NULL : out,
                     .in = pre ? pre_in : in,
                     .n = n,
                     .train = train,
                     .batch_stats = train && i >= net->frozen,
                     .pre = pre,
                     .ws = &net->ws,
                     .rng = &net->dropout_rng};
      op->forward(l, &f);
      pre = NULL;
    }
    if (l->deferred) pre = l, pre_in = in;
    in = out;
  }
  return in;
}

/* The same for a net with branches: each layer reads its `src` (and `src2`)
 * from where those layers' outputs are in this pass, and writes its own
 * buffer; layers that pass their input through (a relu fused into its bn, a
 * folded bn, dropout at inference) point at it instead. */
static const float *run_forward_dag(nn_net *net, const float *x, int n, int train) {
  if (train && net->fixed_dropout) rng_seed(&net->dropout_rng, net->fixed_dropout_seed);
  for (int i = 0; i < net->nl - 1; i++) {
    layer *l = &net->L[i];
    const layer_ops *op = layer_ops_of(l->a.kind);
    const float *in = l->a.src < 0 ? x : net->val[l->a.src];
    const float *in2 = l->a.src2 == -2 ? NULL : l->a.src2 < 0 ? x : net->val[l->a.src2];
    l->deferred = 0;
    if (l->skip || l->relu_fused || (!train && op->inference_identity) || !op->forward) {
      net->val[i] = in;
      continue;
    }
    layer_fwd f = {.out = l->act, .in = in, .n = n, .train = train,
                   .batch_stats = train && i >= net->frozen, .ws = &net->ws,
                   .rng = &net->dropout_rng, .in2 = in2};
    op->forward(l, &f);
    net->val[i] = l->act;
  }
  return net->val[net->nl - 2];
}

/* g += d, count floats */
static void add_into(float *g, const float *d, size_t count) {
  for (size_t i = 0; i < count; i++) g[i] += d[i];
}

/* Backward over branches: each layer's output gradient is the sum of what
 * its readers send back, so every layer first computes its input gradients
 * into scratch and adds them into the gradients of the layers it reads. */
static void run_backward_dag(nn_net *net, const float *x, int n) {
  (void)x;
  int lowest = net->want_input_grad ? 0 : net->frozen, last = net->nl - 2;
  size_t in_count = (size_t)n * net->arch.in_c * net->arch.in_h * net->arch.in_w;
  for (int i = 0; i <= last; i++)
    memset(net->grad_of[i], 0, sizeof(float) * (size_t)n * layer_out_size(&net->L[i]));
  memcpy(net->grad_of[last], net->dlogits, sizeof(float) * (size_t)n * net->num_classes);
  if (net->want_input_grad) memset(net->input_grad, 0, sizeof(float) * in_count);
  for (int i = last; i >= lowest; i--) {
    layer *l = &net->L[i];
    const layer_ops *op = layer_ops_of(l->a.kind);
    int src = l->a.src, src2 = l->a.src2;
    /* where each input's gradient goes; NULL: not wanted (below the lowest
     * layer that learns, or the input when its gradient is not asked for) */
    float *to1 = src >= lowest ? net->grad_of[src] : src == -1 && net->want_input_grad ? net->input_grad : NULL;
    float *to2 = src2 == -2 ? NULL : src2 >= lowest ? net->grad_of[src2]
                 : src2 == -1 && net->want_input_grad ? net->input_grad : NULL;
    size_t n1 = src < 0 ? in_count : (size_t)n * layer_out_size(&net->L[src]);
    size_t n2 = src2 == -2 ? 0 : src2 < 0 ? in_count : (size_t)n * layer_out_size(&net->L[src2]);
    const float *dout = net->grad_of[i];
    if (l->relu_fused || !op->backward) { /* passes dout on (a fused relu: its bn masks it) */
      if (to1) add_into(to1, dout, n1);
      continue;
    }
    if (!to1 && !to2 && !l->w) continue; /* nothing to learn here or below */
    layer_bwd b = {.din = to1 ? net->gtmp : NULL,
                   .dout = dout,
                   .in = src < 0 ? x : net->val[src],
                   .out = net->val[i],
                   .n = n,
                   .param_grads = i >= net->frozen,
                   .batch_stats = i >= net->frozen,
                   .ws = &net->ws,
                   .in2 = src2 == -2 ? NULL : src2 < 0 ? x : net->val[src2],
                   .din2 = to2 ? net->gtmp2 : NULL};
    if (!b.din && !l->w && !op->merge) continue;
    op->backward(l, &b);
    if (to1) add_into(to1, net->gtmp, n1);
    if (to2) add_into(to2, net->gtmp2, n2);
  }
  net->has_input_grad = net->want_input_grad;
}

/* From dL/dlogits back to the lowest layer with trainable parameters (its
 * input gradient skipped), or to dL/dx when it is wanted; parameter
 * gradients of frozen layers are left at zero. */
static void run_backward(nn_net *net, const float *x, int n) {
  const float *dout = net->dlogits;
  int lowest = net->want_input_grad ? 0 : net->frozen;
  bn_grad left;               /* a bn's input gradient left to the layer before */
  const bn_grad *post = NULL; /* &left for that layer */
  for (int i = net->nl - 2; i >= lowest; i--) {
    layer *l = &net->L[i];
    if (l->relu_fused) continue; /* the bn before masks dout itself */
    int want_din = i > lowest || net->want_input_grad;
    if (!want_din && !l->w) break; /* no parameters: nothing left to learn */
    const float *in = i == 0 ? x : net->L[i - 1].act;
    /* a layer after a deferring bn (i - 2) reads the bn's input */
    const layer *pre = i >= 2 && net->L[i - 2].deferred ? &net->L[i - 2] : NULL;
    if (pre) in = i == 2 ? x : net->L[i - 3].act;
    float *din = !want_din ? NULL : i == 0 ? net->input_grad : dout == net->gA ? net->gB : net->gA;
    int leaves = din && fusion_leaves_grad(net->L, net->nl, i, n);
    layer_bwd b = {.din = din,
                   .dout = dout,
                   .in = in,
                   .out = l->act,
                   .n = n,
                   .param_grads = i >= net->frozen,
                   .batch_stats = i >= net->frozen,
                   .pre = pre,
                   .post = post,
                   .leave = leaves ? &left : NULL,
                   .ws = &net->ws};
    const layer_ops *op = layer_ops_of(l->a.kind);
    if (op->backward) op->backward(l, &b);
    post = leaves ? &left : NULL;
    dout = leaves ? dout : din; /* the layer before reads the bn's dy */
  }
  net->has_input_grad = net->want_input_grad;
}

int nn_net_forward(nn_net *net, const float *x, int n, float *probs) {
  if (!net || !x || !probs || n < 1 || n > net->max_batch) return -1;
  int train = net->training && !net->folded;
  if (train && ensure_training_buffers(net)) return -2;
  const float *logits = net->dag ? run_forward_dag(net, x, n, train) : run_forward(net, x, n, train);
  size_t cls = (size_t)n * net->num_classes;
  memcpy(net->logits, logits, sizeof(float) * cls);
  net->last_n = n;
  loss_softmax(probs, net->logits, n, net->num_classes, net->temperature);
  return 0;
}

const float *nn_net_logits(const nn_net *net) { return net->logits; }

float nn_net_train_batch(nn_net *net, const float *x, const int *labels, int n,
                         const nn_loss_opts *loss, float *probs_out) {
  if (!net || !x || !labels || n < 1 || n > net->max_batch || net->folded) return -1.0f;
  int K = net->num_classes;
  for (int i = 0; i < n; i++)
    if (labels[i] < 0 || labels[i] >= K) return -1.0f;
  const float *cw = loss ? loss->class_weights : NULL;
  float smoothing = loss ? loss->label_smoothing : 0.0f;
  if (!(smoothing >= 0.0f && smoothing < 1.0f)) return -1.0f;
  if (loss && loss->teacher && !(loss->teacher_weight >= 0.0f && loss->teacher_weight <= 1.0f))
    return -1.0f;
  if (cw)
    for (int k = 0; k < K; k++)
      if (!(cw[k] >= 0.0f)) return -1.0f;
  if (ensure_training_buffers(net)) return -2.0f;
  memset(net->grads, 0, sizeof(float) * net->nparams);
  const float *logits = net->dag ? run_forward_dag(net, x, n, 1) : run_forward(net, x, n, 1);
  size_t cls = (size_t)n * K;
  memcpy(net->logits, logits, sizeof(float) * cls);
  net->last_n = n;
  loss_softmax(net->dlogits, net->logits, n, K, 1.0f);
  if (probs_out) memcpy(probs_out, net->dlogits, sizeof(float) * cls);
  float l = loss_xent(net->dlogits, net->dlogits, labels, n, K, cw, smoothing,
                      loss ? loss->teacher : NULL, loss ? loss->teacher_weight : 0.0f);
  if (net->dag) run_backward_dag(net, x, n);
  else run_backward(net, x, n);
  return l;
}

void nn_net_want_input_grad(nn_net *net, int on) { net->want_input_grad = on != 0; }

const float *nn_net_input_grad(const nn_net *net) {
  return net->has_input_grad ? net->input_grad : NULL;
}

void net_fix_dropout(nn_net *net, int on, uint64_t seed) {
  net->fixed_dropout = on;
  net->fixed_dropout_seed = seed;
}

int nn_net_input_c(const nn_net *net) { return net->arch.in_c; }
int nn_net_input_h(const nn_net *net) { return net->arch.in_h; }
int nn_net_input_w(const nn_net *net) { return net->arch.in_w; }
int nn_net_num_classes(const nn_net *net) { return net->num_classes; }
int nn_net_max_batch(const nn_net *net) { return net->max_batch; }
int nn_net_num_layers(const nn_net *net) { return net->nl; }
const char *nn_net_arch_text(const nn_net *net) { return net->arch_text; }

int nn_net_layer(const nn_net *net, int i, nn_layer_info *out) {
  if (i < 0 || i >= net->nl) return -1;
  const arch_layer *a = &net->L[i].a;
  *out = (nn_layer_info){.kind = layer_ops_of(a->kind)->word, .out = a->out, .k = a->k,
                         .stride = a->s, .p = a->p, .c = a->c, .h = a->h, .w = a->w,
                         .pad = net->L[i].pad, .groups = a->groups > 1 ? a->groups : 1, .oc = a->oc, .oh = a->oh, .ow = a->ow, .src = a->src,
                         .src2 = a->src2 == -2 ? -2 : a->src2};
  return 0;
}

void nn_net_set_training(nn_net *net, int training) { net->training = training && !net->folded; }

void nn_net_set_frozen(nn_net *net, int n) {
  net->frozen = n < 0 ? 0 : n > net->nl ? net->nl : n;
}

int nn_net_frozen(const nn_net *net) { return net->frozen; }

void nn_net_set_temperature(nn_net *net, float t) {
  if (t > 0.0f) net->temperature = t;
}

float nn_net_temperature(const nn_net *net) { return net->temperature; }
