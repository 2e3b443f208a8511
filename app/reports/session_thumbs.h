/* session_thumbs: thumbnails of chosen frames of a video, for the session
 * report: the video is decoded once from its start up to the last frame
 * wanted, and each wanted frame's box is cut, resized and encoded as PNG. */
#ifndef APP_SESSION_THUMBS_H
#define APP_SESSION_THUMBS_H

#include <stddef.h>
#include <stdint.h>

#include "capture.h"

#define SESSION_THUMB_SIDE 112

typedef struct {
  int64_t frame;      /* wanted frame number (the CSV's frame) */
  capture_rect box;   /* the crop to show */
  unsigned char *png; /* filled: the PNG (malloc'd), NULL when not found */
  size_t png_size;
} session_thumb;

/* Fills thumbs[0..n) from video. Returns 0 (thumbs whose frame the video
 * does not have stay NULL), or -1 with err naming the video. */
int session_thumbs_read(const char *video, session_thumb *thumbs, int n, char *err,
                        size_t errlen);
void session_thumbs_free(session_thumb *thumbs, int n);

#endif
