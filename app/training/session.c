/* session: the epoch loop, one batch at a time: augmentation, the AdamW step
 * on a warmup + cosine schedule, early stopping, checkpoints, and the
 * finish (best epoch or weight average, calibration, the model written
 * atomically). Setting up (setup.c), weight averaging (swa.c) and the
 * finish's logs and calibration (finish.c) are parts of it that stand on
 * session_base.c, as this file does. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/classifier.h"
#include "common/clock.h"
#include "common/rng.h"
#include "training/augment.h"
#include "training/session_internal.h"

/* ---- the observer --------------------------------------------------------- */

int session_progress(train_session *s, const train_progress *p) {
  if (s->obs.progress && s->obs.progress(s->obs.user, p)) atomic_store(&s->stop, 1);
  return atomic_load(&s->stop);
}

void train_session_stop(train_session *s) { atomic_store(&s->stop, 1); }

/* ---- lifecycle ------------------------------------------------------------ */

static train_session *session_new(const train_observer *obs) {
  train_session *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  if (obs) s->obs = *obs;
  atomic_init(&s->stop, 0);
  s->swa_val_acc = NAN;
  return s;
}

int train_session_create(train_session **out, const train_config *cfg, const train_inputs *in,
                         const train_observer *obs, char *err, size_t errlen) {
  *out = NULL;
  train_session *s = session_new(obs);
  if (!s) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  s->st.cfg = *cfg;
  if (session_setup_fresh(s, in, err, errlen) != 0) {
    train_session_destroy(s);
    return -1;
  }
  *out = s;
  return 0;
}

int train_session_resume(train_session **out, const char *path, int epochs,
                         const train_observer *obs, char *err, size_t errlen) {
  *out = NULL;
  train_session *s = session_new(obs);
  if (!s) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  if (session_setup_resume(s, path, epochs, err, errlen) != 0) {
    train_session_destroy(s);
    return -1;
  }
  *out = s;
  return 0;
}

void train_session_destroy(train_session *s) {
  if (!s) return;
  train_state_free(&s->st);
  free(s->metadata);
  nn_net_destroy(s->teacher);
  free(s->teacher_probs);
  dataset_free(&s->train);
  dataset_free(&s->val_own);
  free(s->split_x);
  free(s->split_y);
  int tensors = s->model.net ? nn_net_num_tensors(s->model.net) : 0;
  for (int i = 0; s->best && i < tensors; i++) free(s->best[i]);
  free(s->best);
  for (int i = 0; s->swa && i < tensors; i++) free(s->swa[i]);
  free(s->swa);
  nn_model_free(&s->model);
  nn_adamw_destroy(s->opt);
  free(s->class_weights);
  free(s->batch_x);
  free(s->batch_probs);
  free(s->val_probs);
  free(s->val_logits);
  free(s->batch_y);
  free(s->order);
  free(s);
}

const char *train_session_checkpoint_path(const train_session *s) { return s->ckpt_path; }
const nn_model *train_session_model(const train_session *s) { return &s->model; }
const train_state *train_session_state(const train_session *s) { return &s->st; }

/* ---- checkpoints ------------------------------------------------------------ */

int session_save_checkpoint(train_session *s, char *err, size_t errlen) {
  if (s->ephemeral) return 0;
  char *state = train_state_format(&s->st);
  if (!state) {
    snprintf(err, errlen, "out of memory formatting the training state");
    return -1;
  }
  s->model.train_state = state;
  int rc = nn_model_save(s->ckpt_path, &s->model, s->opt, err, errlen);
  s->model.train_state = NULL;
  free(state);
  return rc;
}

int train_session_checkpoint(train_session *s, char *err, size_t errlen) {
  return session_save_checkpoint(s, err, errlen);
}

/* ---- one batch ------------------------------------------------------------ */

static void begin_epoch(train_session *s) {
  const dataset *d = &s->train;
  const int epoch = s->st.next_epoch;
  /* The epoch's order depends only on (seed, epoch), so a resumed run
   * replays the same shuffles. */
  s->epoch_rng = s->st.cfg.seed ^ (0xD1B54A32D192ED03ull * (uint64_t)(epoch + 1));
  for (int i = 0; i < d->n; i++) s->order[i] = i;
  rng_shuffle(s->order, d->n, &s->epoch_rng);
  nn_net_set_training(s->model.net, 1);
  s->in_epoch = 1;
  s->epoch_step = 0;
  s->loss_sum = 0;
  s->correct = s->seen = 0;
  s->epoch_t0 = clock_now_s();
  train_progress p = {.event = TRAIN_EPOCH_BEGIN, .epoch = epoch + 1, .epochs = s->st.cfg.epochs};
  session_progress(s, &p);
}

/* The batch's images, augmented with the epoch's draws. */
static int gather_batch(train_session *s, int start) {
  const train_config *cfg = &s->st.cfg;
  const dataset *d = &s->train;
  const size_t sample = (size_t)d->c * d->h * d->w;
  const int B = cfg->batch, m = d->n - start < B ? d->n - start : B;
  augment_opts aug;
  augment_defaults(&aug);
  aug.blur_prob = cfg->blur_prob;
  aug.erase_prob = cfg->erase_prob;
  for (int i = 0; i < m; i++) {
    int idx = s->order[start + i];
    s->batch_y[i] = d->labels[idx];
    if (cfg->augment)
      augment_sample(s->batch_x + sample * i, d->x + sample * idx, d->c, d->h, d->w, &aug,
                     rng_next(&s->epoch_rng));
    else
      memcpy(s->batch_x + sample * i, d->x + sample * idx, sizeof(float) * sample);
  }
  return m;
}

/* One forward, backward and AdamW step. Returns 0, or -1 with err. */
static int train_batch(train_session *s, char *err, size_t errlen) {
  const train_config *cfg = &s->st.cfg;
  nn_net *net = s->model.net;
  const int K = s->model.num_classes;
  const int64_t steps_per_epoch = (s->train.n + cfg->batch - 1) / cfg->batch;
  const int64_t total = steps_per_epoch * cfg->epochs;
  const int64_t warmup = (int64_t)(cfg->warmup_epochs * steps_per_epoch);
  int m = gather_batch(s, (int)(s->epoch_step * cfg->batch));
  nn_adamw_opts ao;
  nn_adamw_defaults(&ao);
  ao.weight_decay = cfg->weight_decay;
  ao.clip_norm = cfg->clip_norm;
  nn_loss_opts lo = {s->class_weights, cfg->label_smoothing, NULL, 0.0f};
  if (s->teacher) {
    /* what the teacher says of the same augmented crops */
    nn_net_forward(s->teacher, s->batch_x, m, s->teacher_probs);
    lo.teacher = s->teacher_probs;
    lo.teacher_weight = s->teacher_weight;
  }
  /* step + 1: the first update already gets a non-zero warmup rate */
  int64_t step = nn_adamw_steps(s->opt) + 1;
  if (cfg->swa_epochs > 0 && step > steps_per_epoch * swa_begin(cfg) + 1)
    step = steps_per_epoch * swa_begin(cfg) + 1; /* held through the averaged epochs */
  ao.lr = nn_lr_warmup_cosine(cfg->lr, step, warmup, total, 0.01f);
  float loss = nn_net_train_batch(net, s->batch_x, s->batch_y, m, &lo, s->batch_probs);
  if (loss < 0 || !isfinite(loss)) {
    snprintf(err, errlen, "training diverged at epoch %d step %lld (loss %g); try a lower --lr",
             s->st.next_epoch + 1, (long long)s->epoch_step, loss);
    return -1;
  }
  nn_adamw_step(s->opt, net, &ao);
  s->last_lr = ao.lr;
  s->loss_sum += loss * m;
  s->seen += m;
  for (int i = 0; i < m; i++)
    s->correct += classifier_argmax(s->batch_probs + (size_t)i * K, K) == s->batch_y[i];
  s->epoch_step++;
  return 0;
}

/* After an epoch's last batch: its record, validation, the best model, the
 * logs, the weight average and the checkpoint. Returns 1 when the run should
 * end (the last epoch, or early stopping), 0 to go on, -1 on error. */
static int end_epoch(train_session *s, char *err, size_t errlen) {
  const train_config *cfg = &s->st.cfg;
  const int epoch = s->st.next_epoch;
  epoch_record rec = {.epoch = epoch + 1, .lr = s->last_lr,
                      .train_loss = (float)(s->loss_sum / s->seen),
                      .train_acc = (float)s->correct / s->seen,
                      .val_loss = NAN, .val_acc = NAN, .val_macro_f1 = NAN,
                      .seconds = (float)(clock_now_s() - s->epoch_t0)};
  s->in_epoch = 0;
  int best = 1; /* without validation the latest model is the one kept */
  if (s->val_n > 0) {
    if (session_validate(s, &rec) != 0) {
      snprintf(err, errlen, "validation failed");
      return -1;
    }
    best = rec.val_acc > s->st.best_val_acc;
  }
  if (best) {
    s->st.best_val_acc = s->val_n > 0 ? rec.val_acc : 0;
    s->st.best_epoch = epoch + 1;
    s->st.epochs_since_best = 0;
    if (session_keep_best(s, s->model.net) != 0) {
      snprintf(err, errlen, "out of memory");
      return -1;
    }
    if (!s->ephemeral && nn_model_save(cfg->out_path, &s->model, NULL, err, errlen) != 0)
      return -1;
  } else {
    s->st.epochs_since_best++;
  }
  s->st.next_epoch = epoch + 1;
  if (train_state_add(&s->st, &rec) != 0) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  train_progress p = {.event = TRAIN_EPOCH_END, .epoch = epoch + 1, .epochs = cfg->epochs,
                      .record = &rec, .has_val = s->val_n > 0, .best = best};
  session_progress(s, &p); /* a stop asked for here comes after the checkpoint */
  if (!s->ephemeral) session_write_logs(s);
  if (cfg->swa_epochs > 0 && epoch >= swa_begin(cfg)) {
    if (swa_add(s) != 0) {
      snprintf(err, errlen, "out of memory");
      return -1;
    }
    if (swa_save(s, err, errlen) != 0) return -1;
  }
  if (session_save_checkpoint(s, err, errlen) != 0) return -1;
  if (cfg->patience > 0 && s->st.epochs_since_best >= cfg->patience) {
    session_say(s, "early stop: no better val accuracy for %d epochs", cfg->patience);
    return 1;
  }
  return s->st.next_epoch >= cfg->epochs;
}

/* The metadata a finished model carries: what made it, from what data. */
static char *model_metadata(const train_session *s) {
  char *text = NULL;
  size_t len = 0;
  if (train_text_append(&text, &len, "made_by=emocam %s train\n", EMOCAM_VERSION) != 0 ||
      train_config_format(&s->st.cfg, CONFIG_MODEL, &text, &len) != 0 ||
      train_text_append(&text, &len, "best_epoch=%d\nbest_val_acc=%.9g\nswa_kept=%d\n",
                        s->st.best_epoch, s->st.best_val_acc, s->swa_kept) != 0 ||
      (s->metadata && train_text_append(&text, &len, "%s", s->metadata) != 0))
    return NULL;
  return text;
}

/* After the last epoch: the best weights or the mean, calibration, the model
 * saved, the checkpoint removed. */
static int finish(train_session *s, char *err, size_t errlen) {
  const train_config *cfg = &s->st.cfg;
  if (s->st.swa_count == 0) {
    session_restore_best(s);
  } else {
    if (swa_finish(s, err, errlen) != 0) return -1;
  }
  if (s->st.swa_count || s->ephemeral)
    session_write_logs(s); /* what became of the mean; an ephemeral run logs once */
  session_calibrate(s);
  if (!(s->model.train_state = model_metadata(s))) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  if (nn_model_save(cfg->out_path, &s->model, NULL, err, errlen) != 0) return -1;
  char line[TRAIN_PATH_MAX + 128];
  int used = s->swa_kept ? snprintf(line, sizeof line, "model: %s (mean of the last %d epochs",
                                    cfg->out_path, s->st.swa_count)
                         : snprintf(line, sizeof line, "model: %s (best epoch %d", cfg->out_path,
                                    s->st.best_epoch);
  if (s->val_n > 0 && used > 0 && (size_t)used < sizeof line)
    used += snprintf(line + used, sizeof line - (size_t)used, ", val accuracy %.2f%%",
                     100 * s->st.best_val_acc);
  session_say(s, "%s)", line);
  unlink(s->ckpt_path); /* finished: the model file is the result */
  unlink(s->swa_path);
  s->finished = 1;
  return 0;
}

/* The interrupted epoch runs again from its start after a resume. */
static int stopped(train_session *s, char *err, size_t errlen) {
  if (s->in_epoch) {
    s->in_epoch = 0;
    if (session_save_checkpoint(s, err, errlen) != 0) return TRAIN_FAILED;
  }
  atomic_store(&s->stop, 0);
  return TRAIN_STOPPED;
}

int train_session_step(train_session *s, char *err, size_t errlen) {
  if (s->finished) return TRAIN_DONE;
  if (!s->in_epoch) {
    if (s->st.next_epoch >= s->st.cfg.epochs)
      return finish(s, err, errlen) == 0 ? TRAIN_DONE : TRAIN_FAILED;
    begin_epoch(s);
  }
  if (train_batch(s, err, errlen) != 0) return TRAIN_FAILED;
  train_progress p = {.event = TRAIN_BATCH, .epoch = s->st.next_epoch + 1,
                      .epochs = s->st.cfg.epochs, .done = (long)s->seen, .total = s->train.n,
                      .seconds = clock_now_s() - s->epoch_t0, .loss = s->loss_sum / s->seen,
                      .acc = (double)s->correct / s->seen};
  if (session_progress(s, &p)) return stopped(s, err, errlen);
  if (s->seen < s->train.n) return TRAIN_MORE;
  int end = end_epoch(s, err, errlen);
  if (end < 0) return TRAIN_FAILED;
  if (atomic_load(&s->stop)) return stopped(s, err, errlen);
  if (end) return finish(s, err, errlen) == 0 ? TRAIN_DONE : TRAIN_FAILED;
  return TRAIN_MORE;
}

int train_session_run(train_session *s, char *err, size_t errlen) {
  int rc;
  while ((rc = train_session_step(s, err, errlen)) == TRAIN_MORE) {
  }
  return rc;
}
