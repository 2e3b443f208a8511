/* train: the training run behind `emocam train`: data, model set-up
 * (fresh, --init or --resume), the epoch loop with augmentation, class
 * weights, validation, early stopping, checkpoints, logs and temperature
 * calibration.
 */
#ifndef APP_TRAIN_H
#define APP_TRAIN_H

#include <stdint.h>

typedef enum { WEIGHTS_AUTO, WEIGHTS_OFF, WEIGHTS_SQRT, WEIGHTS_INVERSE } class_weight_mode;

typedef struct {
  char data_dir[1024];
  char val_dir[1024];    /* "" = split off val_split of data_dir */
  char out_path[1024];
  char arch_path[1024];  /* "" = assets/arch/vgg.arch */
  char init_path[1024];  /* "" = fresh weights */
  float val_split;       /* stratified share held out when val_dir is "" */
  int epochs;
  int batch;
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

/* Runs a whole training. resume_path: a checkpoint to continue, or NULL.
 * Returns the process exit code: 0, 1 (runtime error), 130 (interrupted,
 * checkpoint saved). Prints progress; errors as "emocam: ...". */
int train_run(train_config *cfg, const char *resume_path);

#endif
