/* session_thumbs: see session_thumbs.h. */
#include "reports/session_thumbs.h"

#include <SDL.h>
#include <SDL_image.h>
#include <stdlib.h>
#include <string.h>

/* The crop of img in rect as a PNG in memory. */
static unsigned char *encode(const capture_image *img, capture_rect rect, size_t *size) {
  enum { S = SESSION_THUMB_SIDE };
  float *planes = malloc(sizeof(float) * 3 * S * S);
  SDL_Surface *s = planes ? SDL_CreateRGBSurfaceWithFormat(0, S, S, 24, SDL_PIXELFORMAT_RGB24) : NULL;
  if (!s) {
    free(planes);
    return NULL;
  }
  capture_crop_resize(img, rect, 3, S, S, planes);
  for (int y = 0; y < S; y++) {
    Uint8 *row = (Uint8 *)s->pixels + (size_t)y * s->pitch;
    for (int x = 0; x < S; x++)
      for (int c = 0; c < 3; c++) {
        float v = planes[(c * S + y) * S + x];
        row[x * 3 + c] = (Uint8)(v <= 0 ? 0 : v >= 1 ? 255 : v * 255.0f + 0.5f);
      }
  }
  free(planes);
  size_t cap = (size_t)S * S * 4 + 65536;
  unsigned char *buf = malloc(cap);
  SDL_RWops *rw = buf ? SDL_RWFromMem(buf, (int)cap) : NULL;
  int ok = rw && IMG_SavePNG_RW(s, rw, 0) == 0;
  Sint64 n = rw ? SDL_RWtell(rw) : -1;
  if (rw) SDL_RWclose(rw);
  SDL_FreeSurface(s);
  if (!ok || n <= 0) {
    free(buf);
    return NULL;
  }
  *size = (size_t)n;
  return buf;
}

int session_thumbs_read(const char *video, session_thumb *thumbs, int n, char *err,
                        size_t errlen) {
  int64_t last = -1;
  for (int i = 0; i < n; i++) {
    thumbs[i].png = NULL, thumbs[i].png_size = 0;
    if (thumbs[i].frame > last) last = thumbs[i].frame;
  }
  if (last < 0) return 0;
  capture_source *src = NULL;
  capture_video_opts vo = {video, CAPTURE_ALL, 0};
  if (capture_open_video(&src, &vo, err, errlen) != CAPTURE_OK) return -1;
  int rc = 0;
  for (;;) {
    capture_frame f;
    int r = capture_next(src, &f, 1000);
    if (r == CAPTURE_TIMEOUT) continue;
    if (r != CAPTURE_OK) {
      if (r != CAPTURE_EOF) {
        snprintf(err, errlen, "%s: %s", video, capture_error(src));
        rc = -1;
      }
      break;
    }
    capture_image img = {f.rgb, f.width, f.height, f.width * 3, 3};
    for (int i = 0; i < n; i++)
      if (thumbs[i].frame == f.seq && !thumbs[i].png)
        thumbs[i].png = encode(&img, thumbs[i].box, &thumbs[i].png_size);
    int64_t seq = f.seq;
    capture_release(src, &f);
    if (seq >= last) break;
  }
  capture_close(src);
  return rc;
}

void session_thumbs_free(session_thumb *thumbs, int n) {
  for (int i = 0; i < n; i++) {
    free(thumbs[i].png);
    thumbs[i].png = NULL;
  }
}
