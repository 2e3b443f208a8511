/* bench_video: decode + convert + crop-and-resize frames per second of a
 * video, the capture side of `emocam bench`, with no CNN and no window.
 */
#include "live/bench_video.h"

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
                    const char *cascade_path, int json) {
  if ((out_c != 1 && out_c != 3) || out_h <= 0 || out_w <= 0 || out_h > 4096 || out_w > 4096) {
    fprintf(stderr, "emocam: bench: bad CNN input shape %dx%dx%d (want 1 or 3 channels)\n",
            out_c, out_h, out_w);
    return 1;
  }
  capture_video_opts opts = {path, CAPTURE_ALL, 0};
  char err[CAPTURE_ERR_LEN];
  capture_source *src = NULL;
  capture_cascade *cascade = NULL;
  capture_face_detector *det = NULL;
  capture_face_opts fo;
  capture_face_defaults(&fo);
  if (cascade_path && (capture_cascade_load(&cascade, cascade_path, err, sizeof err) != 0 ||
                       capture_face_detector_create(&det, cascade, err, sizeof err) != 0)) {
    fprintf(stderr, "emocam: %s\n", err);
    capture_cascade_destroy(cascade);
    return 1;
  }
  if (capture_open_video(&src, &opts, err, sizeof(err)) != CAPTURE_OK) {
    fprintf(stderr, "emocam: %s\n", err);
    capture_face_detector_destroy(det);
    capture_cascade_destroy(cascade);
    return 1;
  }
  float *input = malloc(sizeof(float) * out_c * out_h * out_w);
  size_t cap = 1024, n = 0, with_face = 0;
  /* one of each per frame, for the medians */
  float *crop_us = malloc(sizeof(float) * cap), *detect_ms = malloc(sizeof(float) * cap);
  if (!input || !crop_us || !detect_ms) {
    fprintf(stderr, "emocam: bench: out of memory\n");
    free(input);
    free(crop_us);
    free(detect_ms);
    capture_close(src);
    capture_face_detector_destroy(det);
    capture_cascade_destroy(cascade);
    return 1;
  }
  double t0 = bench_now();
  capture_frame f;
  int rc;
  while ((rc = capture_next(src, &f, 10000)) == CAPTURE_OK) {
    capture_image img = {f.rgb, f.width, f.height, f.width * 3, 3};
    capture_rect rect = capture_center_crop(f.width, f.height, crop_scale), face;
    double d0 = bench_now();
    if (det && capture_face_detect(det, &img, &fo, &face, 1) > 0) {
      rect = face;
      with_face++;
    }
    double c0 = bench_now();
    capture_crop_resize(&img, rect, out_c, out_h, out_w, input);
    double c1 = bench_now();
    capture_release(src, &f);
    if (n == cap) {
      float *grown = realloc(crop_us, sizeof(float) * cap * 2);
      if (grown) crop_us = grown;
      float *grown2 = grown ? realloc(detect_ms, sizeof(float) * cap * 2) : NULL;
      if (!grown2) break;
      detect_ms = grown2;
      cap *= 2;
    }
    detect_ms[n] = (float)((c0 - d0) * 1e3);
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
    qsort(detect_ms, n, sizeof(float), bench_cmp);
    double fps = wall > 0 ? n / wall : 0, median = crop_us[n / 2];
    double detect = det ? detect_ms[n / 2] : 0.0, face_share = 100.0 * with_face / n;
    if (json) {
      printf("{\"video\": ");
      bench_json_string(path);
      printf(", \"width\": %d, \"height\": %d, \"codec\": ", st.width, st.height);
      bench_json_string(st.pixel_format);
      printf(", \"frames\": %zu, \"seconds\": %.3f, \"fps\": %.1f, \"decode_convert_ms\": %.3f, "
             "\"crop_resize_us_median\": %.1f, \"input\": [%d, %d, %d], \"crop_scale\": %.2f, "
             "\"corrupt_skipped\": %lld, \"crop\": \"%s\"",
             n, wall, fps, st.capture_ms, median, out_c, out_h, out_w, crop_scale,
             (long long)st.corrupt_skipped, det ? "face" : "center");
      if (det)
        printf(", \"detect_ms_median\": %.3f, \"frames_with_face\": %zu", detect, with_face);
      printf("}\n");
    } else {
      printf("video          %s (%dx%d %s)\n", path, st.width, st.height, st.pixel_format);
      printf("frames         %zu in %.3f s\n", n, wall);
      printf("decode+crop    %.1f frames/s (headless, no CNN)\n", fps);
      printf("decode+convert %.3f ms/frame (capture thread)\n", st.capture_ms);
      if (det)
        printf("face detect    %.2f ms/frame median (%dx%d frame), a face in %zu of %zu frames "
               "(%.1f%%)\n",
               detect, st.width, st.height, with_face, n, face_share);
      printf("crop+resize    %.1f us/frame median, to %dx%dx%d, %s\n", median, out_c, out_h,
             out_w, det ? "largest face (centre square without one)" : "centre square");
    }
  }
  free(input);
  free(crop_us);
  free(detect_ms);
  capture_face_detector_destroy(det);
  capture_cascade_destroy(cascade);
  return status;
}
