/* model_open: reads a model from an .emo file or an ONNX file, whichever
 * the path holds, so that every --model takes both. */
#ifndef APP_MODEL_OPEN_H
#define APP_MODEL_OPEN_H

#include <stddef.h>

#include "nn.h"

/* As nn_model_load (net buffers for max_batch samples). An ONNX file is
 * imported with its own metadata (class names, pixel convention); it holds
 * no optimizer state, so *opt_out (when asked for) is NULL. */
int model_open(const char *path, nn_model *model, int max_batch, nn_adamw **opt_out, char *err,
               size_t errlen);

/* The same for a model that training will feed (--init, --teacher, adapt):
 * training gives pixels as pixel / 255, so a model imported with another
 * pixel convention is refused, naming it. */
int model_open_trainable(const char *path, nn_model *model, int max_batch, char *err,
                         size_t errlen);

#endif
