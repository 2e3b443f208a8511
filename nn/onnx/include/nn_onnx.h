/* nn_onnx: ONNX model files (https://onnx.ai) into and out of nn.
 *
 * Export writes an nn_model as one ONNX graph that computes exactly what
 * the model reports: the network, the softmax temperature and, when the
 * model averages with a mirrored input, both passes and their mean. Import
 * reads a graph of the operators nn runs (see nn_onnx_operators) into an
 * nn_model; an emocam export comes back as the model it was.
 *
 * The pixel convention travels in metadata_props: input = (pixel -
 * pixel_mean) * pixel_scale for pixels 0..255. emocam's own models take
 * pixel / 255 (scale 1/255, mean 0); an imported model with another
 * convention keeps it in its preprocessing text ("pixel_mean=M
 * pixel_scale=S"), which the app applies.
 *
 * Files come from strangers: every count, size and shape is checked before
 * it is used, nothing is allocated from a declared size the file does not
 * hold, and failures return <0 with err naming the file, the node and what
 * was wrong. Never prints, never exits. */
#ifndef NN_ONNX_H
#define NN_ONNX_H

#include <stddef.h>

#include "nn.h"

/* The largest ONNX file read (bytes): emocam's models are a few MB; this
 * leaves room for big imported ones without reading a disk into memory. */
#define NN_ONNX_MAX_FILE (512L << 20)

typedef struct {
  const char *classes; /* "a,b,c": class names in output order, or NULL (metadata) */
  float pixel_scale;   /* > 0 to override the file's metadata (0: metadata or 1/255) */
  float pixel_mean;
  int have_pixel_mean; /* pixel_mean given (it may be 0) */
} nn_onnx_import_opts;

/* Reads an ONNX model file into *model (net with buffers for max_batch
 * samples). opts may be NULL. Returns 0, or <0 with err filled and *model
 * left empty (safe to nn_model_free). */
int nn_onnx_import_file(const char *path, const nn_onnx_import_opts *opts, nn_model *model,
                        int max_batch, char *err, size_t errlen);
/* Same from memory (tests, the fuzzer); name is used in messages. */
int nn_onnx_import_buffer(const void *data, size_t size, const char *name,
                          const nn_onnx_import_opts *opts, nn_model *model, int max_batch,
                          char *err, size_t errlen);

/* Writes model as ONNX (opset 13) to path, atomically (nn_write_file_atomic).
 * version: the producer's version for metadata ("0.1.0"). The net must not
 * be folded. Returns 0 or <0 with err filled. */
int nn_onnx_export_file(const char *path, const nn_model *model, const char *version,
                        char *err, size_t errlen);
/* Same into memory: *out (malloc'd, caller frees) of *size bytes. */
int nn_onnx_export_buffer(const nn_model *model, const char *version, unsigned char **out,
                          size_t *size, char *err, size_t errlen);

/* 1 when the file at path starts like an ONNX model rather than an .emo
 * (used to pick the loader for --model); 0 otherwise or unreadable. */
int nn_onnx_is_onnx_file(const char *path);

/* The pixel convention of a preprocessing text: scale and mean from its
 * "pixel_scale=" and "pixel_mean=" keys, else emocam's own (1/255, 0).
 * Returns 1 when the text names a convention other than emocam's. */
int nn_onnx_pixel_map(const char *preprocess, float *scale, float *mean);

/* The operators import maps, comma-separated (static). */
const char *nn_onnx_operators(void);

#endif
