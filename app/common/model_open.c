/* model_open: .emo or ONNX, by what the file is (model_open.h). */
#include "common/model_open.h"

#include <stdio.h>

#include "nn_onnx.h"

int model_open(const char *path, nn_model *model, int max_batch, nn_adamw **opt_out, char *err,
               size_t errlen) {
  if (opt_out) *opt_out = NULL;
  if (nn_onnx_is_onnx_file(path)) return nn_onnx_import_file(path, NULL, model, max_batch, err, errlen);
  return nn_model_load(path, model, max_batch, opt_out, err, errlen);
}

int model_open_trainable(const char *path, nn_model *model, int max_batch, char *err,
                         size_t errlen) {
  if (model_open(path, model, max_batch, NULL, err, errlen) != 0) return -1;
  float scale, mean;
  if (nn_onnx_pixel_map(model->preprocess, &scale, &mean)) {
    snprintf(err, errlen,
             "%s: takes pixels as (pixel - %g) * %g; training feeds pixel / 255, so this model "
             "can be run but not trained further",
             path, (double)mean, (double)scale);
    nn_model_free(model);
    return -1;
  }
  return 0;
}
