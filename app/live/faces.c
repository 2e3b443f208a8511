/* faces: detections to tracks (greedy matching by overlap), exponential
 * smoothing of each track's box, and the detector box to training framing.
 */
#include "live/faces.h"

#include <math.h>
#include <string.h>

#include "common/clock.h"

/* FER2013's framing relative to a Viola-Jones frontal-face box (OpenCV's
 * haarcascade_frontalface_default): the training crop is FRAMING_SCALE times
 * the box's side, its centre FRAMING_DY box sides below the box's centre.
 * Measured with tests/bench/face_framing.c on 400 fer2013/train faces (found
 * in 300): medians 1.027 and -0.008. The detector's box is already close to
 * FER2013's crop, forehead to chin. */
#define FRAMING_SCALE 1.03f
#define FRAMING_DY -0.01f
#define MATCH_IOU 0.3

int faces_init(face_tracker *ft, int max_faces, int num_classes, float label_smooth_s) {
  if (max_faces < 1 || max_faces > FACES_MAX || num_classes < 1 ||
      num_classes > SMOOTH_MAX_CLASSES || !(label_smooth_s >= 0.0f))
    return -1;
  memset(ft, 0, sizeof *ft);
  ft->max_faces = max_faces;
  ft->num_classes = num_classes;
  ft->label_smooth_s = label_smooth_s;
  return 0;
}

static capture_rect track_box(const face_track *t) {
  int side = (int)lrintf(t->side);
  return (capture_rect){(int)lrintf(t->cx - 0.5f * t->side), (int)lrintf(t->cy - 0.5f * t->side),
                        side, side};
}

double faces_iou(capture_rect a, capture_rect b) {
  if (a.w <= 0 || a.h <= 0 || b.w <= 0 || b.h <= 0) return 0.0;
  int x0 = a.x > b.x ? a.x : b.x, y0 = a.y > b.y ? a.y : b.y;
  int x1 = a.x + a.w < b.x + b.w ? a.x + a.w : b.x + b.w;
  int y1 = a.y + a.h < b.y + b.h ? a.y + a.h : b.y + b.h;
  double inter = x1 > x0 && y1 > y0 ? (double)(x1 - x0) * (y1 - y0) : 0.0;
  return inter / ((double)a.w * a.h + (double)b.w * b.h - inter);
}

static void start_track(face_tracker *ft, capture_rect d, double t_s) {
  face_track *t = &ft->t[ft->count++];
  memset(t, 0, sizeof *t);
  t->id = ft->next_id++;
  t->cx = d.x + 0.5f * d.w;
  t->cy = d.y + 0.5f * d.h;
  t->side = 0.5f * (d.w + d.h);
  t->last_seen_s = t_s;
  t->shown = -1;
  smooth_init(&t->sm, ft->num_classes, ft->label_smooth_s); /* checked by faces_init */
}

/* Output order: faces detected in this frame before held ones (a face that
 * just left must not stay "the largest face" for FACES_HOLD_S), then by size. */
static int goes_before(const face_track *a, const face_track *b, double now) {
  int fa = a->last_seen_s == now, fb = b->last_seen_s == now;
  if (fa != fb) return fa;
  return a->side > b->side;
}

void faces_update(face_tracker *ft, const capture_rect *det, int ndet, double t_s) {
  double dt = ft->count ? t_s - ft->now_s : 0.0;
  ft->now_s = t_s;
  /* a jump back in time (a replay restarting) forgets the past */
  if (dt < 0) dt = 0;
  float a = FACES_BOX_SMOOTH_S > 0 ? 1.0f - expf(-(float)dt / FACES_BOX_SMOOTH_S) : 1.0f;
  int used[64] = {0};
  if (ndet > 64) ndet = 64;
  /* each track, largest first, takes its best unused detection */
  for (int i = 0; i < ft->count; i++) {
    face_track *t = &ft->t[i];
    capture_rect box = track_box(t);
    int best = -1;
    double best_iou = MATCH_IOU;
    for (int k = 0; k < ndet; k++) {
      double iou = used[k] ? 0.0 : faces_iou(box, det[k]);
      if (iou >= best_iou) best = k, best_iou = iou;
    }
    if (best < 0) continue;
    used[best] = 1;
    const capture_rect *d = &det[best];
    t->cx += a * (d->x + 0.5f * d->w - t->cx);
    t->cy += a * (d->y + 0.5f * d->h - t->cy);
    t->side += a * (0.5f * (d->w + d->h) - t->side);
    t->last_seen_s = t_s;
  }
  /* drop the tracks not seen for a while */
  int kept = 0;
  for (int i = 0; i < ft->count; i++)
    if (t_s - ft->t[i].last_seen_s <= FACES_HOLD_S) ft->t[kept++] = ft->t[i];
  ft->count = kept;
  /* new faces, largest first, while there is room */
  for (;;) {
    int best = -1;
    for (int k = 0; k < ndet; k++)
      if (!used[k] && (best < 0 || (long)det[k].w * det[k].h > (long)det[best].w * det[best].h))
        best = k;
    if (best < 0 || ft->count >= ft->max_faces) break;
    used[best] = 1;
    start_track(ft, det[best], t_s);
  }
  /* insertion sort: a handful of tracks */
  for (int i = 1; i < ft->count; i++) {
    face_track t = ft->t[i];
    int j = i;
    for (; j > 0 && goes_before(&t, &ft->t[j - 1], t_s); j--) ft->t[j] = ft->t[j - 1];
    ft->t[j] = t;
  }
}

capture_rect faces_crop(const face_track *t, int width, int height) {
  float side = FRAMING_SCALE * t->side, cx = t->cx, cy = t->cy + FRAMING_DY * t->side;
  int s = (int)lrintf(side);
  if (s < 1) s = 1;
  int x = (int)lrintf(cx - 0.5f * side), y = (int)lrintf(cy - 0.5f * side);
  /* slide inside the frame where the square fits; capture_crop_resize clips
   * the rest */
  if (s <= width) x = x < 0 ? 0 : x + s > width ? width - s : x;
  if (s <= height) y = y < 0 ? 0 : y + s > height ? height - s : y;
  return (capture_rect){x, y, s, s};
}

int faces_stage_init(face_stage *fs, capture_face_detector *detector, int max_faces,
                     int num_classes, float label_smooth_s, float crop_scale) {
  memset(fs, 0, sizeof *fs);
  fs->detector = detector;
  fs->crop_scale = crop_scale;
  fs->centre_label = -1;
  capture_face_defaults(&fs->detect_opts);
  if (smooth_init(&fs->centre, num_classes, label_smooth_s) != 0) return -1;
  return faces_init(&fs->tracker, max_faces, num_classes, label_smooth_s);
}

/* The detections around the followed faces only: each face's neighbourhood
 * as a view of img, searched at the detection resolution the whole frame
 * gets and at scales near the face's size. A face found twice (two
 * neighbourhoods overlapping) counts once. Sets full_search when a face seen
 * in the last frame was not found where it was (the caller then searches
 * the whole frame, in case it moved far). A held face, missed before, is
 * looked for where it was last seen without that: the detector that missed
 * it around there would most likely miss it over the whole frame too.
 * Returns the count, or -1 (out of memory). */
static int detect_around(face_stage *fs, const capture_image *img, capture_rect *det) {
  const capture_face_opts *o = &fs->detect_opts;
  float to_det = o->detect_width > 0 && o->detect_width < img->width
                     ? (float)o->detect_width / (float)img->width
                     : 1.0f;
  int n = 0;
  for (int i = 0; i < fs->tracker.count; i++) {
    const face_track *t = &fs->tracker.t[i];
    const int held = t->last_seen_s < fs->tracker.now_s;
    int side = (int)lrintf(t->side * FACES_SEARCH_AROUND);
    /* on the whole frame's detection grid: the same grey pixels, the same
     * window sizes */
    float cell = 1.0f / to_det;
    int x0 = (int)(floorf((t->cx - side / 2.0f) * to_det) * cell);
    int y0 = (int)(floorf((t->cy - side / 2.0f) * to_det) * cell);
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    int x1 = x0 + side, y1 = y0 + side;
    if (x1 > img->width) x1 = img->width;
    if (y1 > img->height) y1 = img->height;
    x1 = x0 + (int)(floorf((x1 - x0) * to_det) * cell);
    y1 = y0 + (int)(floorf((y1 - y0) * to_det) * cell);
    if (x1 - x0 < 24 || y1 - y0 < 24) continue;
    capture_image view = {img->pixels + (size_t)y0 * img->stride + (size_t)x0 * img->channels,
                          x1 - x0, y1 - y0, img->stride, img->channels};
    capture_face_opts around = *o;
    /* the whole frame's window sizes are min_face * scale_step^k */
    double k = ceil(log(t->side * 0.7 / o->min_face) / log(o->scale_step));
    around.min_face = k > 0 ? (int)floor(o->min_face * pow(o->scale_step, k)) : o->min_face;
    around.max_face = (int)(t->side * 1.45f) + 1;
    around.detect_width = (int)lrintf((float)view.width * to_det);
    capture_rect found[FACES_MAX];
    int m = capture_face_detect(fs->detector, &view, &around, found, FACES_MAX);
    if (m < 0) return -1;
    if (m == 0 && !held) fs->full_search = 1;
    for (int j = 0; j < m && n < FACES_MAX; j++) {
      capture_rect r = {found[j].x + x0, found[j].y + y0, found[j].w, found[j].h};
      int dup = 0;
      for (int k = 0; k < n && !dup; k++) dup = faces_iou(det[k], r) > 0.5;
      if (!dup) det[n++] = r;
    }
  }
  return n;
}

int faces_stage_frame(face_stage *fs, const capture_image *img, double t_s, crop_tag *tags) {
  fs->num_crops = 0;
  if (fs->detector) {
    capture_rect det[FACES_MAX];
    double t0 = clock_now_s();
    /* no face followed (seen or held): the whole frame */
    int full = fs->tracker.count == 0 || fs->whole_frame_always ||
               fs->frames % FACES_FULL_EVERY == 0;
    fs->full_search = 0;
    int n = full ? 0 : detect_around(fs, img, det);
    /* a followed face not found where it was: the whole frame, now */
    if (full || fs->full_search) {
      fs->whole_frames++;
      fs->missed_frames += !full;
      n = n < 0 ? n : capture_face_detect(fs->detector, img, &fs->detect_opts, det, FACES_MAX);
    }
    fs->full_search = 0;
    fs->frames++;
    fs->detect_ms = (clock_now_s() - t0) * 1e3;
    if (n < 0) return -1;
    faces_update(&fs->tracker, det, n, t_s);
    for (int i = 0; i < fs->tracker.count; i++)
      fs->crops[i] = (crop_tag){fs->tracker.t[i].id,
                                faces_crop(&fs->tracker.t[i], img->width, img->height)};
    fs->num_crops = fs->tracker.count;
  }
  if (fs->num_crops == 0)
    fs->crops[fs->num_crops++] =
        (crop_tag){-1, capture_center_crop(img->width, img->height, fs->crop_scale)};
  if (tags) memcpy(tags, fs->crops, sizeof(crop_tag) * (size_t)fs->num_crops);
  return fs->num_crops;
}

int faces_stage_result(face_stage *fs, const crop_tag *tag, int index, const float *probs,
                       double dt_s, int *face) {
  if (tag->id < 0) {
    *face = -1;
    return fs->centre_label = smooth_update(&fs->centre, probs, dt_s);
  }
  int k = faces_find(&fs->tracker, tag->id);
  if (k < 0) return -1;
  face_track *t = &fs->tracker.t[k];
  *face = index;
  return t->shown = smooth_update(&t->sm, probs, dt_s);
}

int faces_find(const face_tracker *ft, int id) {
  for (int i = 0; i < ft->count; i++)
    if (ft->t[i].id == id) return i;
  return -1;
}
