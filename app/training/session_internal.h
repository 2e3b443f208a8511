/* session_internal: the session's own struct and the helpers its files
 * share (session.c: the loop; setup.c: data and model; swa.c: weight
 * averaging; finish.c: calibration and logs). Private to training/. */
#ifndef APP_TRAINING_SESSION_INTERNAL_H
#define APP_TRAINING_SESSION_INTERNAL_H

#include <math.h>
#include <stdatomic.h>

#include "training/session.h"

struct train_session {
  train_state st;        /* the config, where the run is, its history */
  train_observer obs;
  atomic_int stop;       /* train_session_stop */
  dataset train, val_own; /* val_own: a --val folder */
  const float *val_x;     /* borrowed: val_own.x or the split-off part */
  const int *val_y;
  int val_n;
  float *split_x; /* owned when val comes from --val-split */
  int *split_y;
  nn_model model;
  nn_adamw *opt;
  float *class_weights; /* [K] or NULL */
  float *batch_x, *batch_probs, *val_probs, *val_logits;
  int *batch_y, *order;
  float **best; /* copy of every tensor at the best epoch */
  float **swa;  /* --swa: every tensor's mean over the averaged epochs so far */
  char ckpt_path[TRAIN_PATH_MAX + 8];
  char swa_path[TRAIN_PATH_MAX + 16]; /* where the checkpoint keeps that mean: CHECKPOINT.swa */
  int swa_kept;        /* the mean beat the best epoch and is the result */
  float swa_val_acc;   /* the mean's val accuracy; NAN until measured */
  /* the epoch in progress (train_session_step) */
  int in_epoch;         /* 1 between an epoch's first and last batch */
  int64_t epoch_step;   /* next batch of the epoch */
  uint64_t epoch_rng;   /* the epoch's augmentation draws */
  double epoch_t0, loss_sum;
  int64_t correct, seen;
  float last_lr;
  int finished;
  char *metadata; /* train_inputs.metadata's copy, or NULL */
  int ephemeral;  /* train_inputs.ephemeral */
  nn_net *teacher;      /* owned copy of train_inputs.teacher's net, folded, or NULL */
  float teacher_weight;
  float *teacher_probs; /* [batch, K] */
};

/* session_base.c: observer lines, printf-style */
void session_say(train_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void session_warn(train_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Validation pass in inference mode: loss, accuracy, macro-F1 into rec, and
 * the logits kept for calibration. Returns 0 or -1. */
int session_validate(train_session *s, epoch_record *rec);
/* Copies every tensor of net (the session's own or one of its architecture)
 * as the best weights so far; restores them. */
int session_keep_best(train_session *s, const nn_net *net);
void session_restore_best(train_session *s);

/* session.c: progress to the observer (returns 1 to stop) */
int session_progress(train_session *s, const train_progress *p);
/* Writes the training state and optimizer to the checkpoint. */
int session_save_checkpoint(train_session *s, char *err, size_t errlen);

/* setup.c */
int session_setup_fresh(train_session *s, const train_inputs *in, char *err, size_t errlen);
int session_setup_resume(train_session *s, const char *path, int epochs, char *err, size_t errlen);

/* swa.c: the first averaged epoch (0-based), adding an epoch's weights to
 * the mean and saving it, resuming it, and the finish. */
int swa_begin(const train_config *cfg);
int swa_add(train_session *s);
int swa_save(train_session *s, char *err, size_t errlen);
int swa_resume(train_session *s);
int swa_finish(train_session *s, char *err, size_t errlen);

/* finish.c: the temperature fitted on val, and the CSV log and learning
 * curves beside the model. */
void session_calibrate(train_session *s);
void session_write_logs(train_session *s);

#endif
