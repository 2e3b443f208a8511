/* image_file: image files into model input through SDL2_image and the
 * crop-and-resize stage shared with the live path. */
#include "common/image_file.h"

#include <SDL.h>
#include <SDL_image.h>
#include <stdio.h>

#include "capture.h"

int image_file_init(char *err, size_t errlen) {
  const int wanted = IMG_INIT_JPG | IMG_INIT_PNG | IMG_INIT_WEBP;
  if ((IMG_Init(wanted) & (IMG_INIT_JPG | IMG_INIT_PNG)) != (IMG_INIT_JPG | IMG_INIT_PNG)) {
    snprintf(err, errlen, "SDL2_image cannot decode JPEG/PNG: %s", IMG_GetError());
    return -1;
  }
  return 0;
}

int image_file_load_sample(const char *path, int c, int h, int w, float crop_scale, float *out,
                           char *err, size_t errlen) {
  SDL_Surface *decoded = IMG_Load(path);
  if (!decoded) {
    snprintf(err, errlen, "%s: not a decodable image (%s)", path, IMG_GetError());
    return -1;
  }
  /* One pixel layout for every source (palette grey JPEGs, RGBA PNGs, ...). */
  SDL_Surface *rgb = SDL_ConvertSurfaceFormat(decoded, SDL_PIXELFORMAT_RGB24, 0);
  SDL_FreeSurface(decoded);
  if (!rgb) {
    snprintf(err, errlen, "%s: cannot convert to RGB: %s", path, SDL_GetError());
    return -1;
  }
  if (rgb->w < 1 || rgb->h < 1) {
    snprintf(err, errlen, "%s: empty image (%dx%d)", path, rgb->w, rgb->h);
    SDL_FreeSurface(rgb);
    return -1;
  }
  capture_image img = {rgb->pixels, rgb->w, rgb->h, rgb->pitch, 3};
  capture_crop_resize(&img, capture_center_crop(rgb->w, rgb->h, crop_scale), c, h, w, out);
  SDL_FreeSurface(rgb);
  return 0;
}
