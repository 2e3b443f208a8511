/* session: the training loop as a library. A session is created fresh (from
 * an architecture or an --init model) or resumed from a checkpoint, then
 * stepped a batch at a time or run to the end; an observer sees its messages
 * and progress and may ask it to stop; a stopped session leaves a checkpoint
 * that a later session resumes. `emocam train` drives it from the command
 * line, the live window's adaptation from a background thread.
 *
 * Thread-safety: one thread drives a session; train_session_stop may be
 * called from any thread (it only sets a flag the loop reads after every
 * batch).
 */
#ifndef APP_TRAINING_SESSION_H
#define APP_TRAINING_SESSION_H

#include <stddef.h>

#include "nn.h"
#include "training/config.h"
#include "training/dataset.h"
#include "training/state.h"

typedef enum {
  TRAIN_EPOCH_BEGIN, /* an epoch starts: epoch, epochs */
  TRAIN_BATCH,       /* after each batch: done, total, seconds, loss, acc */
  TRAIN_EPOCH_END,   /* validated, the best model saved, the checkpoint written */
} train_event;

typedef struct {
  train_event event;
  int epoch, epochs;          /* 1-based epoch, of epochs */
  long done, total;           /* images of this epoch trained so far, of total */
  double seconds;             /* since the epoch began */
  double loss, acc;           /* running means over this epoch's images */
  const epoch_record *record; /* TRAIN_EPOCH_END: the epoch's figures */
  int has_val;                /* validation figures in record are real (else NAN) */
  int best;                   /* TRAIN_EPOCH_END: the best epoch so far */
} train_progress;

/* What a session tells its driver. Every member may be NULL. */
typedef struct {
  /* Informational lines (data, model, class weights, swa, calibration...),
   * one call a line, no trailing newline. */
  void (*message)(void *user, const char *line);
  void (*warning)(void *user, const char *line);
  /* Progress; a non-zero return asks the session to stop (Ctrl-C). */
  int (*progress)(void *user, const train_progress *p);
  void *user;
} train_observer;

/* Where a session's data and starting weights come from when not from the
 * config's paths. Both members may be NULL. */
typedef struct {
  dataset *train;      /* taken over by the session (moved: *train is zeroed) */
  const nn_model *init; /* borrowed, read during create only; its class list
                           and temperature are kept even when train lacks
                           some of the classes */
  const char *metadata; /* NULL, or "key=value\n" lines (copied) the finished
                           model carries besides the settings: what it was
                           adapted from, say */
  const nn_model *teacher; /* borrowed, read during create only (copied), or
                              NULL: a model of the same classes whose
                              probabilities on each training batch are
                              mixed into the targets (distillation; for a
                              run with checkpoints name it in the config's
                              teacher_path instead, which they keep) */
  float teacher_weight;  /* its share of each target, 0..1 */
  int ephemeral;        /* 1: a run of seconds (adaptation): no checkpoint and
                           no best-so-far model between epochs, so a stop
                           writes nothing; the model and its log are written
                           when it finishes */
} train_inputs;

typedef struct train_session train_session;

/* A fresh run of cfg (copied): data from cfg->data_dir (or inputs->train),
 * the architecture of cfg->init_path's model, inputs->init, or
 * cfg->arch_path. inputs may be NULL. Returns 0, or -1 with err. */
int train_session_create(train_session **out, const train_config *cfg, const train_inputs *inputs,
                         const train_observer *obs, char *err, size_t errlen);
/* Continues the checkpoint at path; epochs > 0 moves the run's end there.
 * Returns 0, or -1 with err. */
int train_session_resume(train_session **out, const char *path, int epochs,
                         const train_observer *obs, char *err, size_t errlen);
void train_session_destroy(train_session *s); /* NULL ok */

/* The results of run and step. */
enum { TRAIN_DONE = 0, TRAIN_STOPPED = 1, TRAIN_MORE = 2, TRAIN_FAILED = -1 };

/* Runs the remaining epochs, then finishes: the best epoch (or the weight
 * average) restored, the temperature calibrated, the model written to
 * cfg->out_path and the checkpoint removed. Returns TRAIN_DONE, TRAIN_STOPPED
 * (a checkpoint was saved: resume it), or TRAIN_FAILED with err. */
int train_session_run(train_session *s, char *err, size_t errlen);

/* One batch. At an epoch's end it also validates, keeps the best model and
 * writes the checkpoint; after the last epoch it finishes as run does.
 * Returns TRAIN_MORE, TRAIN_DONE, TRAIN_STOPPED or TRAIN_FAILED. */
int train_session_step(train_session *s, char *err, size_t errlen);

/* Asks the session to stop after the current batch. Any thread. */
void train_session_stop(train_session *s);

/* Writes the checkpoint now (where the interrupted epoch starts again).
 * Returns 0, or -1 with err. */
int train_session_checkpoint(train_session *s, char *err, size_t errlen);

const char *train_session_checkpoint_path(const train_session *s);
/* The model being trained (after TRAIN_DONE: the finished one); borrowed. */
const nn_model *train_session_model(const train_session *s);
const train_state *train_session_state(const train_session *s);

#endif
