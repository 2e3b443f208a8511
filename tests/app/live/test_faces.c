/* test_faces: the face tracker of the live path (app/faces.c): matching
 * detections to tracks across frames, box smoothing, holding a face through a
 * missed detection and dropping it after, ordering by size, the limit on
 * faces, and the training-framed crop kept inside the frame.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

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

int main(void) {
  test_iou();
  test_follow();
  test_crop();
  return check_finish("test_faces");
}
