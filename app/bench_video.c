/* bench_video: decode + convert + crop-and-resize frames per second of a
 * video, the capture side of `emocam bench`, with no CNN and no window.
 */
#include "bench_video.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture.h"

static double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int bench_cmp(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return x < y ? -1 : x > y;
}

/* Prints path as a JSON string (quotes and control characters escaped). */
static void bench_json_string(const char *s) {
  putchar('"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      printf("\\%c", c);
    else if (c < 0x20)
      printf("\\u%04x", c);
    else
      putchar(c);
  }
  putchar('"');
}

int bench_video_run(const char *path, int out_c, int out_h, int out_w, float crop_scale,
                    int json) {
  if ((out_c != 1 && out_c != 3) || out_h <= 0 || out_w <= 0 || out_h > 4096 || out_w > 4096) {
    fprintf(stderr, "emocam: bench: bad CNN input shape %dx%dx%d (want 1 or 3 channels)\n",
            out_c, out_h, out_w);
    return 1;
  }
  capture_video_opts opts = {path, CAPTURE_ALL, 0};
  char err[CAPTURE_ERR_LEN];
  capture_source *src = NULL;
  if (capture_open_video(&src, &opts, err, sizeof(err)) != CAPTURE_OK) {
    fprintf(stderr, "emocam: %s\n", err);
    return 1;
  }
  float *input = malloc(sizeof(float) * out_c * out_h * out_w);
  size_t cap = 1024, n = 0;
  float *crop_us = malloc(sizeof(float) * cap); /* one per frame, for the median */
  if (!input || !crop_us) {
    fprintf(stderr, "emocam: bench: out of memory\n");
    free(input);
    free(crop_us);
    capture_close(src);
    return 1;
  }
  double t0 = bench_now();
  capture_frame f;
  int rc;
  while ((rc = capture_next(src, &f, 10000)) == CAPTURE_OK) {
    capture_image img = {f.rgb, f.width, f.height, f.width * 3, 3};
    double c0 = bench_now();
    capture_crop_resize(&img, capture_center_crop(f.width, f.height, crop_scale), out_c, out_h,
                        out_w, input);
    double c1 = bench_now();
    capture_release(src, &f);
    if (n == cap) {
      float *grown = realloc(crop_us, sizeof(float) * cap * 2);
      if (!grown) break;
      crop_us = grown;
      cap *= 2;
    }
    crop_us[n++] = (float)((c1 - c0) * 1e6);
  }
  double wall = bench_now() - t0;
  int status = 0;
  if (rc != CAPTURE_EOF) {
    fprintf(stderr, "emocam: %s: replay stopped after %zu frames: %s\n", path, n,
            rc == CAPTURE_TIMEOUT ? "no frame for 10 s" : capture_error(src));
    status = 1;
  } else if (capture_error(src)[0]) {
    fprintf(stderr, "emocam: warning: %s\n", capture_error(src));
  }
  capture_stats st;
  capture_get_stats(src, &st);
  capture_close(src);
  if (n == 0 && status == 0) {
    fprintf(stderr, "emocam: %s: no frames decoded\n", path);
    status = 1;
  }
  if (status == 0) {
    qsort(crop_us, n, sizeof(float), bench_cmp);
    double fps = wall > 0 ? n / wall : 0, median = crop_us[n / 2];
    if (json) {
      printf("{\"video\": ");
      bench_json_string(path);
      printf(", \"width\": %d, \"height\": %d, \"codec\": ", st.width, st.height);
      bench_json_string(st.pixel_format);
      printf(", \"frames\": %zu, \"seconds\": %.3f, \"fps\": %.1f, \"decode_convert_ms\": %.3f, "
             "\"crop_resize_us_median\": %.1f, \"input\": [%d, %d, %d], \"crop_scale\": %.2f, "
             "\"corrupt_skipped\": %lld}\n",
             n, wall, fps, st.capture_ms, median, out_c, out_h, out_w, crop_scale,
             (long long)st.corrupt_skipped);
    } else {
      printf("video          %s (%dx%d %s)\n", path, st.width, st.height, st.pixel_format);
      printf("frames         %zu in %.3f s\n", n, wall);
      printf("decode+crop    %.1f frames/s (headless, no CNN)\n", fps);
      printf("decode+convert %.3f ms/frame (capture thread)\n", st.capture_ms);
      printf("crop+resize    %.1f us/frame median, to %dx%dx%d, crop scale %.2f\n", median, out_c,
             out_h, out_w, crop_scale);
    }
  }
  free(input);
  free(crop_us);
  return status;
}
