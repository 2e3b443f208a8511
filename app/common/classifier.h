/* classifier: a loaded model plus the preprocessing its inputs need. Frames or
 * already-preprocessed samples in, calibrated class probabilities out. Shared
 * by predict, eval and the live path, so all three see faces the same way.
 */
#ifndef APP_CLASSIFIER_H
#define APP_CLASSIFIER_H

#include <stddef.h>

#include "capture.h"
#include "nn.h"

typedef struct {
  nn_model model;   /* owned; model.net is folded for inference */
  char path[1024];  /* the model file it came from */
  const char *name; /* base name of path, for status lines; points into path
                       (so a classifier is not copied by value) */
  int c, h, w;      /* input shape */
  int num_classes;
  int max_batch;
  float crop_scale; /* from the model's preprocessing text (default 1) */
  /* An imported model's pixel convention, input = (pixel - mean) * scale,
   * applied to the [0,1] samples when `remap` (emocam's own: pixel / 255). */
  int remap;
  float pixel_scale, pixel_mean;
  float *work;      /* [max_batch, c, h, w]: preprocessed / mirrored input */
  float *probs2;    /* [max_batch, num_classes]: mirrored pass of flip TTA */
} classifier;

/* Opens model_path, or the default model (assets/fer2013.emo) when NULL, for
 * batches of up to max_batch samples. Returns 0 or -1 with err filled. */
int classifier_open(classifier *cl, const char *model_path, int max_batch, char *err,
                    size_t errlen);
void classifier_close(classifier *cl); /* zeroed or opened; NULL ok */

/* probs: [n, num_classes]. x: [n, c, h, w] preprocessed samples in [0,1]. */
int classifier_run(classifier *cl, const float *x, int n, float *probs);

/* One frame or image: crop rect, resize into the model's input, classify.
 * probs: [num_classes]. */
int classifier_run_image(classifier *cl, const capture_image *img, capture_rect rect,
                         float *probs);

/* The model's "made_by" metadata (e.g. "emocam 0.3.0 train") into buf, or
 * "" when it has none. Returns buf. */
const char *classifier_made_by(const classifier *cl, char *buf, size_t len);

/* Index of the largest probability (lowest index wins ties). */
int classifier_argmax(const float *probs, int num_classes);

#endif
