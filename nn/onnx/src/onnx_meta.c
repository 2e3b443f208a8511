/* onnx_meta: what a file is and the pixel convention a model states (the
 * parts of nn_onnx.h that both directions and the app's --model use). */
#include "nn_onnx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int nn_onnx_is_onnx_file(const char *path) {
  size_t n = strlen(path);
  if (n > 5 && !strcasecmp(path + n - 5, ".onnx")) return 1;
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  int c = fgetc(f);
  fclose(f);
  return c == 0x08; /* field 1 (ir_version), varint: how every ONNX file begins */
}

int nn_onnx_pixel_map(const char *preprocess, float *scale, float *mean) {
  *scale = 1.0f / 255.0f;
  *mean = 0.0f;
  const char *s = preprocess ? strstr(preprocess, "pixel_scale=") : NULL;
  const char *m = preprocess ? strstr(preprocess, "pixel_mean=") : NULL;
  if (s) *scale = strtof(s + strlen("pixel_scale="), NULL);
  if (m) *mean = strtof(m + strlen("pixel_mean="), NULL);
  return s || m;
}
