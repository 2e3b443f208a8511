/* bench_video: the video side of `emocam bench`: decode + convert +
 * crop-and-resize frames per second with no CNN, or with a model the whole
 * live path per frame, stage by stage; no window.
 */
#include "live/bench_video.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "capture_face.h"
#include "common/clock.h"
#include "common/json_out.h"
#include "common/smoothing.h"
#include "live/faces.h"
#include "live/frame.h"

static int bench_cmp(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return x < y ? -1 : x > y;
}

/* A growing list of per-frame figures. */
typedef struct {
  float *v;
  size_t n, cap;
} figures;

static int figures_push(figures *f, float x) {
  if (f->n == f->cap) {
    size_t cap = f->cap ? f->cap * 2 : 1024;
    float *g = realloc(f->v, sizeof(float) * cap);
    if (!g) return -1;
    f->v = g;
    f->cap = cap;
  }
  f->v[f->n++] = x;
  return 0;
}

/* Per-frame costs of the whole live path, one array per stage; and the
 * detector's on the frames that began with a face tracked (the issue's
 * "while a face is being tracked": no whole-frame search for lack of one). */
typedef struct {
  size_t n, cap;
  float *detect, *crop, *cnn, *smooth, *total; /* ms */
  figures detect_tracked;
} stage_times;

static int stage_times_push(stage_times *t, float detect, float crop, float cnn, float smooth) {
  if (t->n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 1024;
    float **arrays[] = {&t->detect, &t->crop, &t->cnn, &t->smooth, &t->total};
    for (int i = 0; i < 5; i++) {
      float *g = realloc(*arrays[i], sizeof(float) * cap);
      if (!g) return -1;
      *arrays[i] = g;
    }
    t->cap = cap;
  }
  t->detect[t->n] = detect, t->crop[t->n] = crop, t->cnn[t->n] = cnn, t->smooth[t->n] = smooth;
  t->total[t->n++] = detect + crop + cnn + smooth;
  return 0;
}

static float median_of(float *v, size_t n) {
  if (n == 0) return 0.0f; /* v may be NULL then */
  qsort(v, n, sizeof *v, bench_cmp);
  return v[n / 2];
}

static float mean_of(const float *v, size_t n) {
  double sum = 0;
  for (size_t i = 0; i < n; i++) sum += v[i];
  return n ? (float)(sum / (double)n) : 0.0f;
}

/* A stage's typical frame (median) and its cost spread over the frames
 * (mean): the detector searches the whole frame only every few frames, so
 * for it the two differ, and the mean is what a second of video costs. */
typedef struct {
  float median, mean;
} stage_figure;

static stage_figure figure_of(float *v, size_t n) {
  stage_figure f = {.mean = mean_of(v, n)}; /* before median_of sorts v */
  f.median = median_of(v, n);
  return f;
}

static void print_live(const char *path, const classifier *cl, stage_times *t,
                       const capture_stats *st, double wall, int face, int json) {
  stage_figure tracked = figure_of(t->detect_tracked.v, t->detect_tracked.n);
  stage_figure detect = figure_of(t->detect, t->n), crop = figure_of(t->crop, t->n);
  stage_figure cnn = figure_of(t->cnn, t->n), smooth = figure_of(t->smooth, t->n);
  stage_figure total = figure_of(t->total, t->n);
  double whole = st->capture_ms + total.median, whole_mean = st->capture_ms + total.mean;
  double cpu_per_s = whole_mean * 30.0 / 1000.0;
  if (json) {
    json_out j;
    json_out_init(&j, stdout);
    json_begin_object(&j, 1);
    json_key(&j, "video"), json_string(&j, path);
    json_key(&j, "model"), json_string(&j, cl->path);
    json_key(&j, "threads"), json_int(&j, nn_get_threads());
    json_key(&j, "frames"), json_int(&j, (long long)t->n);
    json_key(&j, "seconds"), json_number(&j, wall);
    json_key(&j, "crop"), json_string(&j, face ? "face" : "center");
    json_key(&j, "decode_convert_ms"), json_number(&j, st->capture_ms);
    const char *names[] = {"detect", "crop_resize", "network", "smoothing"};
    const stage_figure *figs[] = {&detect, &crop, &cnn, &smooth};
    for (int i = 0; i < 4; i++) {
      char key[64];
      snprintf(key, sizeof key, "%s_ms_median", names[i]);
      json_key(&j, key), json_number(&j, figs[i]->median);
      snprintf(key, sizeof key, "%s_ms_mean", names[i]);
      json_key(&j, key), json_number(&j, figs[i]->mean);
    }
    json_key(&j, "frames_tracking_a_face"), json_int(&j, (long long)t->detect_tracked.n);
    json_key(&j, "detect_tracked_ms_median"), json_number(&j, tracked.median);
    json_key(&j, "detect_tracked_ms_mean"), json_number(&j, tracked.mean);
    json_key(&j, "frame_ms_median"), json_number(&j, whole);
    json_key(&j, "frame_ms_mean"), json_number(&j, whole_mean);
    json_key(&j, "cpu_s_per_s_at_30fps"), json_number(&j, cpu_per_s);
    json_end_object(&j);
    return;
  }
  printf("video          %s (%dx%d %s), %zu frames in %.3f s\n", path, st->width, st->height,
         st->pixel_format, t->n, wall);
  printf("model          %s, %d thread%s, crop %s\n", cl->name, nn_get_threads(),
         nn_get_threads() == 1 ? "" : "s", face ? "face" : "center");
  printf("ms per frame     median     mean\n");
  printf("decode+convert        -  %7.3f (capture thread)\n", st->capture_ms);
  printf("face detect     %7.3f  %7.3f\n", detect.median, detect.mean);
  if (face)
    printf("  tracking      %7.3f  %7.3f (the %zu frames that began with a face tracked)\n",
           tracked.median, tracked.mean, t->detect_tracked.n);
  printf("crop+resize     %7.3f  %7.3f\n", crop.median, crop.mean);
  printf("network         %7.3f  %7.3f (every face)\n", cnn.median, cnn.mean);
  printf("smoothing       %7.3f  %7.3f\n", smooth.median, smooth.mean);
  printf("whole frame     %7.3f  %7.3f (decode + the rest, drawing excluded)\n", whole,
         whole_mean);
  printf("at 30 fps       %7.3f CPU seconds per second of video (%.1f%% of one core, from the "
         "means)\n",
         cpu_per_s, 100 * cpu_per_s);
}

/* The whole live path per frame through the live recipe (frame.c): detect,
 * crop every face, the network, the smoothing. */
static int bench_live(const char *path, classifier *cl, capture_face_detector *det,
                      float crop_scale, int json) {
  capture_video_opts opts = {path, CAPTURE_ALL, 0};
  char err[CAPTURE_ERR_LEN];
  capture_source *src = NULL;
  if (capture_open_video(&src, &opts, err, sizeof(err)) != CAPTURE_OK) {
    fprintf(stderr, "emocam: %s\n", err);
    return 1;
  }
  face_stage fs;
  faces_stage_init(&fs, det, det ? FACES_DEFAULT_MAX : 1, cl->num_classes, SMOOTH_DEFAULT_S,
                   crop_scale);
  size_t sample = (size_t)cl->c * cl->h * cl->w;
  float *input = malloc(sizeof(float) * sample * FACES_MAX);
  float *probs = malloc(sizeof(float) * (size_t)cl->num_classes * FACES_MAX);
  stage_times t = {0};
  int rc = CAPTURE_ERROR, status = 0;
  double t0 = clock_now_s(), prev = 0;
  capture_frame f;
  while (input && probs && (rc = capture_next(src, &f, 10000)) == CAPTURE_OK) {
    capture_image img = {f.rgb, f.width, f.height, f.width * 3, 3};
    crop_tag tags[FACES_MAX];
    double crop_ms;
    int tracking = fs.tracker.count > 0;
    int nc = frame_crop(&fs, cl, &img, f.pts_s, input, tags, &crop_ms);
    double b = clock_now_s(); /* frame_crop: detect_ms and crop_ms as it measured them */
    int ok = nc > 0 && classifier_run(cl, input, nc, probs) == 0;
    double c = clock_now_s();
    if (ok)
      frame_results(&fs, cl, NULL, f.seq, f.pts_s, frame_dt(t.n == 0, f.pts_s, prev, 1 / 30.0), nc,
                    tags, probs);
    double d = clock_now_s();
    prev = f.pts_s;
    capture_release(src, &f);
    if (!ok || stage_times_push(&t, (float)fs.detect_ms, (float)crop_ms, (float)((c - b) * 1e3),
                                (float)((d - c) * 1e3)) != 0 ||
        (tracking && det && figures_push(&t.detect_tracked, (float)fs.detect_ms) != 0)) {
      status = 1;
      break;
    }
  }
  double wall = clock_now_s() - t0;
  if (status || (rc != CAPTURE_EOF && rc != CAPTURE_OK) || !input || !probs || t.n == 0) {
    fprintf(stderr, "emocam: %s: the live path stopped after %zu frames\n", path, t.n);
    status = 1;
  } else {
    capture_stats st;
    capture_get_stats(src, &st);
    print_live(path, cl, &t, &st, wall, det != NULL, json);
  }
  capture_close(src);
  free(input), free(probs);
  free(t.detect), free(t.crop), free(t.cnn), free(t.smooth), free(t.total);
  free(t.detect_tracked.v);
  return status;
}

int bench_video_run(const char *path, classifier *cl, int out_c, int out_h, int out_w,
                    float crop_scale, const char *cascade_path, int json) {
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
  if (cl) {
    int status = bench_live(path, cl, det, crop_scale, json);
    capture_face_detector_destroy(det);
    capture_cascade_destroy(cascade);
    return status;
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
  figures tracked_ms = {0}; /* detect_ms of the frames that began with a face tracked */
  double t0 = clock_now_s();
  capture_frame f;
  int rc;
  while ((rc = capture_next(src, &f, 10000)) == CAPTURE_OK) {
    capture_image img = {f.rgb, f.width, f.height, f.width * 3, 3};
    int tracking = fs.tracker.count > 0;
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
    if (det && tracking && figures_push(&tracked_ms, (float)((c0 - d0) * 1e3)) != 0) break;
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
    double fps = wall > 0 ? n / wall : 0, median = median_of(crop_us, n);
    stage_figure detect = figure_of(detect_ms, n), tracked = figure_of(tracked_ms.v, tracked_ms.n);
    double face_share = 100.0 * with_face / n;
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
        json_key(&j, "detect_ms_median"), json_number(&j, detect.median);
        json_key(&j, "detect_ms_mean"), json_number(&j, detect.mean);
        json_key(&j, "whole_frame_searches"), json_int(&j, (long long)fs.whole_frames);
        json_key(&j, "searches_for_a_missed_face"), json_int(&j, (long long)fs.missed_frames);
        json_key(&j, "frames_with_face"), json_int(&j, (long long)with_face);
        json_key(&j, "frames_tracking_a_face"), json_int(&j, (long long)tracked_ms.n);
        json_key(&j, "detect_tracked_ms_median"), json_number(&j, tracked.median);
        json_key(&j, "detect_tracked_ms_mean"), json_number(&j, tracked.mean);
      }
      json_end_object(&j);
    } else {
      printf("video          %s (%dx%d %s)\n", path, st.width, st.height, st.pixel_format);
      printf("frames         %zu in %.3f s\n", n, wall);
      printf("decode+crop    %.1f frames/s (headless, no CNN)\n", fps);
      printf("decode+convert %.3f ms/frame (capture thread)\n", st.capture_ms);
      if (det)
        printf("face detect    %.2f ms/frame median, %.2f mean (%dx%d frame), a face in %zu of "
               "%zu frames (%.1f%%); the whole frame searched in %lld (%lld for a face missed)\n",
               detect.median, detect.mean, st.width, st.height, with_face, n, face_share,
               (long long)fs.whole_frames, (long long)fs.missed_frames);
      if (det)
        printf("  tracking     %.2f ms/frame median, %.2f mean on the %zu frames that began with "
               "a face tracked\n", tracked.median, tracked.mean, tracked_ms.n);
      printf("crop+resize    %.1f us/frame median, to %dx%dx%d, %s\n", median, out_c, out_h,
             out_w, det ? "largest face (centre square without one)" : "centre square");
    }
  }
  free(input);
  free(crop_us);
  free(detect_ms);
  free(tracked_ms.v);
  capture_face_detector_destroy(det);
  capture_cascade_destroy(cascade);
  return status;
}
