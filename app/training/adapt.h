/* adapt: a personal model from tens of a person's face crops. The crops of
 * DIR/<class>/ (class names of the model; any subset of them) are split into
 * a training part and a held-out share, the model is fine-tuned on the
 * training part by a training session with the recipe below, and the result
 * keeps every class of the model, its preprocessing and its calibration.
 * `emocam adapt` and the live window's T key both run it.
 *
 * Thread-safety: one adaptation at a time per process (the training
 * session sets nn's process-wide thread count); adapt_run may run on a
 * background thread while other threads run inference with other nets.
 */
#ifndef APP_TRAINING_ADAPT_H
#define APP_TRAINING_ADAPT_H

#include <stddef.h>
#include <stdint.h>

#include "nn.h"
#include "training/session.h"

typedef struct {
  const char *data_dir;  /* DIR/<class>/ crops */
  const char *out_path;  /* the personal model, written atomically */
  int epochs;            /* passes over the crops */
  int batch;
  float lr;              /* peak learning rate (warmup, cosine decay) */
  int freeze;            /* first layers kept fixed; -1: all but the last 8 */
  float holdout;         /* share of each class held out to measure (0..0.5) */
  float keep_weight;     /* share of each target taken from the original
                            model's output (remembering the other classes) */
  uint64_t seed;
  int threads;           /* 0 = nn's current count */
} adapt_config;

void adapt_defaults(adapt_config *cfg);

typedef struct {
  int num_classes;
  int crops[64];           /* crops per class found in DIR (first 64 classes) */
  int trained, held_out;   /* crops trained on, crops measured */
  double acc_before;       /* the original model on the held-out crops; NAN: none */
  double acc_after;        /* the personal model on them */
  double seconds;          /* the whole adaptation, loading included */
} adapt_result;

/* Adapts the model at model_path (loaded here, so the caller's copy is not
 * touched) on cfg->data_dir and writes cfg->out_path. obs sees the
 * session's lines and progress; its progress callback returning non-zero
 * stops the adaptation: nothing is written then. Returns TRAIN_DONE,
 * TRAIN_STOPPED, or TRAIN_FAILED with err naming the file or folder. */
int adapt_run(const char *model_path, const adapt_config *cfg, const train_observer *obs,
              adapt_result *res, char *err, size_t errlen);

#endif
