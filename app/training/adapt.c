/* adapt: fine-tuning a model on a person's crops, measured before and after
 * on a held-out share of them (see adapt.h). */
#include "training/adapt.h"
#include "common/model_open.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/classifier.h"
#include "common/clock.h"

/* The recipe, measured on mux8 people (README, "Teach it your face"): few
 * crops want few, gentle steps on the upper layers only, and targets that
 * keep part of what the original model said, so the classes the person did
 * not act out are still predicted. */
void adapt_defaults(adapt_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->epochs = 40;
  cfg->batch = 16;
  cfg->lr = 3e-3f;
  cfg->freeze = -1;
  cfg->holdout = 0.2f;
  cfg->keep_weight = 0.2f;
  cfg->seed = 1;
}

/* Accuracy of the model file at path on n preprocessed samples, as
 * `emocam predict` computes its probabilities (folded, flip averaging). */
static double accuracy(const char *path, const float *x, const int *y, int n, char *err,
                       size_t errlen) {
  if (n == 0) return NAN;
  classifier cl;
  if (classifier_open(&cl, path, 32, err, errlen) != 0) return -1;
  float *probs = malloc(sizeof(float) * 32 * cl.num_classes);
  int right = 0;
  const size_t sample = (size_t)cl.c * cl.h * cl.w;
  for (int i = 0; probs && i < n; i += 32) {
    int b = n - i < 32 ? n - i : 32;
    classifier_run(&cl, x + sample * i, b, probs);
    for (int j = 0; j < b; j++) right += classifier_argmax(probs + j * cl.num_classes, cl.num_classes) == y[i + j];
  }
  free(probs);
  classifier_close(&cl);
  return (double)right / n;
}

/* "adapted_from=...\nadapted_crops=angry:3,happy:10\n": where the personal
 * model came from, in its metadata. */
static char *provenance(const char *model_path, const dataset *d) {
  char *text = NULL;
  size_t len = 0;
  if (train_text_append(&text, &len, "adapted_from=%s\nadapted_crops=", model_path) != 0)
    return NULL;
  for (int k = 0, first = 1; k < d->num_classes; k++) {
    if (!d->class_counts[k]) continue;
    if (train_text_append(&text, &len, "%s%s:%d", first ? "" : ",", d->class_names[k],
                          d->class_counts[k]) != 0)
      return NULL;
    first = 0;
  }
  if (train_text_append(&text, &len, "\n") != 0) return NULL;
  return text;
}

/* The training settings of the recipe for model m. */
static void recipe(train_config *tc, const adapt_config *cfg, const nn_model *m) {
  train_config_defaults(tc);
  snprintf(tc->data_dir, sizeof tc->data_dir, "%s", cfg->data_dir);
  snprintf(tc->out_path, sizeof tc->out_path, "%s", cfg->out_path);
  tc->epochs = cfg->epochs;
  tc->batch = cfg->batch;
  tc->lr = cfg->lr;
  tc->seed = cfg->seed;
  tc->threads = cfg->threads > 0 ? cfg->threads : nn_get_threads();
  tc->val_split = 0; /* the held-out share is measured here, not selected on */
  tc->patience = 0;
  tc->warmup_epochs = 1;
  tc->weights = WEIGHTS_OFF;
  tc->flip_tta = m->flip_tta;
  int layers = nn_net_num_layers(m->net);
  /* the last 8 layers adapt: in vgg.arch the last conv + bn + relu, the
   * pooling and the head (measured better than the last block or all) */
  tc->freeze = cfg->freeze >= 0 ? cfg->freeze : layers > 8 ? layers - 8 : 0;
}

int adapt_run(const char *model_path, const adapt_config *cfg, const train_observer *obs,
              adapt_result *res, char *err, size_t errlen) {
  double t0 = clock_now_s();
  memset(res, 0, sizeof *res);
  res->acc_before = res->acc_after = NAN;
  nn_model m;
  if (model_open_trainable(model_path, &m, 1, err, errlen) != 0) return TRAIN_FAILED;
  int rc = TRAIN_FAILED;
  dataset d = {0};
  float *hx = NULL;
  int *hy = NULL;
  char *meta = NULL;
  train_session *s = NULL;
  const int c = nn_net_input_c(m.net), h = nn_net_input_h(m.net), w = nn_net_input_w(m.net);
  classifier probe; /* the model's crop_scale, read as the live path reads it */
  if (classifier_open(&probe, model_path, 1, err, errlen) != 0) goto done;
  float crop_scale = probe.crop_scale;
  classifier_close(&probe);
  if (dataset_load(&d, cfg->data_dir, c, h, w, crop_scale, (const char *const *)m.class_names,
                   m.num_classes, err, errlen) != 0)
    goto done;
  if (d.skipped) {
    snprintf(err, errlen, "%s: %d file%s not a decodable image (named above): remove %s", cfg->data_dir,
             d.skipped, d.skipped == 1 ? " is" : "s are", d.skipped == 1 ? "it" : "them");
    goto done;
  }
  res->num_classes = d.num_classes;
  for (int k = 0; k < d.num_classes && k < 64; k++) res->crops[k] = d.class_counts[k];
  int held = dataset_split(&d, cfg->holdout, cfg->seed, &hx, &hy);
  if (held < 0) {
    snprintf(err, errlen, "out of memory");
    goto done;
  }
  res->held_out = held;
  res->trained = d.n;
  if (d.n < 2) {
    snprintf(err, errlen, "%s: %d crop%s to train on: collect a few per class first", cfg->data_dir,
             d.n, d.n == 1 ? "" : "s");
    goto done;
  }
  res->acc_before = accuracy(model_path, hx, hy, held, err, errlen);
  if (!(meta = provenance(model_path, &d))) {
    snprintf(err, errlen, "out of memory");
    goto done;
  }
  train_config tc;
  recipe(&tc, cfg, &m);
  train_inputs in = {.train = &d, .init = &m, .metadata = meta, .ephemeral = 1,
                     .teacher = cfg->keep_weight > 0 ? &m : NULL,
                     .teacher_weight = cfg->keep_weight};
  if (train_session_create(&s, &tc, &in, obs, err, errlen) != 0) goto done;
  rc = train_session_run(s, err, errlen);
  if (rc == TRAIN_DONE && held > 0) {
    res->acc_after = accuracy(cfg->out_path, hx, hy, held, err, errlen);
  }
done:
  res->seconds = clock_now_s() - t0;
  train_session_destroy(s);
  dataset_free(&d);
  free(hx);
  free(hy);
  free(meta);
  nn_model_free(&m);
  return rc;
}
