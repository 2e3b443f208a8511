/* swa: stochastic weight averaging (--swa N) for a training session. */
#include <stdlib.h>
#include <string.h>

#include "common/rng.h"
#include "training/session_internal.h"

/* The weights at the end of each of the last N epochs are averaged, with the
 * learning rate held where those epochs begin (Izmailov et al. 2018): the
 * mean lies nearer the middle of the region the late epochs wander in, which
 * tends to generalise better than any single epoch. */

/* The first averaged epoch, 0-based. */
int swa_begin(const train_config *cfg) { return cfg->epochs - cfg->swa_epochs; }

/* Adds the net's weights to the running mean. */
int swa_add(train_session *s) {
  nn_net *net = s->model.net;
  int n = nn_net_num_tensors(net);
  if (!s->swa && !(s->swa = calloc(n, sizeof(float *)))) return -1;
  float k = 1.0f / (float)(s->st.swa_count + 1);
  for (int i = 0; i < n; i++) {
    nn_tensor t = nn_net_tensor(net, i);
    if (!s->swa[i] && !(s->swa[i] = calloc(t.count, sizeof(float)))) return -1;
    for (size_t j = 0; j < t.count; j++) s->swa[i][j] += (t.data[j] - s->swa[i][j]) * k;
  }
  s->st.swa_count++;
  return 0;
}

/* Exchanges the net's weights with the mean (twice restores both). */
static void swa_swap(train_session *s) {
  for (int i = 0; i < nn_net_num_tensors(s->model.net); i++) {
    nn_tensor t = nn_net_tensor(s->model.net, i);
    for (size_t j = 0; j < t.count; j++) {
      float v = t.data[j];
      t.data[j] = s->swa[i][j];
      s->swa[i][j] = v;
    }
  }
}

/* Writes the mean beside the checkpoint, as a model file whose state text
 * says how many epochs it holds, so a resume can tell it matches. */
int swa_save(train_session *s, char *err, size_t errlen) {
  char state[64];
  snprintf(state, sizeof state, "swa_count=%d\n", s->st.swa_count);
  swa_swap(s);
  s->model.train_state = state;
  int rc = nn_model_save(s->swa_path, &s->model, NULL, err, errlen);
  s->model.train_state = NULL;
  swa_swap(s);
  return rc;
}

/* Whether a and b hold tensors of the same sizes in the same order. */
static int same_tensors(const nn_net *a, const nn_net *b) {
  if (nn_net_num_tensors(a) != nn_net_num_tensors(b)) return 0;
  for (int i = 0; i < nn_net_num_tensors(a); i++)
    if (nn_net_tensor(a, i).count != nn_net_tensor(b, i).count) return 0;
  return 1;
}

/* On --resume: the mean the checkpoint's run had built, or a fresh start
 * (with a warning) when it is missing, does not match, or no longer covers
 * the last --swa epochs because --epochs moved them. */
int swa_resume(train_session *s) {
  train_state *st = &s->st;
  if (st->swa_count == 0) return 0;
  int first = st->next_epoch - st->swa_count;
  nn_model m = {0};
  char err[NN_ERR_LEN];
  int count = -1, ok = 0;
  if (first < swa_begin(&st->cfg)) {
    session_warn(s, "--swa: the run now ends at epoch %d, so the average restarts at epoch %d",
             st->cfg.epochs, swa_begin(&st->cfg) + 1);
  } else if (nn_model_load(s->swa_path, &m, 1, NULL, err, sizeof err) != 0) {
    session_warn(s, "%s; the weight average restarts", err);
  } else if (!m.train_state || sscanf(m.train_state, "swa_count=%d", &count) != 1 ||
             count != st->swa_count || !same_tensors(m.net, s->model.net)) {
    session_warn(s, "%s does not match the checkpoint; the weight average restarts", s->swa_path);
  } else {
    ok = 1;
  }
  if (ok) {
    int n = nn_net_num_tensors(m.net);
    if (!(s->swa = calloc(n, sizeof(float *)))) ok = 0;
    for (int i = 0; ok && i < n; i++) {
      nn_tensor t = nn_net_tensor(m.net, i);
      if (!(s->swa[i] = malloc(sizeof(float) * t.count))) ok = 0;
      else memcpy(s->swa[i], t.data, sizeof(float) * t.count);
    }
    if (!ok) {
      nn_model_free(&m);
      return -1;
    }
  } else {
    st->swa_count = 0;
  }
  nn_model_free(&m);
  return 0;
}

/* After the last epoch: the mean in the net, batch norm's running statistics
 * re-estimated for it (they belong to no single epoch's weights) over the
 * training set in a seeded order, then kept in place of the best epoch if it
 * scores better on val, or always without val. */
int swa_finish(train_session *s, char *err, size_t errlen) {
  const train_config *cfg = &s->st.cfg;
  nn_net *net = s->model.net;
  const dataset *d = &s->train;
  const size_t sample = (size_t)d->c * d->h * d->w;
  const int B = cfg->batch;
  swa_swap(s);
  uint64_t rng = cfg->seed ^ 0x5A5A5A5A12345678ull;
  for (int i = 0; i < d->n; i++) s->order[i] = i;
  rng_shuffle(s->order, d->n, &rng);
  nn_net_set_training(net, 1);
  /* whole batches only (a last small one would weigh as much as a full one
   * in the running statistics), unless the set is smaller than a batch */
  for (int b = 0; b == 0 || b + B <= d->n; b += B) {
    int m = d->n - b < B ? d->n - b : B;
    for (int i = 0; i < m; i++)
      memcpy(s->batch_x + sample * i, d->x + sample * s->order[b + i], sizeof(float) * sample);
    if (nn_net_forward(net, s->batch_x, m, s->batch_probs) != 0) {
      snprintf(err, errlen, "--swa: batch norm re-estimation failed");
      return -1;
    }
  }
  nn_net_set_training(net, 0);
  int first = s->st.next_epoch - s->st.swa_count + 1, last = s->st.next_epoch;
  int keep = 1;
  char line[512];
  int used = snprintf(line, sizeof line,
                      "swa: mean of the weights of epochs %d-%d (%d), batch norm re-estimated",
                      first, last, s->st.swa_count);
  if (s->val_n > 0) {
    epoch_record rec;
    if (session_validate(s, &rec) != 0) {
      snprintf(err, errlen, "validation failed");
      return -1;
    }
    keep = rec.val_acc > s->st.best_val_acc;
    s->swa_val_acc = rec.val_acc;
    snprintf(line + used, sizeof line - (size_t)used,
             ": val loss %.4f acc %.2f%% macro-F1 %.4f against %.2f%% at epoch %d: %s",
             rec.val_loss, 100 * rec.val_acc, rec.val_macro_f1, 100 * s->st.best_val_acc,
             s->st.best_epoch, keep ? "kept" : "the best epoch kept");
    if (keep) s->st.best_val_acc = rec.val_acc;
  }
  session_say(s, "%s", line);
  s->swa_kept = keep;
  if (!keep) {
    session_restore_best(s);
    return 0;
  }
  if (session_keep_best(s, net) != 0) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  return 0;
}

