/* test_window: renders frames of a clip with the live overlay under SDL's
 * dummy video driver (no display) and software renderer, reads the pixels back and checks
 * what a user would see: each bar is as long as its probability (the CNN's
 * output for that same frame), the label text is drawn, the crop rectangle is
 * where the crop stage cut, the PNG screenshot holds the rendered window.
 */
#include <SDL.h>
#include <SDL_image.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "check.h"
#include "common/emotion.h"
#include "common/font.h"
#include "live/overlay.h"
#include "test_support.h"
#include "live/window.h"

#define K TEST_CLASSES

typedef struct {
  int w, h;
  Uint8 *rgb; /* [h][w][3] */
} pixels;

static void read_back(SDL_Renderer *r, pixels *px) {
  SDL_GetRendererOutputSize(r, &px->w, &px->h);
  free(px->rgb);
  px->rgb = malloc((size_t)px->w * px->h * 3);
  if (SDL_RenderReadPixels(r, NULL, SDL_PIXELFORMAT_RGB24, px->rgb, px->w * 3) != 0) {
    fprintf(stderr, "FAIL: SDL_RenderReadPixels: %s\n", SDL_GetError());
    exit(1);
  }
}

static Uint32 at(const pixels *px, int x, int y) {
  const Uint8 *p = px->rgb + ((size_t)y * px->w + x) * 3;
  return (Uint32)p[0] << 16 | (Uint32)p[1] << 8 | p[2];
}

/* Length of the run of `colour` pixels starting at track.x on the bar's middle row. */
static int bar_length(const pixels *px, SDL_Rect track, Uint32 colour) {
  int y = track.y + track.h / 2, n = 0;
  while (n < track.w && at(px, track.x + n, y) == colour) n++;
  return n;
}

/* A 7-class model from a tiny random architecture: enough to give each frame
 * its own probabilities, the way the live path computes them. */
static nn_net *tiny_net(void) {
  nn_net *net = test_tiny_net(TEST_ARCH_TWO_CONV, 7);
  /* Sharpen the random output so the classes differ visibly. */
  nn_net_set_temperature(net, 0.3f);
  return net;
}

static void check_frame(window *win, overlay *ov, nn_net *net, const capture_frame *f,
                        float crop_scale, int mirror, pixels *px) {
  char err[512];
  SDL_Renderer *r = window_renderer(win);
  CHECK(window_set_frame(win, f->rgb, f->width, f->height, err, sizeof err) == 0, "%s", err);
  capture_image img = {f->rgb, f->width, f->height, f->width * 3, 3};
  capture_rect crop = capture_center_crop(f->width, f->height, crop_scale);
  float x[48 * 48], probs[K];
  capture_crop_resize(&img, crop, 1, 48, 48, x);
  CHECK(nn_net_forward(net, x, 1, probs) == 0, "forward");
  int top = 0;
  for (int i = 1; i < K; i++)
    if (probs[i] > probs[top]) top = i;

  SDL_Rect video;
  int ow, oh;
  window_draw_video(win, mirror, &video, &ow, &oh);
  overlay_view v = {.num_classes = K,
                    .class_names = test_class_names,
                    .probs = probs,
                    .label = top,
                    .show_crop = 1,
                    .crop = window_map_rect(crop, f->width, f->height, video, mirror),
                    .status = "display 30.0 fps\nms per frame: capture 1.0"};
  overlay_draw(ov, &v, ow, oh);
  read_back(r, px);

  /* Bars: run length of the bar colour == round(p * track width), +-2 px. */
  for (int i = 0; i < K; i++) {
    SDL_Rect track = overlay_bar_track(ov, i, ow, oh);
    CHECK(track.w >= 100, "bar track only %d px wide", track.w);
    int len = bar_length(px, track, emotion_colour(test_class_names[i], i));
    float want = probs[i] * track.w;
    CHECK(fabsf((float)len - want) <= 2.0f, "frame %lld class %s: bar %d px, p %.3f -> %.1f px",
          (long long)f->seq, test_class_names[i], len, probs[i], want);
    /* Nothing of the bar colour beyond its length. */
    int y = track.y + track.h / 2, stray = 0;
    for (int xx = track.x + len + 1; xx < track.x + track.w; xx++)
      stray += at(px, xx, y) == emotion_colour(test_class_names[i], i);
    CHECK(stray == 0, "class %s: %d bar pixels past the end", test_class_names[i], stray);
  }

  /* Label: bright text pixels inside the label box, none of them beyond the
   * text the label can need. */
  SDL_Rect lb = overlay_label_box(ov, ow, oh);
  int bright = 0;
  for (int yy = lb.y; yy < lb.y + lb.h; yy++)
    for (int xx = lb.x; xx < lb.x + lb.w; xx++) {
      Uint32 c = at(px, xx, yy);
      bright += ((c >> 16) & 255) > 200 && ((c >> 8) & 255) > 200 && (c & 255) > 200;
    }
  CHECK(bright > 150, "label '%s': only %d text pixels in the label box", test_class_names[top],
        bright);

  /* Crop outline: computed here independently from the frame geometry. */
  double sx = (double)video.w / f->width, sy = (double)video.h / f->height;
  int cx = crop.x;
  if (mirror) cx = f->width - crop.x - crop.w;
  int left = video.x + (int)(cx * sx), top_y = video.y + (int)(crop.y * sy);
  int right = video.x + (int)((cx + crop.w) * sx) - 1, bottom = video.y + (int)((crop.y + crop.h) * sy) - 1;
  /* the side edges halfway down, or below the panel where it covers that
   * (the centre square is no face: the panel may lie over it) */
  SDL_Rect panel = overlay_panel_box(ov);
  int midy = (top_y + bottom) / 2;
  if (midy < panel.y + panel.h + 2) midy = panel.y + panel.h + 2;
  CHECK(at(px, left, midy) == OVERLAY_CROP_RGB && at(px, left + 1, midy) == OVERLAY_CROP_RGB,
        "crop left edge not at x=%d (found %06x)", left, at(px, left, midy));
  CHECK(at(px, right, midy) == OVERLAY_CROP_RGB, "crop right edge not at x=%d (found %06x)",
        right, at(px, right, midy));
  /* Top edge near the right corner: the panel covers the left, the status
   * line may cover the bottom edge. */
  CHECK(at(px, right - 5, top_y) == OVERLAY_CROP_RGB, "crop top edge not at y=%d", top_y);
  CHECK(top_y == 0 || at(px, right - 5, top_y - 1) != OVERLAY_CROP_RGB, "crop top spills up");
  (void)bottom;
  if (left >= 1) CHECK(at(px, left - 1, midy) != OVERLAY_CROP_RGB, "crop outline spills left");
  CHECK(at(px, left + OVERLAY_CROP_THICKNESS + 1, midy) != OVERLAY_CROP_RGB,
        "crop outline thicker than %d px", OVERLAY_CROP_THICKNESS);
}

/* Face boxes (--crop face): each outlined in the face colour where asked,
 * with its caption's text in a strip just above it. */
static void check_faces(window *win, overlay *ov, pixels *px) {
  SDL_Rect video;
  int ow, oh;
  window_draw_video(win, 0, &video, &ow, &oh);
  overlay_view v = {.num_faces = 2,
                    .faces = {{360, 200, 160, 160}, {80, 300, 100, 100}},
                    .face_text = {"happy 87%", NULL}};
  overlay_draw(ov, &v, ow, oh);
  read_back(window_renderer(win), px);
  for (int i = 0; i < 2; i++) {
    SDL_Rect b = v.faces[i];
    int midy = b.y + b.h / 2, midx = b.x + b.w / 2;
    CHECK(at(px, b.x, midy) == OVERLAY_FACE_RGB && at(px, b.x + b.w - 1, midy) == OVERLAY_FACE_RGB,
          "face %d: side edges not drawn at x=%d and %d", i, b.x, b.x + b.w - 1);
    CHECK(at(px, midx, b.y) == OVERLAY_FACE_RGB && at(px, midx, b.y + b.h - 1) == OVERLAY_FACE_RGB,
          "face %d: top/bottom edges not drawn", i);
    CHECK(at(px, midx, midy) != OVERLAY_FACE_RGB, "face %d: box filled", i);
    /* caption: face-coloured text pixels in the strip above the box */
    int text = 0;
    for (int y = b.y - 30; y < b.y; y++)
      for (int x = b.x; x < b.x + 120; x++) text += y >= 0 && at(px, x, y) == OVERLAY_FACE_RGB;
    if (i == 0)
      CHECK(text > 20, "face 0: caption has only %d text pixels", text);
    else
      CHECK(text == 0, "face 1 has no caption, found %d caption pixels", text);
  }
}

static void test_geometry(void) {
  SDL_Rect r = window_fit(640, 480, 800, 480);
  CHECK(r.x == 80 && r.y == 0 && r.w == 640 && r.h == 480, "fit 640x480 in 800x480: %d,%d %dx%d",
        r.x, r.y, r.w, r.h);
  r = window_fit(320, 240, 640, 600);
  CHECK(r.x == 0 && r.y == 60 && r.w == 640 && r.h == 480, "fit 320x240 in 640x600: %d,%d %dx%d",
        r.x, r.y, r.w, r.h);
  capture_rect c = capture_center_crop(320, 240, 0.5f);
  SDL_Rect m = window_map_rect(c, 320, 240, (SDL_Rect){0, 0, 640, 480}, 0);
  CHECK(m.x == 2 * c.x && m.y == 2 * c.y && m.w == 2 * c.w && m.h == 2 * c.h, "map x2");
  capture_rect off = {10, 20, 30, 40};
  m = window_map_rect(off, 320, 240, (SDL_Rect){0, 0, 320, 240}, 1);
  CHECK(m.x == 320 - 10 - 30 && m.y == 20, "mirror maps x to %d", m.x);
}

int main(void) {
  char err[512];
  setenv("SDL_VIDEODRIVER", "dummy", 0);
  setenv("SDL_RENDER_DRIVER", "software", 0);
  if (access(FONT_DEFAULT_PATH, R_OK) != 0 && !getenv("EMOCAM_FONT")) {
    printf("skipped: %s missing (install fonts-dejavu-core)\n", FONT_DEFAULT_PATH);
    return 77;
  }
  test_geometry();

  const char *clip = EMOCAM_FIXTURES "/app/clip.mp4";
  capture_source *src = NULL;
  capture_video_opts vo = {clip, CAPTURE_ALL, 0};
  if (capture_open_video(&src, &vo, err, sizeof err) != CAPTURE_OK) {
    fprintf(stderr, "FAIL: %s\n", err);
    return 1;
  }
  window *win = NULL;
  overlay *ov = NULL;
  if (window_open(&win, "test_window", 320, 240, err, sizeof err) != 0 ||
      overlay_create(&ov, window_renderer(win), err, sizeof err) != 0) {
    fprintf(stderr, "FAIL: %s\n", err);
    return 1;
  }
  int ow, oh;
  SDL_GetRendererOutputSize(window_renderer(win), &ow, &oh);
  CHECK(ow == 640 && oh == 480, "window for 320x240 frames is %dx%d, expected 640x480", ow, oh);

  nn_net *net = tiny_net();
  pixels px = {0, 0, NULL};
  int checked = 0;
  capture_frame f;
  while (capture_next(src, &f, 2000) == CAPTURE_OK) {
    if (f.seq % 6 == 0) {
      /* Vary the crop and the mirror as a user would. */
      float scale = (f.seq / 6) % 2 ? 0.6f : 1.0f;
      check_frame(win, ov, net, &f, scale, (f.seq / 12) % 2, &px);
      checked++;
    }
    capture_release(src, &f);
  }
  CHECK(checked == 8, "checked %d frames of the 48-frame clip, expected 8", checked);

  /* A resized window letterboxes the frame; the overlay follows. */
  {
    SDL_SetWindowSize(window_handle(win), 900, 480);
    SDL_Event e;
    while (SDL_PollEvent(&e)) {
    }
    SDL_GetRendererOutputSize(window_renderer(win), &ow, &oh);
    CHECK(ow == 900 && oh == 480, "resized output %dx%d", ow, oh);
    capture_close(src);
    src = NULL;
    if (capture_open_video(&src, &vo, err, sizeof err) == CAPTURE_OK &&
        capture_next(src, &f, 2000) == CAPTURE_OK) {
      check_frame(win, ov, net, &f, 1.0f, 0, &px);
      capture_release(src, &f);
    } else {
      CHECK(0, "reopen: %s", err);
    }
  }

  check_faces(win, ov, &px);

  /* The screenshot is the rendered window, pixel for pixel. */
  char png[] = "/tmp/test_window_XXXXXX.png";
  int fd = mkstemps(png, 4);
  CHECK(fd >= 0, "mkstemps");
  close(fd);
  CHECK(window_save_png(win, png, err, sizeof err) == 0, "%s", err);
  SDL_Surface *s = IMG_Load(png);
  CHECK(s != NULL, "reading %s back: %s", png, IMG_GetError());
  if (s) {
    SDL_Surface *rgb = SDL_ConvertSurfaceFormat(s, SDL_PIXELFORMAT_RGB24, 0);
    CHECK(rgb && rgb->w == px.w && rgb->h == px.h, "PNG size %dx%d, window %dx%d",
          rgb ? rgb->w : 0, rgb ? rgb->h : 0, px.w, px.h);
    if (rgb && rgb->w == px.w && rgb->h == px.h) {
      long diff = 0;
      for (int y = 0; y < px.h; y++)
        diff += memcmp((Uint8 *)rgb->pixels + (size_t)y * rgb->pitch, px.rgb + (size_t)y * px.w * 3,
                       (size_t)px.w * 3) != 0;
      CHECK(diff == 0, "%ld rows of the PNG differ from the window", diff);
    }
    SDL_FreeSurface(rgb);
    SDL_FreeSurface(s);
  }
  unlink(png);

  free(px.rgb);
  nn_net_destroy(net);
  capture_close(src);
  overlay_destroy(ov);
  window_close(win);
  printf("test_window: %d frames checked\n", checked + 1);
  return check_finish("test_window");
}
