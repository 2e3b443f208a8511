/* train_state: checkpoint bookkeeping as "key=value" text. */
#include "train_state.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
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

typedef struct {
  char *text;
  size_t len, cap;
  int failed;
} text_buf;

static void put(text_buf *b, const char *fmt, ...) {
  if (b->failed) return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->text + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0) {
      b->failed = 1;
      return;
    }
    if ((size_t)n < b->cap - b->len) {
      b->len += (size_t)n;
      return;
    }
    size_t cap = (b->cap + (size_t)n + 1) * 2;
    char *grown = realloc(b->text, cap);
    if (!grown) {
      b->failed = 1;
      return;
    }
    b->text = grown;
    b->cap = cap;
  }
}

static const char *weights_names[] = {"auto", "off", "sqrt", "inverse"};

char *train_state_format(const train_state *st) {
  text_buf b = {malloc(1024), 0, 1024, 0};
  if (!b.text) return NULL;
  b.text[0] = '\0';
  const train_config *c = &st->cfg;
  put(&b, "state_version=1\n");
  put(&b, "data_dir=%s\nval_dir=%s\nout_path=%s\narch_path=%s\ninit_path=%s\n", c->data_dir,
      c->val_dir, c->out_path, c->arch_path, c->init_path);
  /* %.9g round-trips a float exactly. */
  put(&b, "val_split=%.9g\nepochs=%d\nbatch=%d\nlr=%.9g\nweight_decay=%.9g\n", c->val_split,
      c->epochs, c->batch, c->lr, c->weight_decay);
  put(&b, "label_smoothing=%.9g\nwarmup_epochs=%.9g\nclip_norm=%.9g\nseed=%" PRIu64 "\n",
      c->label_smoothing, c->warmup_epochs, c->clip_norm, c->seed);
  put(&b, "threads=%d\npatience=%d\naugment=%d\nweights=%s\nfreeze=%d\nflip_tta=%d\n", c->threads,
      c->patience, c->augment, weights_names[c->weights], c->freeze, c->flip_tta);
  put(&b, "crop_scale=%.9g\nblur_prob=%.9g\nerase_prob=%.9g\nswa_epochs=%d\n", c->crop_scale,
      c->blur_prob, c->erase_prob, c->swa_epochs);
  put(&b, "next_epoch=%d\nbest_val_acc=%.9g\nbest_epoch=%d\nepochs_since_best=%d\nswa_count=%d\n",
      st->next_epoch, st->best_val_acc, st->best_epoch, st->epochs_since_best, st->swa_count);
  for (int i = 0; i < st->num_records; i++) {
    const epoch_record *r = &st->records[i];
    put(&b, "epoch_record=%d,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g\n", r->epoch, r->lr, r->train_loss,
        r->train_acc, r->val_loss, r->val_acc, r->val_macro_f1, r->seconds);
  }
  if (b.failed) {
    free(b.text);
    return NULL;
  }
  return b.text;
}

static int copy_string(char *dst, size_t len, const char *value) {
  if (strlen(value) >= len) return -1;
  memcpy(dst, value, strlen(value) + 1);
  return 0;
}

static int parse_int(const char *v, int *out) {
  char *end;
  errno = 0;
  long x = strtol(v, &end, 10);
  if (errno || end == v || *end || x < -1000000000L || x > 1000000000L) return -1;
  *out = (int)x;
  return 0;
}

static int parse_float(const char *v, float *out) {
  char *end;
  errno = 0;
  float x = strtof(v, &end);
  if (errno || end == v || *end) return -1;
  *out = x;
  return 0;
}

/* One "key=value" pair into st; -1 when the key is unknown or value bad. */
static int apply(train_state *st, const char *key, const char *v) {
  train_config *c = &st->cfg;
  struct {
    const char *key;
    char *dst;
    size_t len;
  } strings[] = {{"data_dir", c->data_dir, sizeof c->data_dir},
                 {"val_dir", c->val_dir, sizeof c->val_dir},
                 {"out_path", c->out_path, sizeof c->out_path},
                 {"arch_path", c->arch_path, sizeof c->arch_path},
                 {"init_path", c->init_path, sizeof c->init_path}};
  for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
    if (strcmp(key, strings[i].key) == 0) return copy_string(strings[i].dst, strings[i].len, v);
  struct {
    const char *key;
    float *dst;
  } floats[] = {{"val_split", &c->val_split},         {"lr", &c->lr},
                {"weight_decay", &c->weight_decay},   {"label_smoothing", &c->label_smoothing},
                {"warmup_epochs", &c->warmup_epochs}, {"clip_norm", &c->clip_norm},
                {"crop_scale", &c->crop_scale},       {"best_val_acc", &st->best_val_acc},
                {"blur_prob", &c->blur_prob},         {"erase_prob", &c->erase_prob}};
  for (size_t i = 0; i < sizeof floats / sizeof floats[0]; i++)
    if (strcmp(key, floats[i].key) == 0) return parse_float(v, floats[i].dst);
  struct {
    const char *key;
    int *dst;
  } ints[] = {{"state_version", &(int){0}}, {"epochs", &c->epochs},
              {"batch", &c->batch},         {"threads", &c->threads},
              {"patience", &c->patience},   {"augment", &c->augment},
              {"freeze", &c->freeze},       {"flip_tta", &c->flip_tta},
              {"next_epoch", &st->next_epoch}, {"best_epoch", &st->best_epoch},
              {"epochs_since_best", &st->epochs_since_best},
              {"swa_epochs", &c->swa_epochs}, {"swa_count", &st->swa_count}};
  for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
    if (strcmp(key, ints[i].key) == 0) return parse_int(v, ints[i].dst);
  if (strcmp(key, "seed") == 0) {
    char *end;
    errno = 0;
    c->seed = strtoull(v, &end, 10);
    return (errno || end == v || *end) ? -1 : 0;
  }
  if (strcmp(key, "weights") == 0) {
    for (int i = 0; i < 4; i++)
      if (strcmp(v, weights_names[i]) == 0) {
        c->weights = (class_weight_mode)i;
        return 0;
      }
    return -1;
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
