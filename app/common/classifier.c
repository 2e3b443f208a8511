/* classifier: model + preprocessing, shared by predict, eval and live. */
#include "common/classifier.h"
#include "common/model_open.h"
#include "nn_onnx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/assets.h"

/* Reads "crop_scale=F" from the model's preprocessing text; 1 if absent. */
static float preprocess_crop_scale(const char *text) {
  const char *p = text ? strstr(text, "crop_scale=") : NULL;
  if (!p) return 1.0f;
  char *end = NULL;
  float v = strtof(p + strlen("crop_scale="), &end);
  return (end != p && v >= 0.2f && v <= 1.0f) ? v : 1.0f;
}

int classifier_open(classifier *cl, const char *model_path, int max_batch, char *err,
                    size_t errlen) {
  memset(cl, 0, sizeof *cl);
  if (model_path) {
    snprintf(cl->path, sizeof cl->path, "%s", model_path);
  } else if (assets_find(ASSETS_DEFAULT_MODEL, cl->path, sizeof cl->path) != 0) {
    snprintf(err, errlen,
             "no default model: %s not found (train one with 'emocam train', or pass --model)",
             cl->path);
    return -1;
  }
  if (model_open(cl->path, &cl->model, max_batch, NULL, err, errlen) != 0) return -1;
  if (nn_net_fold_batchnorm(cl->model.net, err, errlen) != 0) {
    classifier_close(cl);
    return -1;
  }
  const char *slash = strrchr(cl->path, '/');
  cl->name = slash ? slash + 1 : cl->path;
  cl->c = nn_net_input_c(cl->model.net);
  cl->h = nn_net_input_h(cl->model.net);
  cl->w = nn_net_input_w(cl->model.net);
  cl->num_classes = cl->model.num_classes;
  cl->max_batch = max_batch;
  cl->crop_scale = preprocess_crop_scale(cl->model.preprocess);
  cl->remap = nn_onnx_pixel_map(cl->model.preprocess, &cl->pixel_scale, &cl->pixel_mean);
  cl->work = malloc(sizeof(float) * (size_t)max_batch * cl->c * cl->h * cl->w);
  cl->probs2 = malloc(sizeof(float) * (size_t)max_batch * cl->num_classes);
  if (!cl->work || !cl->probs2) {
    snprintf(err, errlen, "%s: out of memory for a batch of %d", cl->path, max_batch);
    classifier_close(cl);
    return -1;
  }
  return 0;
}

void classifier_close(classifier *cl) {
  if (!cl) return;
  nn_model_free(&cl->model);
  free(cl->work);
  free(cl->probs2);
  memset(cl, 0, sizeof *cl);
}

/* Mirrors every row of x (rows of width w) left-right, in place. */
static void mirror_rows(float *x, size_t rows, int w) {
  for (size_t r = 0; r < rows; r++) {
    float *row = x + r * w;
    for (int i = 0, j = w - 1; i < j; i++, j--) {
      float t = row[i];
      row[i] = row[j];
      row[j] = t;
    }
  }
}

/* Forward pass of the m samples in x, averaged with their mirror images when
 * the model asks for flip test-time augmentation. x may be cl->work. */
static int forward_tta(classifier *cl, const float *x, int m, float *probs) {
  const size_t sample = (size_t)cl->c * cl->h * cl->w;
  if (cl->remap) { /* x holds pixel / 255 */
    const float a = 255.0f * cl->pixel_scale, b = -cl->pixel_mean * cl->pixel_scale;
    for (size_t i = 0; i < sample * m; i++) cl->work[i] = a * x[i] + b;
    x = cl->work;
  }
  if (nn_net_forward(cl->model.net, x, m, probs) != 0) return -1;
  if (!cl->model.flip_tta) return 0;
  if (x != cl->work) memcpy(cl->work, x, sizeof(float) * sample * m);
  mirror_rows(cl->work, sample * m / cl->w, cl->w);
  if (nn_net_forward(cl->model.net, cl->work, m, cl->probs2) != 0) return -1;
  for (int i = 0; i < m * cl->num_classes; i++) probs[i] = 0.5f * (probs[i] + cl->probs2[i]);
  return 0;
}

int classifier_run(classifier *cl, const float *x, int n, float *probs) {
  const size_t sample = (size_t)cl->c * cl->h * cl->w;
  for (int start = 0; start < n; start += cl->max_batch) {
    int m = n - start < cl->max_batch ? n - start : cl->max_batch;
    if (forward_tta(cl, x + start * sample, m, probs + (size_t)start * cl->num_classes) != 0)
      return -1;
  }
  return 0;
}

int classifier_run_image(classifier *cl, const capture_image *img, capture_rect rect,
                         float *probs) {
  capture_crop_resize(img, rect, cl->c, cl->h, cl->w, cl->work);
  return forward_tta(cl, cl->work, 1, probs);
}

const char *classifier_made_by(const classifier *cl, char *buf, size_t len) {
  const char *s = cl->model.train_state, *p = s;
  if (len) buf[0] = '\0';
  while (p && *p) { /* "key=value" lines */
    if (!strncmp(p, "made_by=", 8)) {
      size_t n = strcspn(p + 8, "\n");
      snprintf(buf, len, "%.*s", (int)n, p + 8);
      break;
    }
    p = strchr(p, '\n');
    if (p) p++;
  }
  return buf;
}

int classifier_argmax(const float *probs, int num_classes) {
  int best = 0;
  for (int i = 1; i < num_classes; i++)
    if (probs[i] > probs[best]) best = i;
  return best;
}
