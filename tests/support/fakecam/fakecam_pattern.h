/* fakecam_pattern: the deterministic test picture of the fake camera, shared
 * by the fake (which encodes it as YUYV or MJPEG) and the tests (which check
 * the RGB24 that libv4l2 hands back). 16x16 blocks of one colour each, so
 * 4:2:2 / 4:2:0 chroma loses nothing; mild saturation, so libv4lconvert's
 * integer YUV -> RGB approximations stay within a few levels.
 */
#ifndef FAKECAM_PATTERN_H
#define FAKECAM_PATTERN_H

#include <stdint.h>

static inline void fakecam_pattern(int x, int y, int64_t seq, uint8_t rgb[3]) {
  int bx = x / 16, by = y / 16;
  int base = 70 + (int)((bx * 7 + by * 13 + seq * 5) % 110); /* 70 .. 179 */
  rgb[0] = (uint8_t)(base + 12 * ((bx % 3) - 1));
  rgb[1] = (uint8_t)base;
  rgb[2] = (uint8_t)(base + 12 * ((by % 3) - 1));
}

/* Full-range BT.601 (JFIF), what libv4lconvert assumes for YUYV and MJPEG. */
static inline void fakecam_rgb_to_yuv(const uint8_t rgb[3], int *y, int *u, int *v) {
  double r = rgb[0], g = rgb[1], b = rgb[2];
  *y = (int)(0.299 * r + 0.587 * g + 0.114 * b + 0.5);
  *u = (int)(128.0 - 0.168736 * r - 0.331264 * g + 0.5 * b + 0.5);
  *v = (int)(128.0 + 0.5 * r - 0.418688 * g - 0.081312 * b + 0.5);
}

#endif
