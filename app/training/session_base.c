/* session_base: what every part of a training session stands on (session.c,
 * setup.c, swa.c, finish.c): telling the observer, validating the model on
 * the validation set, and keeping the best weights so far. It calls none of
 * those parts back. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/metrics.h"
#include "training/session_internal.h"

/* ---- the observer --------------------------------------------------------- */

static void tell(void (*fn)(void *, const char *), void *user, const char *fmt, va_list ap) {
  char line[8192];
  vsnprintf(line, sizeof line, fmt, ap);
  if (fn) fn(user, line);
}

void session_say(train_session *s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  tell(s->obs.message, s->obs.user, fmt, ap);
  va_end(ap);
}

void session_warn(train_session *s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  tell(s->obs.warning, s->obs.user, fmt, ap);
  va_end(ap);
}

/* ---- validation and the best weights ------------------------------------- */

int session_validate(train_session *s, epoch_record *rec) {
  nn_net *net = s->model.net;
  const int K = s->model.num_classes, B = s->st.cfg.batch;
  const size_t sample = (size_t)nn_net_input_c(net) * nn_net_input_h(net) * nn_net_input_w(net);
  nn_net_set_training(net, 0);
  double loss = 0;
  for (int b = 0; b < s->val_n; b += B) {
    int m = s->val_n - b < B ? s->val_n - b : B;
    if (nn_net_forward(net, s->val_x + sample * b, m, s->val_probs + (size_t)b * K) != 0) return -1;
    memcpy(s->val_logits + (size_t)b * K, nn_net_logits(net), sizeof(float) * m * K);
  }
  for (int i = 0; i < s->val_n; i++)
    loss -= log(fmax(s->val_probs[(size_t)i * K + s->val_y[i]], 1e-12));
  metrics_report mr;
  if (metrics_compute(&mr, K, s->val_n, s->val_y, s->val_probs) != METRICS_OK) return -1;
  rec->val_loss = (float)(loss / s->val_n);
  rec->val_acc = (float)mr.accuracy;
  rec->val_macro_f1 = (float)mr.macro_f1;
  metrics_free(&mr);
  return 0;
}

int session_keep_best(train_session *s, const nn_net *net) {
  int n = nn_net_num_tensors(net);
  if (!s->best && !(s->best = calloc(n, sizeof(float *)))) return -1;
  for (int i = 0; i < n; i++) {
    nn_tensor t = nn_net_tensor(net, i);
    if (!s->best[i] && !(s->best[i] = malloc(sizeof(float) * t.count))) return -1;
    memcpy(s->best[i], t.data, sizeof(float) * t.count);
  }
  return 0;
}

void session_restore_best(train_session *s) {
  if (!s->best) return;
  for (int i = 0; i < nn_net_num_tensors(s->model.net); i++) {
    nn_tensor t = nn_net_tensor(s->model.net, i);
    memcpy(t.data, s->best[i], sizeof(float) * t.count);
  }
}

