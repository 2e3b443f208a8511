/* config: the settings of a training run and the one table of their keys.
 * Each row names a setting once: its checkpoint key, its command-line option
 * and help text, its range, and whether the run's log header and the trained
 * model's metadata carry it. Option parsing, `emocam train --help`, the
 * checkpoint's state text, the log header and the model metadata are all
 * walks over that table, so a new setting is one field and one row.
 */
#ifndef APP_TRAINING_CONFIG_H
#define APP_TRAINING_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum { WEIGHTS_AUTO, WEIGHTS_OFF, WEIGHTS_SQRT, WEIGHTS_INVERSE } class_weight_mode;

#define TRAIN_PATH_MAX 1024

typedef struct {
  char data_dir[TRAIN_PATH_MAX];
  char val_dir[TRAIN_PATH_MAX];   /* "" = split off val_split of data_dir */
  char out_path[TRAIN_PATH_MAX];
  char arch_path[TRAIN_PATH_MAX]; /* "" = assets/arch/vgg.arch */
  char init_path[TRAIN_PATH_MAX]; /* "" = fresh weights */
  char teacher_path[TRAIN_PATH_MAX]; /* "" = no distillation */
  float teacher_weight;           /* the teacher's share of each target */
  float val_split;                /* stratified share held out when val_dir is "" */
  int epochs;
  int batch;             /* 0 = auto (train_config_auto_batch) */
  float lr;
  float weight_decay;
  float label_smoothing;
  float warmup_epochs;
  float clip_norm;
  uint64_t seed;
  int threads;           /* 0 = all cores */
  int patience;          /* epochs without a better val accuracy; 0 = never stop */
  int augment;
  float blur_prob;       /* augmentation: share of samples blurred */
  float erase_prob;      /* augmentation: share with a rectangle erased */
  int swa_epochs;        /* average the weights of the last N epochs; 0 = off */
  class_weight_mode weights;
  int freeze;            /* first N layers fixed */
  int flip_tta;          /* stored in the model */
  float crop_scale;
} train_config;

void train_config_defaults(train_config *cfg);

/* The batch size when none is given: 64, or 16 for a training set under
 * TRAIN_SMALL_SET images. Measured from scratch on 2,100 FER2013 images (300
 * per class, fer2013/val): small.arch in 20 epochs 21.0% at batch 64 against
 * 27.4% at 16, vgg.arch in 4 epochs 17.7% against 23.0%; a short run on a
 * small set makes too few AdamW steps at 64. The full FER2013 run keeps 64. */
#define TRAIN_SMALL_SET 8192
int train_config_auto_batch(int train_images);

/* Where a key appears besides the checkpoint, which holds them all. */
enum {
  CONFIG_LOG = 1,   /* the header line a run prints before its first epoch */
  CONFIG_MODEL = 2, /* the trained model's metadata (how it was made) */
};

/* One option of `emocam train` from argv[*i]: 1 when it was a training
 * setting (applied to cfg, *i advanced past its value), 0 when it is none
 * (the caller handles it), -1 after a usage error was printed. Sets
 * *epochs_given for --epochs (it may extend a resumed run). */
int train_config_option(train_config *cfg, int argc, char **argv, int *i, int *epochs_given);

/* The option lines of `emocam train --help`, in table order. */
void train_config_help(FILE *out);

/* Appends "key=value\n" for every key whose flags include `only` (0: all)
 * to the text at *buf (malloc'd, *len bytes used, grown as needed).
 * Values round-trip exactly (%.9g for floats). Returns 0 or -1 (no memory;
 * *buf freed and NULL). */
int train_config_format(const train_config *cfg, unsigned only, char **buf, size_t *len);

/* One "key=value" pair of a checkpoint into cfg. Returns 1 when key is a
 * setting and value valid, 0 when key is no setting, -1 on a bad value. */
int train_config_apply(train_config *cfg, const char *key, const char *value);

/* "key=value key=value ..." of the CONFIG_LOG keys, on one line. */
void train_config_log_line(const train_config *cfg, char *out, size_t len);

/* The growable text buffer the formatters share: appends printf output.
 * Returns 0, or -1 with *buf freed and NULL. */
int train_text_append(char **buf, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
