/* image_file: decodes an image file (JPEG, PNG, BMP, WebP, ... detected by
 * content through SDL2_image) and turns it into model input with the shared
 * crop-and-resize stage of capture/, exactly as live frames are.
 */
#ifndef APP_IMAGE_FILE_H
#define APP_IMAGE_FILE_H

#include <stddef.h>

/* Decodes path, centre-crops (crop_scale of the shorter side), resizes with
 * area averaging to w x h in c channels (1 grey, 3 RGB) and scales to [0,1].
 * out: [c, h, w]. Returns 0, or -1 with err naming the file and the reason.
 * Call image_file_init() once first. Not thread-safe (SDL2_image). */
int image_file_load_sample(const char *path, int c, int h, int w, float crop_scale, float *out,
                           char *err, size_t errlen);

/* Initialises SDL2_image's decoders (idempotent). Returns 0 or -1. */
int image_file_init(char *err, size_t errlen);

#endif
