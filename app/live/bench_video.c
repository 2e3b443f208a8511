/* bench_video: decode + convert + crop-and-resize frames per second of a
 * video, the capture side of `emocam bench`, with no CNN and no window.
 */
#include "live/bench_video.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "capture_face.h"
#include "common/clock.h"
#include "common/json_out.h"
#include "live/faces.h"

static int bench_cmp(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return x < y ? -1 : x > y;
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
  face_stage fs;
  faces_stage_init(&fs, det, 1, 1, 0.0f, crop_scale); /* valid arguments: cannot fail */
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
  double t0 = clock_now_s();
  capture_frame f;
  int rc;
  while ((rc = capture_next(src, &f, 10000)) == CAPTURE_OK) {
    capture_image img = {f.rgb, f.width, f.height, f.width * 3, 3};
    double d0 = clock_now_s();
    /* the live path's framing: the largest face's crop, else the centre */
    if (faces_stage_frame(&fs, &img, f.pts_s, NULL) < 0) break;
    with_face += fs.crops[0].id >= 0;
    double c0 = clock_now_s();
    capture_crop_resize(&img, fs.crops[0].box, out_c, out_h, out_w, input);
    double c1 = clock_now_s();
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
  double wall = clock_now_s() - t0;
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
      json_out j;
      json_out_init(&j, stdout);
      json_begin_object(&j, 1);
      json_key(&j, "video"), json_string(&j, path);
      json_key(&j, "width"), json_int(&j, st.width);
      json_key(&j, "height"), json_int(&j, st.height);
      json_key(&j, "codec"), json_string(&j, st.pixel_format);
      json_key(&j, "frames"), json_int(&j, (long long)n);
      json_key(&j, "seconds"), json_number(&j, wall);
      json_key(&j, "fps"), json_number(&j, fps);
      json_key(&j, "decode_convert_ms"), json_number(&j, st.capture_ms);
      json_key(&j, "crop_resize_us_median"), json_number(&j, median);
      json_key(&j, "input"), json_begin_array(&j, 1);
      json_int(&j, out_c), json_int(&j, out_h), json_int(&j, out_w), json_end_array(&j);
      json_key(&j, "crop_scale"), json_number(&j, crop_scale);
      json_key(&j, "corrupt_skipped"), json_int(&j, (long long)st.corrupt_skipped);
      json_key(&j, "crop"), json_string(&j, det ? "face" : "center");
      if (det) {
        json_key(&j, "detect_ms_median"), json_number(&j, detect);
        json_key(&j, "frames_with_face"), json_int(&j, (long long)with_face);
      }
      json_end_object(&j);
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
