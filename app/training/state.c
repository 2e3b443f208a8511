/* state: checkpoint bookkeeping as "key=value" text. The settings' keys are
 * config.c's table; the run's own keys are here. */
#include "training/state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int train_state_add(train_state *st, const epoch_record *r) {
  epoch_record *grown = realloc(st->records, sizeof *grown * (st->num_records + 1));
  if (!grown) return -1;
  st->records = grown;
  st->records[st->num_records++] = *r;
  return 0;
}

void train_state_free(train_state *st) {
  free(st->records);
  st->records = NULL;
  st->num_records = 0;
}

char *train_state_format(const train_state *st) {
  char *b = NULL;
  size_t len = 0;
  /* %.9g round-trips a float exactly. */
  if (train_text_append(&b, &len, "state_version=1\n") != 0 ||
      train_config_format(&st->cfg, 0, &b, &len) != 0 ||
      train_text_append(&b, &len,
                        "next_epoch=%d\nbest_val_acc=%.9g\nbest_epoch=%d\nepochs_since_best=%d\n"
                        "swa_count=%d\n",
                        st->next_epoch, st->best_val_acc, st->best_epoch, st->epochs_since_best,
                        st->swa_count) != 0)
    return NULL;
  for (int i = 0; i < st->num_records; i++) {
    const epoch_record *r = &st->records[i];
    if (train_text_append(&b, &len, "epoch_record=%d,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g\n",
                          r->epoch, r->lr, r->train_loss, r->train_acc, r->val_loss, r->val_acc,
                          r->val_macro_f1, r->seconds) != 0)
      return NULL;
  }
  return b;
}

static int parse_int(const char *v, int *out) {
  char *end;
  errno = 0;
  long x = strtol(v, &end, 10);
  if (errno || end == v || *end || x < -1000000000L || x > 1000000000L) return -1;
  *out = (int)x;
  return 0;
}

/* One "key=value" pair into st; -1 when the key is unknown or value bad. */
static int apply(train_state *st, const char *key, const char *v) {
  int setting = train_config_apply(&st->cfg, key, v);
  if (setting != 0) return setting > 0 ? 0 : -1;
  struct {
    const char *key;
    int *dst;
  } ints[] = {{"state_version", &(int){0}},
              {"next_epoch", &st->next_epoch},
              {"best_epoch", &st->best_epoch},
              {"epochs_since_best", &st->epochs_since_best},
              {"swa_count", &st->swa_count}};
  for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
    if (strcmp(key, ints[i].key) == 0) return parse_int(v, ints[i].dst);
  if (strcmp(key, "best_val_acc") == 0) {
    char *end;
    errno = 0;
    st->best_val_acc = strtof(v, &end);
    return (errno || end == v || *end) ? -1 : 0;
  }
  if (strcmp(key, "epoch_record") == 0) {
    epoch_record r;
    char tail;
    if (sscanf(v, "%d,%f,%f,%f,%f,%f,%f,%f%c", &r.epoch, &r.lr, &r.train_loss, &r.train_acc,
               &r.val_loss, &r.val_acc, &r.val_macro_f1, &r.seconds, &tail) != 8)
      return -1;
    return train_state_add(st, &r);
  }
  return -1;
}

int train_state_parse(train_state *st, const char *text, const char *source, char *err,
                      size_t errlen) {
  memset(st, 0, sizeof *st);
  train_config_defaults(&st->cfg);
  int line_no = 0;
  const char *p = text;
  while (*p) {
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) : strlen(p);
    line_no++;
    char line[4200];
    if (n >= sizeof line) {
      snprintf(err, errlen, "%s: training state line %d is too long", source, line_no);
      train_state_free(st);
      return -1;
    }
    memcpy(line, p, n);
    line[n] = '\0';
    p += n + (nl ? 1 : 0);
    if (!line[0]) continue;
    char *eq = strchr(line, '=');
    if (!eq) {
      snprintf(err, errlen, "%s: training state line %d has no '='", source, line_no);
      train_state_free(st);
      return -1;
    }
    *eq = '\0';
    if (apply(st, line, eq + 1) != 0) {
      snprintf(err, errlen, "%s: training state line %d: bad '%s' value '%s'", source, line_no,
               line, eq + 1);
      train_state_free(st);
      return -1;
    }
  }
  if (st->cfg.batch < 1 || st->cfg.epochs < 1 || !st->cfg.out_path[0] || !st->cfg.data_dir[0]) {
    snprintf(err, errlen, "%s: training state is incomplete (not a checkpoint?)", source);
    train_state_free(st);
    return -1;
  }
  return 0;
}
