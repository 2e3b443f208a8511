/* config: the table of training settings and the walks over it (options,
 * help, checkpoint text, log header, model metadata). */
#include "training/config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"

void train_config_defaults(train_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->val_split = 0.1f;
  cfg->epochs = 30;
  cfg->batch = 0; /* auto: train_config_auto_batch once the data is known */
  cfg->lr = 2e-3f;
  cfg->weight_decay = 0.01f;
  cfg->label_smoothing = 0.1f;
  cfg->warmup_epochs = 1.0f;
  cfg->clip_norm = 5.0f;
  cfg->seed = 1;
  cfg->patience = 10;
  cfg->augment = 1;
  cfg->weights = WEIGHTS_AUTO;
  cfg->crop_scale = 1.0f;
  cfg->teacher_weight = 0.5f;
}

int train_config_auto_batch(int train_images) {
  return train_images < TRAIN_SMALL_SET ? 16 : 64;
}

typedef enum {
  KEY_PATH,   /* char[TRAIN_PATH_MAX] */
  KEY_INT,    /* int in [lo, hi] */
  KEY_FLOAT,  /* float in [lo, hi] */
  KEY_U64,    /* uint64_t */
  KEY_SET,    /* int set to 1 by a value-less option */
  KEY_UNSET,  /* int set to 0 by a value-less option */
  KEY_CHOICE, /* class_weight_mode, one of weight_modes */
} key_type;

static const char *const weight_modes[] = {"auto", "off", "sqrt", "inverse"};

typedef struct {
  const char *key;    /* checkpoint key */
  const char *option; /* command-line option, or NULL (checkpoint only) */
  const char *arg;    /* its value's name in --help ("" for flags) */
  key_type type;
  size_t offset;      /* into train_config */
  double lo, hi;      /* allowed range of KEY_INT and KEY_FLOAT */
  unsigned flags;     /* CONFIG_LOG, CONFIG_MODEL */
  const char *help;   /* --help text; "\n" continues on an indented line */
} config_key;

#define AT(field) offsetof(train_config, field)
#define LOGGED (CONFIG_LOG | CONFIG_MODEL)

/* In --help order. */
static const config_key keys[] = {
    {"data_dir", "--data", "DIR", KEY_PATH, AT(data_dir), 0, 0, CONFIG_MODEL,
     "training images (required)"},
    {"out_path", "--out", "MODEL", KEY_PATH, AT(out_path), 0, 0, 0,
     "model file to write (.emo); the best epoch by val accuracy\n"
     "is kept there, beside it MODEL-stem.log.csv and .curves.png"},
    {"val_dir", "--val", "DIR", KEY_PATH, AT(val_dir), 0, 0, CONFIG_MODEL,
     "validation images (same class folders)"},
    {"val_split", "--val-split", "F", KEY_FLOAT, AT(val_split), 0, 0.9, CONFIG_MODEL,
     "hold out a stratified share F of --data instead (default 0.1;\n0 = no validation)"},
    {"arch_path", "--arch", "FILE", KEY_PATH, AT(arch_path), 0, 0, CONFIG_MODEL,
     "architecture file (default assets/arch/vgg.arch)"},
    {"init_path", "--init", "MODEL", KEY_PATH, AT(init_path), 0, 0, CONFIG_MODEL,
     "start from a trained model (transfer learning); a new\n"
     "classifier head is made when the classes differ"},
    {"teacher_path", "--teacher", "MODEL", KEY_PATH, AT(teacher_path), 0, 0, CONFIG_MODEL,
     "distil: a trained model of the same classes and input whose\n"
     "probabilities on each augmented batch are mixed into the targets"},
    {"teacher_weight", "--teacher-weight", "F", KEY_FLOAT, AT(teacher_weight), 0, 1, LOGGED,
     "the teacher's share of each target (0..1, default 0.5)"},
    {"freeze", "--freeze", "N", KEY_INT, AT(freeze), 0, 10000, LOGGED,
     "keep the first N layers fixed (with --init)"},
    {"epochs", "--epochs", "N", KEY_INT, AT(epochs), 1, 100000, LOGGED, "default 30"},
    {"batch", "--batch", "N", KEY_INT, AT(batch), 1, 4096, LOGGED,
     "default 64, or 16 when there are fewer than 8192 training\n"
     "images (a short run on small data needs the steps)"},
    {"lr", "--lr", "F", KEY_FLOAT, AT(lr), 1e-7, 10, LOGGED,
     "peak learning rate of AdamW (default 0.002; warmup, cosine decay)"},
    {"weight_decay", "--weight-decay", "F", KEY_FLOAT, AT(weight_decay), 0, 1, LOGGED,
     "decoupled (AdamW) weight decay, default 0.01"},
    {"label_smoothing", "--label-smoothing", "F", KEY_FLOAT, AT(label_smoothing), 0, 0.5, LOGGED,
     "default 0.1"},
    {"warmup_epochs", "--warmup", "F", KEY_FLOAT, AT(warmup_epochs), 0, 1000, LOGGED,
     "warmup epochs (default 1)"},
    {"patience", "--patience", "N", KEY_INT, AT(patience), 0, 100000, LOGGED,
     "stop after N epochs without better val accuracy (default 10,\n0 = never)"},
    {"weights", "--class-weights", "M", KEY_CHOICE, AT(weights), 0, 0, LOGGED,
     "auto (default: sqrt inverse frequency when the largest class is\n"
     "over 3x the smallest), off, sqrt, inverse"},
    {"augment", "--no-augment", "", KEY_UNSET, AT(augment), 0, 1, LOGGED,
     "no flips, shifts, rotations or brightness/contrast jitter"},
    {"blur_prob", "--blur", "P", KEY_FLOAT, AT(blur_prob), 0, 1, LOGGED,
     "also blur a share P of the samples slightly (0..1, default 0):\n"
     "robustness to soft, compressed video faces"},
    {"erase_prob", "--erase", "P", KEY_FLOAT, AT(erase_prob), 0, 1, LOGGED,
     "also cover a random rectangle with noise in a share P of the\n"
     "samples (random erasing; 0..1, default 0)"},
    {"swa_epochs", "--swa", "N", KEY_INT, AT(swa_epochs), 1, 100000, LOGGED,
     "average the weights of the last N epochs (stochastic weight\n"
     "averaging; the learning rate is held where they begin), then\n"
     "keep that mean if it beats the best epoch on val (with\n"
     "--patience 0, early stopping cannot cut it short)"},
    {"flip_tta", "--flip-tta", "", KEY_SET, AT(flip_tta), 0, 1, LOGGED,
     "the model averages each prediction with its mirror image"},
    {"crop_scale", "--crop-scale", "F", KEY_FLOAT, AT(crop_scale), 0.2, 1, LOGGED,
     "centre-crop share of the shorter side (0.2..1, default 1)"},
    {"seed", "--seed", "N", KEY_U64, AT(seed), 0, 0, LOGGED,
     "default 1; with --threads 1 training is bit-for-bit repeatable"},
    {"threads", "--threads", "N", KEY_INT, AT(threads), 0, 256, CONFIG_LOG,
     "default: all cores"},
    {"clip_norm", NULL, NULL, KEY_FLOAT, AT(clip_norm), 0, 1e30, LOGGED, NULL},
};
#define NUM_KEYS (sizeof keys / sizeof keys[0])

static void *field(train_config *cfg, const config_key *k) { return (char *)cfg + k->offset; }
static const void *cfield(const train_config *cfg, const config_key *k) {
  return (const char *)cfg + k->offset;
}

/* A value from the command line (option = its name, for messages) or from a
 * checkpoint (option NULL: no message). Returns 0 or -1. */
static int set_value(train_config *cfg, const config_key *k, const char *v, const char *option) {
  void *dst = field(cfg, k);
  switch (k->type) {
    case KEY_PATH:
      if (strlen(v) >= TRAIN_PATH_MAX) {
        if (option) cli_error("%s: path too long", option);
        return -1;
      }
      memcpy(dst, v, strlen(v) + 1);
      return 0;
    case KEY_INT:
      if (option) return cli_parse_int(option, v, (long)k->lo, (long)k->hi, dst);
      else {
        char *end;
        errno = 0;
        long x = strtol(v, &end, 10);
        if (errno || end == v || *end || x < -1000000000L || x > 1000000000L) return -1;
        *(int *)dst = (int)x;
        return 0;
      }
    case KEY_FLOAT:
      if (option) return cli_parse_float(option, v, k->lo, k->hi, dst);
      else {
        char *end;
        errno = 0;
        float x = strtof(v, &end);
        if (errno || end == v || *end) return -1;
        *(float *)dst = x;
        return 0;
      }
    case KEY_U64:
      if (option) return cli_parse_u64(option, v, dst);
      else {
        char *end;
        errno = 0;
        *(uint64_t *)dst = strtoull(v, &end, 10);
        return (errno || end == v || *end) ? -1 : 0;
      }
    case KEY_SET:
    case KEY_UNSET:
      if (option) return 0; /* value-less options are handled by the caller */
      return set_value(cfg, &(config_key){k->key, NULL, NULL, KEY_INT, k->offset, 0, 1, 0, NULL},
                       v, NULL);
    case KEY_CHOICE:
      for (int m = 0; m < 4; m++)
        if (strcmp(v, weight_modes[m]) == 0) {
          *(class_weight_mode *)dst = (class_weight_mode)m;
          return 0;
        }
      if (option) cli_error("%s: expected auto, off, sqrt or inverse, got '%s'", option, v);
      return -1;
  }
  return -1;
}

int train_config_option(train_config *cfg, int argc, char **argv, int *i, int *epochs_given) {
  for (size_t n = 0; n < NUM_KEYS; n++) {
    const config_key *k = &keys[n];
    if (!k->option) continue;
    if (k->type == KEY_SET || k->type == KEY_UNSET) {
      if (strcmp(argv[*i], k->option) != 0) continue;
      *(int *)field(cfg, k) = k->type == KEY_SET;
      return 1;
    }
    const char *v = NULL;
    if (!cli_option(argc, argv, i, k->option, &v)) continue;
    if (!v || set_value(cfg, k, v, k->option) != 0) return -1;
    if (k->offset == AT(epochs)) *epochs_given = 1;
    return 1;
  }
  return 0;
}

void train_config_help(FILE *out) {
  for (size_t n = 0; n < NUM_KEYS; n++) {
    const config_key *k = &keys[n];
    if (!k->option) continue;
    char name[48];
    snprintf(name, sizeof name, "%s%s%s", k->option, k->arg[0] ? " " : "", k->arg);
    fprintf(out, "  %-20s ", name);
    for (const char *p = k->help; *p; p++) {
      fputc(*p, out);
      if (*p == '\n') fprintf(out, "%23s", "");
    }
    fputc('\n', out);
  }
}

int train_text_append(char **buf, size_t *len, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *grown = n < 0 ? NULL : realloc(*buf, *len + (size_t)n + 1);
  if (!grown) {
    free(*buf);
    *buf = NULL;
    return -1;
  }
  va_start(ap, fmt);
  vsnprintf(grown + *len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  *buf = grown;
  *len += (size_t)n;
  return 0;
}

/* "value" of one key: exact (as the checkpoint stores it, floats that
 * round-trip) or short (for people: %g). */
static void format_value(const train_config *cfg, const config_key *k, int exact, char *out,
                         size_t len) {
  const void *v = cfield(cfg, k);
  switch (k->type) {
    case KEY_PATH: snprintf(out, len, "%s", (const char *)v); break;
    case KEY_INT:
    case KEY_SET:
    case KEY_UNSET: snprintf(out, len, "%d", *(const int *)v); break;
    case KEY_FLOAT: snprintf(out, len, exact ? "%.9g" : "%g", *(const float *)v); break;
    case KEY_U64: snprintf(out, len, "%" PRIu64, *(const uint64_t *)v); break;
    case KEY_CHOICE: snprintf(out, len, "%s", weight_modes[*(const class_weight_mode *)v]); break;
  }
}

int train_config_format(const train_config *cfg, unsigned only, char **buf, size_t *len) {
  for (size_t n = 0; n < NUM_KEYS; n++) {
    if (only && !(keys[n].flags & only)) continue;
    char value[TRAIN_PATH_MAX + 32];
    format_value(cfg, &keys[n], 1, value, sizeof value);
    if (train_text_append(buf, len, "%s=%s\n", keys[n].key, value) != 0) return -1;
  }
  return 0;
}

int train_config_apply(train_config *cfg, const char *key, const char *value) {
  for (size_t n = 0; n < NUM_KEYS; n++)
    if (strcmp(keys[n].key, key) == 0) return set_value(cfg, &keys[n], value, NULL) == 0 ? 1 : -1;
  return 0;
}

void train_config_log_line(const train_config *cfg, char *out, size_t len) {
  size_t used = 0;
  out[0] = '\0';
  for (size_t n = 0; n < NUM_KEYS && used + 1 < len; n++) {
    if (!(keys[n].flags & CONFIG_LOG)) continue;
    char value[64];
    format_value(cfg, &keys[n], 0, value, sizeof value);
    int w = snprintf(out + used, len - used, "%s%s=%s", used ? " " : "", keys[n].key, value);
    if (w < 0) break;
    used += (size_t)w < len - used ? (size_t)w : len - used - 1;
  }
}
