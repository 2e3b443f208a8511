/* state: what a checkpoint must remember besides the weights and the
 * optimizer moments: the configuration, where training stopped, the best
 * validation result and the per-epoch history. Stored as "key=value" lines in
 * the model file's train-state text (the settings' keys come from config.h's
 * table).
 */
#ifndef APP_TRAINING_STATE_H
#define APP_TRAINING_STATE_H

#include <stddef.h>

#include "training/config.h"

typedef struct {
  int epoch;          /* 1-based */
  float lr;           /* learning rate at the epoch's end */
  float train_loss, train_acc;
  float val_loss, val_acc, val_macro_f1; /* NAN without validation */
  float seconds;
} epoch_record;

typedef struct {
  train_config cfg;
  int next_epoch;       /* 0-based epoch to run next */
  float best_val_acc;
  int best_epoch;       /* 1-based, 0 = none yet */
  int epochs_since_best;
  int swa_count;        /* epochs averaged so far (--swa); the average is in
                           the checkpoint's companion file CHECKPOINT.swa */
  int num_records;
  epoch_record *records; /* owned, [num_records] */
} train_state;

/* Appends r to st->records. Returns 0 or -1 (out of memory). */
int train_state_add(train_state *st, const epoch_record *r);
void train_state_free(train_state *st);

/* Serialises st into a malloc'd text (caller frees), or NULL. */
char *train_state_format(const train_state *st);
/* Parses text written by train_state_format. Returns 0 or -1 with err. */
int train_state_parse(train_state *st, const char *text, const char *source, char *err,
                      size_t errlen);

#endif
