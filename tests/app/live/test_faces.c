/* test_faces: the face tracker of the live path (app/faces.c): matching
 * detections to tracks across frames, box smoothing, holding a face through a
 * missed detection and dropping it after, ordering by size, the limit on
 * faces, and the training-framed crop kept inside the frame. And the face
 * stage's search around the followed faces, on a real clip against the
 * whole-frame detector: the same faces, boxes as good, a second face found
 * within FACES_FULL_EVERY frames, a face that jumps found in the same frame,
 * and a face the detector misses for a while looked for where it was, not
 * over the whole frame every frame.
 */
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture_face.h"
#include "check.h"
#include "live/faces.h"

static capture_rect box(int x, int y, int s) { return (capture_rect){x, y, s, s}; }

static void test_iou(void) {
  CHECK(fabs(faces_iou(box(0, 0, 10), box(0, 0, 10)) - 1.0) < 1e-9, "IoU of a box with itself");
  CHECK(faces_iou(box(0, 0, 10), box(20, 20, 10)) == 0.0, "IoU of disjoint boxes");
  /* half overlap: 50 / (100 + 100 - 50) */
  CHECK(fabs(faces_iou(box(0, 0, 10), box(5, 0, 10)) - 50.0 / 150.0) < 1e-9, "IoU half overlap");
  CHECK(faces_iou(box(0, 0, 0), box(0, 0, 10)) == 0.0, "IoU with an empty box");
}

static void test_follow(void) {
  face_tracker ft;
  CHECK(faces_init(&ft, 2, 7, 0.3f) == 0, "init");
  CHECK(faces_init(&ft, 0, 7, 0.3f) != 0 && faces_init(&ft, FACES_MAX + 1, 7, 0.3f) != 0,
        "bad max_faces accepted");
  CHECK(faces_init(&ft, 2, 7, 0.3f) == 0, "init");
  capture_rect d[3] = {box(100, 100, 80), box(400, 50, 120), box(300, 300, 40)};
  faces_update(&ft, d, 3, 0.0);
  /* two tracks (the limit), the two largest, largest first */
  CHECK(ft.count == 2, "%d tracks, want 2", ft.count);
  CHECK(fabsf(ft.t[0].side - 120) < 1e-3 && fabsf(ft.t[1].side - 80) < 1e-3,
        "order: sides %.1f %.1f", ft.t[0].side, ft.t[1].side);
  int id_big = ft.t[0].id, id_small = ft.t[1].id;
  CHECK(id_big != id_small, "ids differ");

  /* the small face moves 10 px right: same track, smoothed part of the way */
  capture_rect d2[2] = {box(110, 100, 80), box(400, 50, 120)};
  faces_update(&ft, d2, 2, 1.0 / 30);
  int k = faces_find(&ft, id_small);
  CHECK(k >= 0, "small face lost after a 10 px move");
  if (k >= 0) {
    float cx = ft.t[k].cx;
    CHECK(cx > 140.0f && cx < 150.0f, "smoothed centre %.2f, want between 140 and 150", cx);
  }
  /* after a second it has caught up */
  for (int i = 2; i < 32; i++) faces_update(&ft, d2, 2, i / 30.0);
  k = faces_find(&ft, id_small);
  CHECK(k >= 0 && fabsf(ft.t[k].cx - 150.0f) < 0.5f, "centre %.2f after 1 s, want 150",
        k >= 0 ? ft.t[k].cx : -1.0f);

  /* one missed detection of the big face: held; gone after FACES_HOLD_S */
  double t = 32 / 30.0;
  faces_update(&ft, d2, 1, t); /* only the first (small) face seen */
  CHECK(faces_find(&ft, id_big) >= 0, "big face dropped after one missed frame");
  CHECK(ft.t[0].id == id_small, "the face detected now does not come before the held one");
  faces_update(&ft, d2, 1, t + FACES_HOLD_S + 0.05);
  CHECK(faces_find(&ft, id_big) < 0, "big face still followed %.2f s after it left",
        FACES_HOLD_S + 0.05);
  CHECK(ft.count == 1 && ft.t[0].id == id_small, "the small face remains");

  /* a detection far from every track starts a new one with a new id */
  capture_rect d3[2] = {box(110, 100, 80), box(500, 300, 60)};
  faces_update(&ft, d3, 2, t + 0.5);
  CHECK(ft.count == 2, "%d tracks after a new face", ft.count);
  for (int i = 0; i < ft.count; i++)
    if (ft.t[i].id != id_small)
      CHECK(ft.t[i].id != id_big && fabsf(ft.t[i].side - 60) < 1e-3,
            "new face: id %d (old ids %d, %d), side %.1f", ft.t[i].id, id_big, id_small,
            ft.t[i].side);
}

static void test_crop(void) {
  face_track t = {0};
  t.cx = 320, t.cy = 240, t.side = 100;
  capture_rect c = faces_crop(&t, 640, 480);
  CHECK(c.w == c.h && c.w > 100 && c.w < 200, "crop %dx%d around a 100 px face", c.w, c.h);
  CHECK(abs(c.x + c.w / 2 - 320) <= 1, "crop centred horizontally: x %d w %d", c.x, c.w);
  /* a face at the edge: the crop slides inside the frame, keeping its size */
  t.cx = 30, t.cy = 20;
  capture_rect e = faces_crop(&t, 640, 480);
  CHECK(e.x == 0 && e.y == 0 && e.w == c.w, "edge crop %d,%d %dx%d", e.x, e.y, e.w, e.h);
  t.cx = 630, t.cy = 470;
  e = faces_crop(&t, 640, 480);
  CHECK(e.x + e.w == 640 && e.y + e.h == 480, "far-edge crop %d,%d %dx%d", e.x, e.y, e.w, e.h);
}

/* Runs the stage over corners.mp4 (one face drifting through the corners,
 * then two faces from frame 120) beside a stage that searches the whole
 * frame every frame, as the live path did before: the same faces in the
 * same places. */
static void test_search_around(void) {
  if (access(CAPTURE_CASCADE_DEFAULT, R_OK) != 0) {
    printf("skipped: the search around faces (no cascade at %s; install opencv-data)\n",
           CAPTURE_CASCADE_DEFAULT);
    return;
  }
  char err[512];
  capture_cascade *c = NULL;
  capture_face_detector *d = NULL, *whole = NULL;
  capture_source *src = NULL;
  capture_video_opts vo = {EMOCAM_FIXTURES "/app/corners.mp4", CAPTURE_ALL, 0};
  if (capture_cascade_load(&c, CAPTURE_CASCADE_DEFAULT, err, sizeof err) ||
      capture_face_detector_create(&d, c, err, sizeof err) ||
      capture_face_detector_create(&whole, c, err, sizeof err) ||
      capture_open_video(&src, &vo, err, sizeof err) != CAPTURE_OK) {
    CHECK(0, "%s", err);
    return;
  }
  face_stage fs, ref;
  CHECK(faces_stage_init(&fs, d, 4, 7, 0.3f, 1.0f) == 0);
  CHECK(faces_stage_init(&ref, whole, 4, 7, 0.3f, 1.0f) == 0);
  ref.whole_frame_always = 1;
  capture_frame f;
  int frames = 0, agree = 0, second_at = -1, pairs = 0;
  double iou_sum = 0, iou_min = 1;
  while (capture_next(src, &f, 2000) == CAPTURE_OK) {
    capture_image img = {f.rgb, f.width, f.height, f.width * 3, 3};
    crop_tag a[FACES_MAX], b[FACES_MAX];
    int na = faces_stage_frame(&fs, &img, f.pts_s, a), nb = faces_stage_frame(&ref, &img, f.pts_s, b);
    agree += na == nb;
    if (f.seq >= 120 && na == 2 && second_at < 0) second_at = (int)f.seq;
    for (int i = 0; i < na && i < nb; i++) { /* largest first in both */
      double iou = faces_iou(a[i].box, b[i].box);
      iou_sum += iou, pairs++;
      if (iou < iou_min) iou_min = iou;
    }
    frames++;
    capture_release(src, &f);
  }
  CHECK(frames == 140, "%d frames", frames);
  CHECK(agree >= frames - FACES_FULL_EVERY, "the same number of crops in %d of %d frames", agree,
        frames);
  CHECK(second_at >= 120 && second_at < 120 + FACES_FULL_EVERY, "the second face found at frame %d",
        second_at);
  CHECK(pairs >= 150 && iou_sum / pairs > 0.92 && iou_min > 0.8,
        "crops against the whole-frame search: mean IoU %.3f, least %.3f over %d", iou_sum / pairs,
        iou_min, pairs);
  printf("search around faces: %d of %d frames with the same crops, mean IoU %.3f (least %.3f), "
         "second face at frame %d\n", agree, frames, iou_sum / pairs, iou_min, second_at);
  capture_close(src);
  capture_face_detector_destroy(d);
  capture_face_detector_destroy(whole);
  capture_cascade_destroy(c);
}

/* A followed face that the detector stops finding (covered by a flat grey
 * square for 5 frames): the first miss searches the whole frame once, the
 * frames after it look only where it was (held), and when it shows again it
 * is found there, as the same face, without another whole-frame search. */
static void test_held_face(void) {
  if (access(CAPTURE_CASCADE_DEFAULT, R_OK) != 0) {
    printf("skipped: the held face (no cascade at %s; install opencv-data)\n",
           CAPTURE_CASCADE_DEFAULT);
    return;
  }
  char err[512];
  capture_cascade *c = NULL;
  capture_face_detector *d = NULL;
  capture_source *src = NULL;
  capture_video_opts vo = {EMOCAM_FIXTURES "/app/corners.mp4", CAPTURE_ALL, 0};
  capture_frame f;
  if (capture_cascade_load(&c, CAPTURE_CASCADE_DEFAULT, err, sizeof err) ||
      capture_face_detector_create(&d, c, err, sizeof err) ||
      capture_open_video(&src, &vo, err, sizeof err) != CAPTURE_OK ||
      capture_next(src, &f, 2000) != CAPTURE_OK) {
    CHECK(0, "%s", err);
    return;
  }
  size_t bytes = (size_t)f.width * f.height * 3;
  uint8_t *seen = malloc(bytes), *covered = malloc(bytes);
  memcpy(seen, f.rgb, bytes);
  memcpy(covered, f.rgb, bytes);
  capture_image img = {seen, f.width, f.height, f.width * 3, 3};
  face_stage fs;
  CHECK(faces_stage_init(&fs, d, 4, 7, 0.3f, 1.0f) == 0);
  crop_tag tag[FACES_MAX];
  int n = faces_stage_frame(&fs, &img, 0.0, tag);
  CHECK(n == 1 && tag[0].id >= 0, "frame 0: %d crops, id %d", n, tag[0].id);
  int id = tag[0].id;
  const face_track *t = &fs.tracker.t[0];
  for (int y = (int)(t->cy - t->side); y < t->cy + t->side; y++)
    for (int x = (int)(t->cx - t->side); x < t->cx + t->side; x++)
      if (x >= 0 && y >= 0 && x < f.width && y < f.height)
        memset(covered + ((size_t)y * f.width + x) * 3, 128, 3);
  img.pixels = covered;
  for (int k = 1; k <= 5; k++) faces_stage_frame(&fs, &img, k / 30.0, tag);
  CHECK(fs.whole_frames == 2 && fs.missed_frames == 1,
        "covered for 5 frames: %lld whole-frame searches (%lld for the miss), expected 2 (1)",
        (long long)fs.whole_frames, (long long)fs.missed_frames);
  img.pixels = seen;
  n = faces_stage_frame(&fs, &img, 6 / 30.0, tag);
  CHECK(n == 1 && tag[0].id == id && fs.whole_frames == 2,
        "shown again: %d crops, id %d (was %d), %lld whole-frame searches", n, tag[0].id, id,
        (long long)fs.whole_frames);
  free(seen);
  free(covered);
  capture_release(src, &f);
  capture_close(src);
  capture_face_detector_destroy(d);
  capture_cascade_destroy(c);
}

int main(void) {
  test_iou();
  test_follow();
  test_crop();
  test_search_around();
  test_held_face();
  return check_finish("test_faces");
}
