/* test_window_layout: the window never covers a face with its panel. A clip
 * in which a face drifts through all four corners (then two faces at once)
 * goes through the real face stage; each frame is drawn, the video alone is
 * read back, then the overlay, and read back again:
 * - inside every face box (shrunk by the outline and a pixel), the pixels
 *   are the video's, not the panel's;
 * - the panel's label text and its shown class's bar are still drawn;
 * - the panel moves only when a face comes to where it was (it never jumps
 *   otherwise), and it took at least three corners over the clip;
 * - with two faces, each gets its caption and a strip of its probabilities;
 * - a held label is marked: its percentage in the held colour and the
 *   leader's bar outlined, never the plain top colour;
 * - the status line's text grows with the window (640x480 and 1920x1080). */
#include <SDL.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "capture_face.h"
#include "check.h"
#include "common/emotion.h"
#include "common/font.h"
#include "live/faces.h"
#include "live/overlay.h"
#include "live/window.h"
#include "test_support.h"

enum { K = TEST_CLASSES };

typedef struct {
  int w, h;
  Uint8 *rgb;
} pixels;

static void read_back(SDL_Renderer *r, pixels *px) {
  int w, h;
  SDL_GetRendererOutputSize(r, &w, &h);
  if (w != px->w || h != px->h) {
    free(px->rgb);
    px->rgb = malloc((size_t)w * h * 3);
    px->w = w, px->h = h;
  }
  SDL_RenderReadPixels(r, NULL, SDL_PIXELFORMAT_RGB24, px->rgb, w * 3);
}

static Uint32 at(const pixels *px, int x, int y) {
  const Uint8 *p = px->rgb + ((size_t)y * px->w + x) * 3;
  return (Uint32)p[0] << 16 | (Uint32)p[1] << 8 | p[2];
}

static int overlaps(SDL_Rect a, SDL_Rect b, int gap) {
  return a.x < b.x + b.w + gap && b.x - gap < a.x + a.w && a.y < b.y + b.h + gap &&
         b.y - gap < a.y + a.h;
}

/* probabilities that change over the clip: class (n / 20) leads */
static void probs_of(int n, float *p, int *label) {
  int lead = (n / 20) % K;
  for (int k = 0; k < K; k++) p[k] = k == lead ? 0.55f : 0.45f / (K - 1);
  *label = lead;
}

typedef struct {
  window *win;
  overlay *ov;
  pixels video, drawn;
  SDL_Rect prev_panel;
  int have_prev, corners_seen[4], jumps, frames, two_face_frames;
} run;

static int corner_of(SDL_Rect p, int ow, int oh) {
  return (p.x + p.w / 2 > ow / 2) + 2 * (p.y + p.h / 2 > oh / 2);
}

static void check_frame(run *t, const capture_frame *f, face_stage *fs) {
  char err[256];
  capture_image img = {f->rgb, f->width, f->height, f->width * 3, 3};
  crop_tag tags[FACES_MAX];
  int n = faces_stage_frame(fs, &img, f->pts_s, tags);
  CHECK(n >= 1, "frame %lld: no crop", (long long)f->seq);
  SDL_Renderer *r = window_renderer(t->win);
  CHECK(window_set_frame(t->win, f->rgb, f->width, f->height, err, sizeof err) == 0, "%s", err);
  SDL_Rect video;
  int ow, oh;
  window_draw_video(t->win, 0, &video, &ow, &oh);
  read_back(r, &t->video);
  float probs[K], face_p[FACES_MAX][K];
  int label;
  probs_of((int)f->seq, probs, &label);
  overlay_view v = {.num_classes = K, .class_names = test_class_names, .probs = probs,
                    .label = label, .status = "faces 1   display 30.0 fps"};
  char captions[FACES_MAX][32];
  for (int i = 0; i < n; i++) {
    if (tags[i].id < 0) continue;
    int k = v.num_faces++;
    v.faces[k] = window_map_rect(tags[i].box, f->width, f->height, video, 0);
    snprintf(captions[k], sizeof captions[k], "%s 55%%", test_class_names[label]);
    v.face_text[k] = captions[k];
    memcpy(face_p[k], probs, sizeof probs);
    v.face_probs[k] = face_p[k];
  }
  overlay_draw(t->ov, &v, ow, oh);
  read_back(r, &t->drawn);
  SDL_Rect panel = overlay_panel_box(t->ov);
  /* the faces show the video's own pixels */
  for (int i = 0; i < v.num_faces; i++) {
    SDL_Rect b = v.faces[i];
    int inset = OVERLAY_SELECTED_THICKNESS + 1;
    long changed = 0;
    for (int y = b.y + inset; y < b.y + b.h - inset; y++)
      for (int x = b.x + inset; x < b.x + b.w - inset; x++)
        if (x >= 0 && y >= 0 && x < ow && y < oh)
          changed += at(&t->video, x, y) != at(&t->drawn, x, y);
    CHECK(changed == 0, "frame %lld face %d at %d,%d %dx%d: %ld pixels covered (panel %d,%d %dx%d)",
          (long long)f->seq, i, b.x, b.y, b.w, b.h, changed, panel.x, panel.y, panel.w, panel.h);
  }
  /* the panel is drawn: label text and the shown class's bar */
  SDL_Rect lb = overlay_label_box(t->ov, ow, oh), track = overlay_bar_track(t->ov, label, ow, oh);
  int bright = 0, bar = 0;
  for (int y = lb.y; y < lb.y + lb.h; y++)
    for (int x = lb.x; x < lb.x + lb.w; x++) bright += (at(&t->drawn, x, y) & 0xe0e0e0) == 0xe0e0e0;
  for (int x = track.x; x < track.x + track.w; x++)
    bar += at(&t->drawn, x, track.y + track.h / 2) == emotion_colour(test_class_names[label], label);
  CHECK(bright > 100 && bar > track.w / 3, "frame %lld: panel text %d px, bar %d px",
        (long long)f->seq, bright, bar);
  /* it moves only when a face comes to where it was */
  if (t->have_prev && (abs(panel.x - t->prev_panel.x) > 3 || abs(panel.y - t->prev_panel.y) > 3)) {
    int crossed = 0;
    for (int i = 0; i < v.num_faces; i++) crossed |= overlaps(t->prev_panel, v.faces[i], 12);
    CHECK(crossed, "frame %lld: the panel jumped from %d,%d to %d,%d with no face there",
          (long long)f->seq, t->prev_panel.x, t->prev_panel.y, panel.x, panel.y);
    t->jumps++;
  }
  t->prev_panel = panel, t->have_prev = 1;
  t->corners_seen[corner_of(panel, ow, oh)] = 1;
  t->frames++;
  if (v.num_faces == 2) { /* each face: caption and probability strip by its box */
    t->two_face_frames++;
    for (int i = 0; i < 2; i++) {
      SDL_Rect b = v.faces[i];
      int strip = 0; /* the shown class's share of the strip, above or below the box */
      for (int y = b.y - 40; y < b.y + b.h + 40; y++)
        for (int x = b.x; x < b.x + b.w && y >= 0 && y < oh; x++)
          if (x < ow && (y < b.y || y >= b.y + b.h))
            strip += at(&t->drawn, x, y) == emotion_colour(test_class_names[label], label);
      CHECK(strip >= 3 * b.w / 3, "frame %lld face %d: %d strip pixels by its box",
            (long long)f->seq, i, strip);
    }
  }
}

/* A held label: the leader's bar outlined, the label's percentage grey. */
static void check_held(run *t) {
  SDL_Renderer *r = window_renderer(t->win);
  SDL_Rect video;
  int ow, oh;
  for (int held = 0; held < 2; held++) {
    window_draw_video(t->win, 0, &video, &ow, &oh);
    float p[K] = {0.10f, 0.05f, 0.30f, 0.25f, 0.10f, 0.10f, 0.10f}; /* fear leads */
    overlay_view v = {.num_classes = K, .class_names = test_class_names, .probs = p,
                      .label = held ? 3 : 2};
    overlay_draw(t->ov, &v, ow, oh);
    read_back(r, &t->drawn);
    SDL_Rect lb = overlay_label_box(t->ov, ow, oh), lead = overlay_bar_track(t->ov, 2, ow, oh);
    int top = 0, grey = 0;
    for (int y = lb.y; y < lb.y + lb.h; y++)
      for (int x = lb.x; x < lb.x + lb.w; x++) {
        top += at(&t->drawn, x, y) == OVERLAY_TOP_RGB;
        grey += at(&t->drawn, x, y) == OVERLAY_HELD_RGB;
      }
    int outline = at(&t->drawn, lead.x + lead.w / 2, lead.y - 2) == OVERLAY_LEADER_RGB;
    if (held)
      CHECK(grey > 30 && top == 0 && outline, "held: %d held px, %d top px, outline %d", grey,
            top, outline);
    else
      CHECK(top > 30 && grey == 0 && !outline, "leading: %d top px, %d held px, outline %d", top,
            grey, outline);
  }
}

/* The status text's height follows the window: about 2x at 1920x1080. */
static int status_text_rows(run *t, int w, int h) {
  SDL_SetWindowSize(window_handle(t->win), w, h);
  SDL_Event e;
  while (SDL_PollEvent(&e)) {
  }
  SDL_Rect video;
  int ow, oh;
  window_draw_video(t->win, 0, &video, &ow, &oh);
  overlay_view v = {.status = "faces 1   display 30.0 fps   inference 30.0 fps"};
  overlay_draw(t->ov, &v, ow, oh);
  read_back(window_renderer(t->win), &t->drawn);
  int first = -1, last = -1;
  for (int y = oh / 2; y < oh; y++)
    for (int x = 0; x < ow / 2; x++)
      if (at(&t->drawn, x, y) == 0xd0d0d0) {
        if (first < 0) first = y;
        last = y;
        break;
      }
  return first < 0 ? 0 : last - first + 1;
}

int main(void) {
  char err[512];
  setenv("SDL_VIDEODRIVER", "dummy", 0);
  setenv("SDL_RENDER_DRIVER", "software", 0);
  if (access(FONT_DEFAULT_PATH, R_OK) != 0 && !getenv("EMOCAM_FONT")) {
    printf("skipped: %s missing (install fonts-dejavu-core)\n", FONT_DEFAULT_PATH);
    return 77;
  }
  if (access(CAPTURE_CASCADE_DEFAULT, R_OK) != 0) {
    printf("skipped: no face cascade at %s (install opencv-data)\n", CAPTURE_CASCADE_DEFAULT);
    return 77;
  }
  capture_cascade *cascade = NULL;
  capture_face_detector *det = NULL;
  if (capture_cascade_load(&cascade, CAPTURE_CASCADE_DEFAULT, err, sizeof err) != 0 ||
      capture_face_detector_create(&det, cascade, err, sizeof err) != 0) {
    fprintf(stderr, "FAIL: %s\n", err);
    return 1;
  }
  face_stage fs;
  CHECK(faces_stage_init(&fs, det, 4, K, 0.3f, 1.0f) == 0);
  const char *clip = EMOCAM_FIXTURES "/app/corners.mp4";
  capture_source *src = NULL;
  capture_video_opts vo = {clip, CAPTURE_ALL, 0};
  run t = {0};
  if (capture_open_video(&src, &vo, err, sizeof err) != CAPTURE_OK ||
      window_open(&t.win, "test_window_layout", 400, 300, err, sizeof err) != 0 ||
      overlay_create(&t.ov, window_renderer(t.win), err, sizeof err) != 0) {
    fprintf(stderr, "FAIL: %s\n", err);
    return 1;
  }
  capture_frame f;
  while (capture_next(src, &f, 2000) == CAPTURE_OK) {
    check_frame(&t, &f, &fs);
    capture_release(src, &f);
  }
  int corners = t.corners_seen[0] + t.corners_seen[1] + t.corners_seen[2] + t.corners_seen[3];
  CHECK(t.frames == 140, "%d frames", t.frames);
  CHECK(corners >= 3 && t.jumps >= 3, "the panel took %d corners in %d moves", corners, t.jumps);
  CHECK(t.two_face_frames >= 15, "two faces in only %d frames", t.two_face_frames);
  check_held(&t);
  int small = status_text_rows(&t, 640, 480), large = status_text_rows(&t, 1920, 1080);
  CHECK(small >= 9 && large >= 2 * small - 2, "status text %d px high at 640x480, %d at 1920x1080",
        small, large);
  printf("test_window_layout: %d frames, panel moved %d times over %d corners; status text %d "
         "and %d px\n", t.frames, t.jumps, corners, small, large);
  capture_close(src);
  overlay_destroy(t.ov);
  window_close(t.win);
  free(t.video.rgb);
  free(t.drawn.rgb);
  capture_face_detector_destroy(det);
  capture_cascade_destroy(cascade);
  return check_finish("test_window_layout");
}
