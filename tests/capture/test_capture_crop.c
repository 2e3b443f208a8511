/* test_capture_crop: capture_center_crop rectangles and capture_crop_resize
 * area averaging against hand-computed means, a naive reference, grey/RGB
 * conversion, clipping, and its cost for a 640x480 frame to 48x48 grey.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture.h"
#include "check.h"

static void check_rect(capture_rect r, int x, int y, int w, int h, const char *what) {
  CHECK(r.x == x && r.y == y && r.w == w && r.h == h, "%s: got %d,%d %dx%d, want %d,%d %dx%d",
        what, r.x, r.y, r.w, r.h, x, y, w, h);
}

static void test_center_crop(void) {
  check_rect(capture_center_crop(640, 480, 1.0f), 80, 0, 480, 480, "landscape");
  check_rect(capture_center_crop(480, 640, 1.0f), 0, 80, 480, 480, "portrait");
  check_rect(capture_center_crop(640, 480, 0.5f), 200, 120, 240, 240, "scale 0.5");
  check_rect(capture_center_crop(640, 480, 0.05f), 272, 192, 96, 96, "scale clamped to 0.2");
  check_rect(capture_center_crop(640, 480, 3.0f), 80, 0, 480, 480, "scale clamped to 1");
  check_rect(capture_center_crop(48, 48, 1.0f), 0, 0, 48, 48, "square");
  check_rect(capture_center_crop(320, 240, 0.8f), 64, 24, 192, 192, "320x240 at 0.8");
}

static void test_exact_means(void) {
  /* 4x4 -> 2x2: each output is the plain mean of a 2x2 block */
  uint8_t g[16] = {0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150};
  capture_image img = {g, 4, 4, 4, 1};
  float out[4];
  capture_crop_resize(&img, (capture_rect){0, 0, 4, 4}, 1, 2, 2, out);
  const float want[4] = {25, 45, 105, 125};
  for (int i = 0; i < 4; i++)
    CHECK(NEAR(out[i] * 255, want[i], 1e-3), "4x4->2x2 [%d] = %f, want %f", i, out[i] * 255,
          want[i]);

  /* 3x3 -> 2x2: footprint 1.5 px; the middle row and column count half */
  uint8_t h[9] = {10, 20, 30, 40, 50, 60, 70, 80, 90};
  capture_image im3 = {h, 3, 3, 3, 1};
  capture_crop_resize(&im3, (capture_rect){0, 0, 3, 3}, 1, 2, 2, out);
  const float want3[4] = {
      (10 + 0.5f * 20 + 0.5f * 40 + 0.25f * 50) / 2.25f, /* 23.33 */
      (0.5f * 20 + 30 + 0.25f * 50 + 0.5f * 60) / 2.25f, /* 36.67 */
      (0.5f * 40 + 0.25f * 50 + 70 + 0.5f * 80) / 2.25f, /* 63.33 */
      (0.25f * 50 + 0.5f * 60 + 0.5f * 80 + 90) / 2.25f, /* 76.67 */
  };
  for (int i = 0; i < 4; i++)
    CHECK(NEAR(out[i] * 255, want3[i], 1e-3), "3x3->2x2 [%d] = %f, want %f", i, out[i] * 255,
          want3[i]);

  /* 2x2 -> 4x4 upscaling: each output lies inside one source pixel */
  uint8_t u[4] = {0, 100, 200, 255};
  capture_image im2 = {u, 2, 2, 2, 1};
  float up[16];
  capture_crop_resize(&im2, (capture_rect){0, 0, 2, 2}, 1, 4, 4, up);
  for (int y = 0; y < 4; y++)
    for (int x = 0; x < 4; x++)
      CHECK(NEAR(up[y * 4 + x] * 255, u[(y / 2) * 2 + x / 2], 1e-3), "2x2->4x4 (%d,%d)", x, y);
}

static void test_channels(void) {
  /* RGB -> grey: Y = 0.299 R + 0.587 G + 0.114 B */
  uint8_t px[3] = {200, 100, 50};
  capture_image rgb = {px, 1, 1, 3, 3};
  float y;
  capture_crop_resize(&rgb, (capture_rect){0, 0, 1, 1}, 1, 1, 1, &y);
  CHECK(NEAR(y * 255, 124.2, 1e-3), "luma %f, want 124.2", y * 255);

  /* RGBA with stride > width * 4; the 4th byte is ignored; output CHW */
  uint8_t rgba[2 * 12] = {10, 20, 30, 255, 50, 60, 70, 0, 9, 9, 9, 9,
                          90, 100, 110, 7, 130, 140, 150, 8, 9, 9, 9, 9};
  capture_image im = {rgba, 2, 2, 12, 4};
  float chw[3 * 4];
  capture_crop_resize(&im, (capture_rect){0, 0, 2, 2}, 3, 2, 2, chw);
  const float want[12] = {10, 50, 90, 130, 20, 60, 100, 140, 30, 70, 110, 150};
  for (int i = 0; i < 12; i++)
    CHECK(NEAR(chw[i] * 255, want[i], 1e-3), "RGBA->CHW [%d] = %f, want %f", i, chw[i] * 255,
          want[i]);
  float one[3];
  capture_crop_resize(&im, (capture_rect){0, 0, 2, 2}, 3, 1, 1, one);
  CHECK(NEAR(one[0] * 255, 70, 1e-3) && NEAR(one[1] * 255, 80, 1e-3) &&
            NEAR(one[2] * 255, 90, 1e-3),
        "RGBA 2x2->1x1 mean %f %f %f", one[0] * 255, one[1] * 255, one[2] * 255);

  /* grey input to 3 channels: replicated */
  uint8_t g = 77;
  capture_image gi = {&g, 1, 1, 1, 1};
  capture_crop_resize(&gi, (capture_rect){0, 0, 1, 1}, 3, 1, 1, one);
  CHECK(NEAR(one[0] * 255, 77, 1e-3) && NEAR(one[1] * 255, 77, 1e-3) &&
            NEAR(one[2] * 255, 77, 1e-3),
        "grey->RGB %f %f %f", one[0] * 255, one[1] * 255, one[2] * 255);

  /* a rectangle reaching outside the image is clipped to it */
  capture_crop_resize(&rgb, (capture_rect){-5, -5, 20, 20}, 1, 1, 1, &y);
  CHECK(NEAR(y * 255, 124.2, 1e-3), "clipped rect luma %f", y * 255);
  /* nothing left after clipping: black */
  y = 0.5f;
  capture_crop_resize(&rgb, (capture_rect){5, 5, 2, 2}, 1, 1, 1, &y);
  CHECK(y == 0.0f, "empty rect gives %f, want 0", y);
}

/* Reference: integrate each output footprint pixel by pixel in double. */
static double ref_pixel(const uint8_t *p, int stride, int ch, capture_rect r, int oh, int ow,
                        int c, int oy, int ox, int out_c) {
  double sx = (double)r.w / ow, sy = (double)r.h / oh;
  double fx0 = r.x + ox * sx, fx1 = fx0 + sx, fy0 = r.y + oy * sy, fy1 = fy0 + sy;
  double sum = 0;
  for (int y = (int)floor(fy0); y < (int)ceil(fy1); y++) {
    double wy = fmin(y + 1, fy1) - fmax(y, fy0);
    for (int x = (int)floor(fx0); x < (int)ceil(fx1); x++) {
      double wx = fmin(x + 1, fx1) - fmax(x, fx0);
      const uint8_t *q = p + (size_t)y * stride + (size_t)x * ch;
      double v;
      if (ch == 1)
        v = q[0];
      else if (out_c == 1)
        v = 0.299 * q[0] + 0.587 * q[1] + 0.114 * q[2];
      else
        v = q[c];
      sum += wx * wy * v;
    }
  }
  return sum / (sx * sy) / 255.0;
}

static void test_against_reference(void) {
  srand(1234);
  static uint8_t pix[300 * 310 * 4];
  static float out[3 * 300 * 300];
  for (size_t i = 0; i < sizeof(pix); i++) pix[i] = (uint8_t)(rand() & 255);
  for (int t = 0; t < 40; t++) {
    int ch = (int[]){1, 3, 4}[t % 3];
    int w = 20 + rand() % 280, h = 20 + rand() % 280;
    capture_rect r = {rand() % (w / 2), rand() % (h / 2), 0, 0};
    r.w = 1 + rand() % (w - r.x);
    r.h = 1 + rand() % (h - r.y);
    int out_c = (t & 1) ? 3 : 1;
    int ow = t == 7 ? 300 : 1 + rand() % 64; /* 300 crosses the 256-column chunk */
    int oh = 1 + rand() % 64;
    capture_image img = {pix, w, h, w * ch + 3, ch};
    capture_crop_resize(&img, r, out_c, oh, ow, out);
    double worst = 0;
    for (int c = 0; c < out_c; c++)
      for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++) {
          double want = ref_pixel(pix, img.stride, ch, r, oh, ow, c, oy, ox, out_c);
          double d = fabs(out[((size_t)c * oh + oy) * ow + ox] - want);
          if (d > worst) worst = d;
        }
    CHECK(worst < 1e-4, "case %d (%dx%d c%d rect %d,%d %dx%d -> %dx%dx%d): max error %g", t, w, h,
          ch, r.x, r.y, r.w, r.h, out_c, oh, ow, worst);
  }
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void test_speed(void) {
  static uint8_t frame[640 * 480 * 3];
  for (size_t i = 0; i < sizeof(frame); i++) frame[i] = (uint8_t)(i * 31 + (i >> 7));
  capture_image img = {frame, 640, 480, 640 * 3, 3};
  capture_rect r = capture_center_crop(640, 480, 1.0f);
  float out[48 * 48];
  enum { RUNS = 301 };
  double us[RUNS];
  for (int i = 0; i < RUNS; i++) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    capture_crop_resize(&img, r, 1, 48, 48, out);
    clock_gettime(CLOCK_MONOTONIC, &b);
    us[i] = (b.tv_sec - a.tv_sec) * 1e6 + (b.tv_nsec - a.tv_nsec) / 1e3;
  }
  qsort(us, RUNS, sizeof(double), cmp_double);
  printf("crop_resize 640x480 RGB -> 48x48 grey: median %.1f us, min %.1f us\n", us[RUNS / 2],
         us[0]);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  printf("(sanitizer build: speed not asserted)\n");
#else
  CHECK(us[RUNS / 2] < 1000.0, "crop_resize median %.1f us, want well under 1 ms", us[RUNS / 2]);
#endif
}

int main(void) {
  test_center_crop();
  test_exact_means();
  test_channels();
  test_against_reference();
  test_speed();
  return check_finish("test_capture_crop");
}
