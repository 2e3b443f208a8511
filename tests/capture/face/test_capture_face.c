/* test_capture_face: the Viola-Jones face detector and its cascade reader.
 * A synthetic cascade pins down the semantics (stump sign, pyramid, grouping,
 * scaling back to source pixels); malformed files are rejected with messages
 * naming the file and the element; OpenCV's trained frontal-face cascade
 * finds nothing in plain backgrounds, finds the faces of the fixture frames
 * and of the wild clip (../shared/data), fast enough for 30 fps.
 * `test_capture_face measure` runs every frame of the wild clip and prints
 * the calibration figures (IoU rate, size ratio, centre offsets).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "capture_face.h"
#include "check.h"
#include "test_support.h"

#define FIX EMOCAM_FIXTURES "/face/"
#define WILD EMOCAM_SHARED_DATA "/clips/mux8-val-wild.mp4"

static char tmpdir[256];

/* CPU time of this thread: the machine is shared, so wall time mostly
 * measures the other jobs; CPU time is what one frame costs a free core. */
static double cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int have_default_cascade(void) { return access(CAPTURE_CASCADE_DEFAULT, R_OK) == 0; }

static void write_file(const char *path, const char *data, size_t n) {
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL, "cannot write %s: %s", path, strerror(errno));
  if (!f) return;
  CHECK(fwrite(data, 1, n, f) == n, "short write %s", path);
  fclose(f);
}

/* ---- a synthetic one-stump cascade --------------------------------------- */

/* One stage, one stump on the feature "left half minus right half" of the
 * 24x24 window: value = (2 L - (L + R)) / nf = (L - R) / nf. The stage sum is
 * -1 (left leaf, value < thr) or +1 (right leaf); the stage needs >= 0. */
static const char *const synth_fmt =
    "<?xml version=\"1.0\"?>\n"
    "<!-- a synthetic cascade -->\n"
    "<opencv_storage>\n"
    "<cascade type_id=\"opencv-cascade-classifier\"><stageType>BOOST</stageType>\n"
    "  <featureType>HAAR</featureType>\n"
    "  <height>24</height>\n"
    "  <width>24</width>\n"
    "  <stageParams>\n"
    "    <boostType>GAB</boostType>\n"
    "    <maxWeakCount>1</maxWeakCount></stageParams>\n"
    "  <featureParams>\n"
    "    <maxCatCount>0</maxCatCount></featureParams>\n"
    "  <stageNum>1</stageNum>\n"
    "  <stages>\n"
    "    <_>\n"
    "      <maxWeakCount>1</maxWeakCount>\n"
    "      <stageThreshold>0.</stageThreshold>\n"
    "      <weakClassifiers>\n"
    "        <_>\n"
    "          <internalNodes>\n"
    "            0 -1 0 %s</internalNodes>\n"
    "          <leafValues>\n"
    "            -1. 1.</leafValues></_></weakClassifiers></_></stages>\n"
    "  <features>\n"
    "    <_>\n"
    "      <rects>\n"
    "        <_>\n"
    "          0 0 24 24 -1.</_>\n"
    "        <_>\n"
    "          0 0 12 24 2.</_></rects>\n"
    "      <tilted>0</tilted></_></features></cascade>\n"
    "</opencv_storage>\n";

static void synth_text(char *buf, size_t len, const char *threshold) {
  snprintf(buf, len, synth_fmt, threshold);
}

/* Writes text to tmpdir/name and returns the path (static buffer). */
static const char *tmp_write(const char *name, const char *text, size_t n) {
  static char path[512];
  snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
  write_file(path, text, n);
  return path;
}

static capture_cascade *load_text(const char *name, const char *text) {
  const char *path = tmp_write(name, text, strlen(text));
  capture_cascade *c = NULL;
  char err[CAPTURE_ERR_LEN] = "";
  int rc = capture_cascade_load(&c, path, err, sizeof(err));
  CHECK(rc == 0 && c, "%s: %s", path, err);
  return c;
}

/* Runs detect on a grey image with explicit options. */
static int detect_grey(capture_face_detector *d, const uint8_t *px, int w, int h, int detect_width,
                       int min_face, float step, int min_nb, capture_rect *out, int max) {
  capture_image img = {px, w, h, w, 1};
  capture_face_opts o;
  capture_face_defaults(&o);
  o.detect_width = detect_width;
  o.min_face = min_face;
  o.scale_step = step;
  o.min_neighbors = min_nb;
  return capture_face_detect(d, &img, &o, out, max);
}

static void test_synthetic(void) {
  char text[4096];
  capture_face_detector *d = NULL;
  char err[CAPTURE_ERR_LEN];
  capture_rect r[8];

  /* Sign convention: value < threshold takes the left leaf. */
  synth_text(text, sizeof(text), "0.");
  capture_cascade *c = load_text("lr.xml", text);
  if (!c) return;
  CHECK(capture_face_detector_create(&d, c, err, sizeof(err)) == 0, "%s", err);
  uint8_t img[24 * 24];
  for (int y = 0; y < 24; y++)
    for (int x = 0; x < 24; x++) img[y * 24 + x] = x < 12 ? 200 : 40;
  int n = detect_grey(d, img, 24, 24, 0, 24, 1.2f, 1, r, 8);
  CHECK(n == 1 && r[0].x == 0 && r[0].y == 0 && r[0].w == 24 && r[0].h == 24,
        "bright-left window: %d boxes (%d,%d %dx%d)", n, r[0].x, r[0].y, r[0].w, r[0].h);
  for (int i = 0; i < 24 * 24; i++) img[i] = (uint8_t)(240 - img[i]); /* mirror: dark left */
  n = detect_grey(d, img, 24, 24, 0, 24, 1.2f, 1, r, 8);
  CHECK(n == 0, "bright-right window must fail the stump, got %d boxes", n);
  capture_face_detector_destroy(d);
  capture_cascade_destroy(c);

  /* A stump every window passes: the pyramid and the grouping, exactly. */
  synth_text(text, sizeof(text), "-1e30");
  c = load_text("all.xml", text);
  if (!c) return;
  CHECK(capture_face_detector_create(&d, c, err, sizeof(err)) == 0, "%s", err);
  /* A checkerboard of 8-px cells: every window, at every scale used here,
   * has contrast (std-dev near 127; finer cells average out when shrunk). */
  uint8_t flat[96 * 96], checker[96 * 96];
  memset(flat, 128, sizeof(flat));
  for (int i = 0; i < 96 * 96; i++) checker[i] = ((i % 96 / 8 + i / 96 / 8) & 1) ? 255 : 0;
  /* 48x48, scales 1 and 2: 13x13 windows of 24 at step 2 chain into one class
   * averaging (12,12,24,24); the one 48 window is its own class. */
  n = detect_grey(d, checker, 48, 48, 0, 24, 2.0f, 1, r, 8);
  CHECK(n == 2, "all-pass 48x48: %d boxes, want 2", n);
  if (n == 2) {
    CHECK(r[0].x == 0 && r[0].y == 0 && r[0].w == 48 && r[0].h == 48, "largest first: %d,%d %dx%d",
          r[0].x, r[0].y, r[0].w, r[0].h);
    CHECK(r[1].x == 12 && r[1].y == 12 && r[1].w == 24 && r[1].h == 24, "grouped: %d,%d %dx%d",
          r[1].x, r[1].y, r[1].w, r[1].h);
  }
  n = detect_grey(d, checker, 48, 48, 0, 24, 2.0f, 2, r, 8);
  CHECK(n == 1 && r[0].w == 24, "min_neighbors 2 drops the single 48 hit: %d boxes", n);
  n = detect_grey(d, checker, 48, 48, 0, 24, 2.0f, 1, r, 1);
  CHECK(n == 1 && r[0].w == 48, "max 1 keeps the largest: %d boxes", n);
  /* 96x96 detected at width 48: the same boxes, doubled into source pixels;
   * min_face 96 leaves only the scale-2 window. */
  n = detect_grey(d, checker, 96, 96, 48, 48, 2.0f, 1, r, 8);
  CHECK(n == 2 && r[0].w == 96 && r[1].x == 24 && r[1].w == 48, "96 at width 48: %d boxes (%d, %d)",
        n, n > 0 ? r[0].w : -1, n > 1 ? r[1].w : -1);
  n = detect_grey(d, checker, 96, 96, 48, 96, 2.0f, 1, r, 8);
  CHECK(n == 1 && r[0].w == 96, "min_face 96: %d boxes", n);
  n = detect_grey(d, flat, 96, 96, 0, 24, 1.2f, 1, r, 8);
  CHECK(n == 0, "flat windows are rejected before any stage (std-dev <= 10), got %d", n);
  n = detect_grey(d, checker, 20, 30, 0, 24, 1.2f, 1, r, 8);
  CHECK(n == 0, "an image narrower than the window has no faces, got %d", n);
  capture_face_detector_destroy(d);
  capture_cascade_destroy(c);

  /* OpenCV goes by element names: some of opencv-data's cascades have a bare
   * <cascade>, which loads the same. */
  char bare[4096];
  synth_text(text, sizeof(text), "0.");
  char *at = strstr(text, " type_id=\"opencv-cascade-classifier\"");
  CHECK(at != NULL, "template has no type_id");
  if (at) {
    snprintf(bare, sizeof(bare), "%.*s%s", (int)(at - text), text,
             at + strlen(" type_id=\"opencv-cascade-classifier\""));
    capture_cascade_destroy(load_text("bare.xml", bare));
  }

  /* A stump no window passes. */
  synth_text(text, sizeof(text), "1e30");
  c = load_text("none.xml", text);
  if (!c) return;
  CHECK(capture_face_detector_create(&d, c, err, sizeof(err)) == 0, "%s", err);
  n = detect_grey(d, checker, 96, 96, 0, 24, 1.2f, 1, r, 8);
  CHECK(n == 0, "never-pass cascade: %d boxes", n);
  capture_face_detector_destroy(d);
  capture_cascade_destroy(c);
  printf("synthetic cascade: stump sign, pyramid, grouping and scaling ok\n");
}

/* ---- malformed cascades --------------------------------------------------- */

/* Loading path must fail with a message naming it and containing want. */
static void expect_reject(const char *path, const char *want) {
  capture_cascade *c = (capture_cascade *)&c; /* must be reset to NULL */
  char err[CAPTURE_ERR_LEN] = "";
  int rc = capture_cascade_load(&c, path, err, sizeof(err));
  CHECK(rc == -1 && c == NULL, "%s: accepted (rc %d), want an error with \"%s\"", path, rc, want);
  CHECK(strstr(err, path) != NULL, "message does not name the file: %s", err);
  CHECK(strstr(err, want) != NULL, "message lacks \"%s\": %s", want, err);
  printf("  rejected: %s\n", err);
  if (rc == 0) capture_cascade_destroy(c);
}

/* The synthetic cascade with `from` replaced by `to` (first occurrence). */
static void expect_edit_rejected(const char *name, const char *from, const char *to,
                                 const char *want) {
  char base[4096], out[4096];
  synth_text(base, sizeof(base), "0.");
  char *at = strstr(base, from);
  CHECK(at != NULL, "%s: \"%s\" not in the template", name, from);
  if (!at) return;
  snprintf(out, sizeof(out), "%.*s%s%s", (int)(at - base), base, to, at + strlen(from));
  expect_reject(tmp_write(name, out, strlen(out)), want);
}

static void test_malformed(void) {
  printf("malformed cascades:\n");
  char base[4096];
  synth_text(base, sizeof(base), "0.");
  expect_reject(tmp_write("truncated.xml", base, strlen(base) / 2), "unexpected end of file");
  expect_reject(tmp_write("empty.xml", "", 0), "empty file");
  expect_reject(tmp_write("notxml.xml", "\x89PNG\r\n\x1a\n\0\0\0", 12), "expected an element");
  expect_edit_rejected("nothreshold.xml", "<stageThreshold>0.</stageThreshold>", "",
                       "missing <stageThreshold>");
  expect_edit_rejected("nostages.xml", "<stageNum>1</stageNum>", "", "missing <stageNum>");
  expect_edit_rejected("badnumber.xml", "0 -1 0 0.", "0 -1 0 0.5x", "bad number \"0.5x\"");
  expect_edit_rejected("nan.xml", "-1. 1.</leaf", "nan 1.</leaf", "bad number \"nan\"");
  expect_edit_rejected("oneleaf.xml", "-1. 1.</leaf", "-1.</leaf", "1 number, expected 2");
  expect_edit_rejected("badfeature.xml", "0 -1 0 0.", "0 -1 7 0.", "uses feature 7");
  expect_edit_rejected("negfeature.xml", "0 -1 0 0.", "0 -1 -3 0.", "bad feature index -3");
  expect_edit_rejected("tree.xml", "0 -1 0 0.", "1 -1 0 0.", "only stumps");
  expect_edit_rejected("stagecount.xml", "<stageNum>1<", "<stageNum>2<", "<stageNum> says 2");
  expect_edit_rejected("hugecount.xml", "<stageNum>1<", "<stageNum>100000<", "out of range");
  expect_edit_rejected("weakcount.xml", "<maxWeakCount>1</maxWeakCount>\n      <stage",
                       "<maxWeakCount>3</maxWeakCount>\n      <stage", "<maxWeakCount> says 3");
  expect_edit_rejected("lbp.xml", "HAAR", "LBP", "expected \"HAAR\"");
  expect_edit_rejected("tilted.xml", "<tilted>0", "<tilted>1", "tilted");
  expect_edit_rejected("outside.xml", "0 0 12 24 2.", "13 0 12 24 2.", "not inside");
  expect_edit_rejected("fourrects.xml", "0 0 12 24 2.</_>",
                       "0 0 12 24 2.</_><_>0 0 1 1 1.</_><_>0 0 1 1 1.</_>", "more than 3");
  expect_edit_rejected("mismatch.xml", "</leafValues>", "</leafValue>", "expected </leafValues>");
  expect_edit_rejected("unknown.xml", "<stageNum>", "<bogus>1</bogus><stageNum>",
                       "unexpected element <bogus>");
  expect_edit_rejected("dup.xml", "<stageNum>1</stageNum>",
                       "<stageNum>1</stageNum><stageNum>1</stageNum>", "duplicate <stageNum>");
  expect_edit_rejected("oldstyle.xml", "<cascade type_id=\"opencv-cascade-classifier\">",
                       "<cascade type_id=\"opencv-haar-classifier\">", "type_id");
  expect_edit_rejected("trailing.xml", "</opencv_storage>\n", "</opencv_storage>\n<x/>",
                       "after </opencv_storage>");
  expect_edit_rejected("comment.xml", "<!-- a synthetic cascade -->", "<!-- open",
                       "unterminated comment");
  snprintf(base, sizeof(base), "%s/does-not-exist.xml", tmpdir);
  expect_reject(base, "cannot open");
  expect_reject(tmpdir, "not a regular file");

  /* The real file, truncated and with a feature index past its features. */
  if (!have_default_cascade()) return;
  size_t n;
  char *real = test_read_file(CAPTURE_CASCADE_DEFAULT, &n);
  CHECK(real != NULL, "cannot read %s", CAPTURE_CASCADE_DEFAULT);
  if (!real) return;
  expect_reject(tmp_write("real-truncated.xml", real, n * 3 / 5), "unexpected end of file");
  char *at = strstr(real, "0 -1 0 ");
  CHECK(at != NULL, "no first stump in the real cascade");
  if (at) {
    size_t pre = (size_t)(at - real);
    char *edit = malloc(n + 16);
    memcpy(edit, real, pre);
    int k = sprintf(edit + pre, "0 -1 99999 ");
    memcpy(edit + pre + k, at + 7, n - pre - 7);
    expect_reject(tmp_write("real-badfeature.xml", edit, n - 7 + (size_t)k), "uses feature 99999");
    free(edit);
  }
  free(real);
}

/* ---- the real cascade ----------------------------------------------------- */

static capture_cascade *load_default(void) {
  capture_cascade *c = NULL;
  char err[CAPTURE_ERR_LEN] = "";
  int rc = capture_cascade_load(&c, CAPTURE_CASCADE_DEFAULT, err, sizeof(err));
  CHECK(rc == 0 && c, "%s", err);
  return rc == 0 ? c : NULL;
}

static uint32_t lcg(uint32_t *s) {
  *s = *s * 1664525u + 1013904223u;
  return *s >> 8;
}

/* Plain backgrounds hold no faces: flat, gradient, gradient + noise, noise. */
static void test_background(capture_face_detector *d) {
  enum { W = 640, H = 480 };
  static uint8_t px[W * H * 3];
  capture_rect r[4];
  uint32_t seed = 12345;
  const char *names[] = {"flat grey", "gradient", "gradient + noise", "coarse noise"};
  for (int kind = 0; kind < 4; kind++) {
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++)
        for (int ch = 0; ch < 3; ch++) {
          int v = 128;
          if (kind == 1 || kind == 2) v = (x * 200 / W + y * 55 / H) + ch * 10;
          if (kind == 2) v += (int)(lcg(&seed) % 41) - 20;
          if (kind == 3) { /* 8x8 blocks of random grey, blocky like a scene */
            uint32_t s = (uint32_t)((y / 8) * 1000 + x / 8) * 2654435761u;
            v = (int)(lcg(&s) % 256);
          }
          px[(y * W + x) * 3 + ch] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    capture_image img = {px, W, H, W * 3, 3};
    int n = capture_face_detect(d, &img, NULL, r, 4);
    CHECK(n == 0, "%s: %d faces found, the first at %d,%d %dx%d", names[kind], n, r[0].x, r[0].y,
          r[0].w, r[0].h);
  }
  printf("backgrounds: no faces in flat, gradient, noisy gradient, block noise\n");
}

/* Detection is right when the largest box's centre lies in the true box and
 * its area is 25%..120% of the true box's. */
static int detection_ok(const capture_rect *det, const capture_rect *truth) {
  double cx = det->x + det->w * 0.5, cy = det->y + det->h * 0.5;
  double area = (double)det->w * det->h, tarea = (double)truth->w * truth->h;
  return cx >= truth->x && cx <= truth->x + truth->w && cy >= truth->y &&
         cy <= truth->y + truth->h && area >= 0.25 * tarea && area <= 1.2 * tarea;
}

static double iou(const capture_rect *a, const capture_rect *b) {
  int x0 = a->x > b->x ? a->x : b->x, y0 = a->y > b->y ? a->y : b->y;
  int x1 = a->x + a->w < b->x + b->w ? a->x + a->w : b->x + b->w;
  int y1 = a->y + a->h < b->y + b->h ? a->y + a->h : b->y + b->h;
  if (x1 <= x0 || y1 <= y0) return 0;
  double inter = (double)(x1 - x0) * (y1 - y0);
  return inter / ((double)a->w * a->h + (double)b->w * b->h - inter);
}

/* One RGB frame also as grey and as RGBX (with a padded stride), again (the
 * same boxes: no state leaks between frames), and at full width (the
 * scratch grows): the face is found each time. */
static void check_formats(capture_face_detector *d, const capture_image *rgb,
                          const capture_rect *truth, const capture_rect *first, int nfirst) {
  int w = rgb->width, h = rgb->height;
  uint8_t *grey = malloc((size_t)w * h), *rgbx = malloc((size_t)(w * 4 + 16) * h);
  if (!grey || !rgbx) {
    CHECK(0, "out of memory");
    free(grey);
    free(rgbx);
    return;
  }
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      const uint8_t *p = rgb->pixels + (size_t)y * rgb->stride + x * 3;
      grey[y * w + x] = (uint8_t)lrintf(0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2]);
      uint8_t *q = rgbx + (size_t)y * (w * 4 + 16) + x * 4;
      q[0] = p[0], q[1] = p[1], q[2] = p[2], q[3] = 77;
    }
  capture_image gi = {grey, w, h, w, 1}, xi = {rgbx, w, h, w * 4 + 16, 4};
  capture_rect r[4];
  int n = capture_face_detect(d, &gi, NULL, r, 4);
  CHECK(n > 0 && detection_ok(&r[0], truth), "grey: %d faces", n);
  n = capture_face_detect(d, &xi, NULL, r, 4);
  CHECK(n == nfirst && n > 0 && !memcmp(&r[0], &first[0], sizeof(r[0])),
        "RGBX: %d faces, RGB gave %d", n, nfirst);
  n = capture_face_detect(d, rgb, NULL, r, 4);
  CHECK(n == nfirst && n > 0 && !memcmp(&r[0], &first[0], sizeof(r[0])),
        "RGB again: %d faces (%d,%d %dx%d), first run %d", n, r[0].x, r[0].y, r[0].w, r[0].h,
        nfirst);
  capture_face_opts o;
  capture_face_defaults(&o);
  o.detect_width = w;
  n = capture_face_detect(d, rgb, &o, r, 4);
  CHECK(n > 0 && detection_ok(&r[0], truth), "full width: %d faces", n);
  free(grey);
  free(rgbx);
}

/* The fixture frames (from the wild clip) with their true boxes. */
static void test_fixture(capture_face_detector *d) {
  FILE *f = fopen(FIX "frames.csv", "r");
  CHECK(f != NULL, "no %sframes.csv", FIX);
  if (!f) return;
  char line[256];
  int frames = 0, ok = 0;
  while (fgets(line, sizeof(line), f)) {
    char name[64];
    capture_rect t;
    if (sscanf(line, "%63[^,],%d,%d,%d,%d", name, &t.x, &t.y, &t.w, &t.h) != 5) continue;
    char path[512];
    snprintf(path, sizeof(path), FIX "%s", name);
    capture_video_opts vo = {path, CAPTURE_ALL, 0};
    capture_source *src = NULL;
    char err[CAPTURE_ERR_LEN] = "";
    CHECK(capture_open_video(&src, &vo, err, sizeof(err)) == CAPTURE_OK, "%s", err);
    if (!src) continue;
    capture_frame fr;
    int rc = capture_next(src, &fr, 5000);
    CHECK(rc == CAPTURE_OK, "%s: no frame (%d)", path, rc);
    if (rc == CAPTURE_OK) {
      capture_image img = {fr.rgb, fr.width, fr.height, fr.width * 3, 3};
      capture_rect r[4];
      int n = capture_face_detect(d, &img, NULL, r, 4);
      frames++;
      int good = n > 0 && detection_ok(&r[0], &t);
      ok += good;
      CHECK(good, "%s: %d faces, largest %d,%d %dx%d, true box %d,%d %dx%d", name, n,
            n > 0 ? r[0].x : 0, n > 0 ? r[0].y : 0, n > 0 ? r[0].w : 0, n > 0 ? r[0].h : 0, t.x,
            t.y, t.w, t.h);
      if (frames == 1) check_formats(d, &img, &t, r, n);
      if (good) { /* max_face: the face is found up to its size, not below it */
        capture_face_opts o;
        capture_face_defaults(&o);
        o.max_face = r[0].w;
        capture_rect m[4];
        int kept = capture_face_detect(d, &img, &o, m, 4);
        CHECK(kept > 0 && detection_ok(&m[0], &t), "%s: max_face %d lost the face", name, o.max_face);
        o.max_face = r[0].w / 2;
        int small = capture_face_detect(d, &img, &o, m, 4);
        CHECK(small == 0 || m[0].w < r[0].w * 3 / 4, "%s: max_face %d still found a %d px face",
              name, o.max_face, small ? m[0].w : 0);
      }
      capture_release(src, &fr);
    }
    capture_close(src);
  }
  fclose(f);
  CHECK(frames >= 3, "only %d fixture frames", frames);
  printf("fixture frames: face found in %d of %d\n", ok, frames);
}

/* 4 and 8 lanes find the same boxes, bit for bit, on the fixture frames, on
 * textured noise and at a smaller detection width (other level sizes, other
 * partial last groups of a row). */
static void test_lanes(capture_face_detector *d) {
  if (capture_face_detector_set_lanes(d, 8) != 8) {
    printf("lanes: skipped (this CPU has no AVX2: only the 4-lane path exists here)\n");
    return;
  }
  FILE *f = fopen(FIX "frames.csv", "r");
  CHECK(f != NULL, "no %sframes.csv", FIX);
  if (!f) return;
  char line[256];
  int images = 0, boxes = 0;
  while (fgets(line, sizeof(line), f)) {
    char name[64], path[512];
    if (sscanf(line, "%63[^,],", name) != 1) continue;
    snprintf(path, sizeof(path), FIX "%s", name);
    capture_video_opts vo = {path, CAPTURE_ALL, 0};
    capture_source *src = NULL;
    char err[CAPTURE_ERR_LEN] = "";
    if (capture_open_video(&src, &vo, err, sizeof(err)) != CAPTURE_OK) continue;
    capture_frame fr;
    if (capture_next(src, &fr, 5000) == CAPTURE_OK) {
      capture_image img = {fr.rgb, fr.width, fr.height, fr.width * 3, 3};
      for (int width = 320; width >= 200; width -= 120) {
        capture_face_opts o;
        capture_face_defaults(&o);
        o.detect_width = width;
        o.min_neighbors = 1; /* every grouped hit counts: more boxes to compare */
        capture_rect r4[16], r8[16];
        capture_face_detector_set_lanes(d, 4);
        int n4 = capture_face_detect(d, &img, &o, r4, 16);
        capture_face_detector_set_lanes(d, 8);
        int n8 = capture_face_detect(d, &img, &o, r8, 16);
        CHECK(n4 == n8 && (n4 <= 0 || memcmp(r4, r8, sizeof(capture_rect) * (size_t)n4) == 0),
              "%s at width %d: 4 lanes found %d boxes, 8 lanes %d, or others", name, width, n4,
              n8);
        images++;
        boxes += n4 > 0 ? n4 : 0;
      }
      capture_release(src, &fr);
    }
    capture_close(src);
  }
  fclose(f);
  CHECK(images >= 6 && boxes >= 6, "compared %d images, %d boxes", images, boxes);
  printf("lanes: 4 and 8 lanes gave the same %d boxes on %d images\n", boxes, images);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double quantile(double *v, int n, double q) {
  if (n == 0) return NAN;
  qsort(v, (size_t)n, sizeof(*v), cmp_double);
  double at = q * (n - 1);
  int i = (int)at;
  return i + 1 < n ? v[i] + (at - i) * (v[i + 1] - v[i]) : v[i];
}

static double median(double *v, int n) { return quantile(v, n, 0.5); }

/* The wild clip: every `every`-th frame (1 = all). Returns 0, or 77 when the
 * shared data is absent. */
static int test_wild(capture_face_detector *d, int every) {
  static capture_rect truth[2000];
  char lpath[512];
  snprintf(lpath, sizeof(lpath), "%s.labels.csv", WILD);
  FILE *f = fopen(lpath, "r");
  if (!f) {
    printf("skipped: wild clip: %s absent\n", lpath);
    return 77;
  }
  char line[512];
  int nlab = 0;
  while (fgets(line, sizeof(line), f)) {
    int fr;
    capture_rect t;
    char label[64];
    if (sscanf(line, "%d,%63[^,],%d,%d,%d,%d", &fr, label, &t.x, &t.y, &t.w, &t.h) == 6 &&
        fr >= 0 && fr < 2000) {
      truth[fr] = t;
      if (fr + 1 > nlab) nlab = fr + 1;
    }
  }
  fclose(f);
  CHECK(nlab == 1170, "labels: %d frames, want 1170", nlab);

  capture_video_opts vo = {WILD, CAPTURE_ALL, 0};
  capture_source *src = NULL;
  char err[CAPTURE_ERR_LEN] = "";
  CHECK(capture_open_video(&src, &vo, err, sizeof(err)) == CAPTURE_OK, "%s", err);
  if (!src) return 0;
  static double ms[2000], ratio[2000], dxs[2000], dys[2000];
  int sampled = 0, ok = 0, found = 0, iou_ok = 0, nratio = 0, misses = 0, rc;
  capture_frame fr;
  while ((rc = capture_next(src, &fr, 5000)) == CAPTURE_OK) {
    int i = (int)fr.seq;
    if (i < nlab && i % every == 0) {
      capture_image img = {fr.rgb, fr.width, fr.height, fr.width * 3, 3};
      capture_rect r[8];
      double t0 = cpu_s();
      int n = capture_face_detect(d, &img, NULL, r, 8);
      ms[sampled] = (cpu_s() - t0) * 1e3;
      const capture_rect *t = &truth[i];
      sampled++;
      if (!(n > 0 && detection_ok(&r[0], t)) && misses++ < 30)
        printf("  frame %4d: %d faces, largest %d,%d %dx%d, true %d,%d %dx%d\n", i, n,
               n > 0 ? r[0].x : 0, n > 0 ? r[0].y : 0, n > 0 ? r[0].w : 0, n > 0 ? r[0].h : 0,
               t->x, t->y, t->w, t->h);
      if (n > 0) {
        found++;
        ok += detection_ok(&r[0], t);
        iou_ok += iou(&r[0], t) >= 0.3;
        ratio[nratio] = (double)t->w / r[0].w;
        /* offset of the detected centre from the true centre, in true sizes */
        dxs[nratio] = ((r[0].x + r[0].w * 0.5) - (t->x + t->w * 0.5)) / t->w;
        dys[nratio] = ((r[0].y + r[0].h * 0.5) - (t->y + t->h * 0.5)) / t->h;
        nratio++;
      }
    }
    capture_release(src, &fr);
  }
  CHECK(rc == CAPTURE_EOF, "wild clip ended with %d: %s", rc, capture_error(src));
  capture_close(src);
  CHECK(sampled > 0, "no frames sampled");
  if (sampled == 0) return 0;
  double share = 100.0 * ok / sampled, iou_share = 100.0 * iou_ok / sampled;
  printf("wild clip, every %d%s frame: %d sampled, face found in %d, right (centre in box, "
         "area 25..120%%) in %d = %.1f%% (%.1f%% of those with a face found)\n",
         every, every == 1 ? "st" : "th", sampled, found, ok, share,
         found ? 100.0 * ok / found : 0.0);
  printf("  IoU >= 0.3 with the true box: %.1f%% of sampled frames\n", iou_share);
  printf("  true_w / detected_w: median %.3f (quartiles %.3f .. %.3f)\n", median(ratio, nratio),
         quantile(ratio, nratio, 0.25), quantile(ratio, nratio, 0.75));
  printf("  centre offset dx / true_w: median %+.3f (quartiles %+.3f .. %+.3f)\n",
         median(dxs, nratio), quantile(dxs, nratio, 0.25), quantile(dxs, nratio, 0.75));
  printf("  centre offset dy / true_h: median %+.3f (quartiles %+.3f .. %+.3f)\n",
         median(dys, nratio), quantile(dys, nratio, 0.25), quantile(dys, nratio, 0.75));
  printf("  detect CPU time per 640x480 frame: median %.2f ms\n", median(ms, sampled));
  /* The clip's ceiling for a frontal cascade is below 90%: about 8% of its
   * faces are in profile or tilted (never found) and about 5% are crops cut
   * above the brows, where the found face box is rightly larger than the
   * crop. Measured: 86.3% of every 10th frame (86.9% of all frames). */
  CHECK(share >= 80.0, "face found right in only %.1f%% of sampled frames, want >= 80%%", share);
  CHECK(iou_share >= 85.0, "IoU >= 0.3 in only %.1f%% of sampled frames, want >= 85%%", iou_share);
  return 0;
}

/* Allocation counting: face.cmake links this program with --wrap for
 * malloc, calloc and realloc, which redirects the calls made from static
 * code (libcapture.a, this file) here; FFmpeg's own calls are not counted. */
static volatile long allocs; /* volatile: GCC assumes malloc leaves globals alone */
/* Weak: a build without --wrap still links (the wrappers are then unused). */
__attribute__((weak)) void *__real_malloc(size_t n);
__attribute__((weak)) void *__real_calloc(size_t n, size_t size);
__attribute__((weak)) void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n) {
  allocs++;
  return __real_malloc(n);
}
void *__wrap_calloc(size_t n, size_t size) {
  allocs++;
  return __real_calloc(n, size);
}
void *__wrap_realloc(void *p, size_t n) {
  allocs++;
  return __real_realloc(p, n);
}

/* After the first frame, frames of the same or a smaller size allocate
 * nothing; a larger one grows the scratch. */
static void test_no_alloc(capture_face_detector *d) {
  long before = allocs;
  void *volatile probe = malloc(16); /* volatile: the pair is not optimised away */
  free(probe);
  if (allocs == before) {
    printf("note: allocation counting inactive (not linked with --wrap=malloc)\n");
    return;
  }
  enum { W = 640, H = 480 };
  static uint8_t px[W * H * 3];
  uint32_t seed = 99;
  for (int i = 0; i < W * H * 3; i++) px[i] = (uint8_t)(i / 3 % W / 2 + lcg(&seed) % 48);
  capture_image img = {px, W, H, W * 3, 3}, small = {px, W / 2, H / 2, W * 3, 3};
  capture_face_opts o;
  capture_face_defaults(&o);
  o.detect_width = W;
  capture_rect r[4];
  capture_face_detect(d, &img, &o, r, 4); /* sizes the scratch for 640x480 */
  before = allocs;
  for (int k = 0; k < 3; k++) {
    capture_face_detect(d, &img, &o, r, 4);
    capture_face_detect(d, &img, NULL, r, 4);
    capture_face_detect(d, &small, &o, r, 4);
  }
  CHECK(allocs == before, "%ld allocations in 9 frames after the first", allocs - before);
  capture_image big = {px, W, H * 2, W * 3 / 2, 3}; /* taller: the scratch must grow */
  big.width = W / 2;
  before = allocs;
  o.detect_width = 0;
  capture_face_detect(d, &big, &o, r, 4);
  CHECK(allocs > before, "a taller frame did not grow the scratch");
  printf("allocations: none per frame once the scratch fits\n");
}

/* Times detection on one frame repeatedly (steady state: scratch reused). */
static void test_speed(capture_face_detector *d) {
  enum { W = 640, H = 480, RUNS = 21 };
  static uint8_t px[W * H * 3];
  uint32_t seed = 7;
  for (int i = 0; i < W * H * 3; i++) px[i] = (uint8_t)((i / 3 % W) / 3 + lcg(&seed) % 64);
  capture_image img = {px, W, H, W * 3, 3};
  capture_rect r[4];
  double ms[RUNS];
  for (int k = 0; k < RUNS; k++) {
    double t0 = cpu_s();
    capture_face_detect(d, &img, NULL, r, 4);
    ms[k] = (cpu_s() - t0) * 1e3;
  }
  double med = median(ms, RUNS);
  printf("speed: 640x480 textured RGB frame, detect_width 320: median %.2f ms CPU over %d runs\n",
         med, RUNS);
  /* Loose bound: the target is well under 10 ms, but the machine is shared;
   * sanitizer builds are 5-10x slower and only print the figure. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  (void)med;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
  (void)med;
#else
  CHECK(med < 60.0, "median %.2f ms per frame", med);
#endif
#else
  CHECK(med < 60.0, "median %.2f ms per frame", med);
#endif
}

/* Scenarios, one ctest each: "" (synthetic cascade, malformed files: no
 * external data), "detect" (real cascade: backgrounds, fixture, speed),
 * "wild" (every 10th frame of the shared clip), "measure" (every frame). */
int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  if (strcmp(mode, "") && strcmp(mode, "detect") && strcmp(mode, "wild") &&
      strcmp(mode, "measure")) {
    fprintf(stderr, "usage: test_capture_face [detect|wild|measure]\n");
    return 2;
  }
  if (!*mode) {
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_capture_face.XXXXXX");
    if (!mkdtemp(tmpdir)) {
      printf("FAIL: mkdtemp: %s\n", strerror(errno));
      return 1;
    }
    test_synthetic();
    test_malformed();
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    CHECK(system(cmd) == 0, "could not remove %s", tmpdir);
    return check_finish("test_capture_face");
  }
  if (!have_default_cascade()) {
    printf("skipped: opencv-data not installed (%s absent)\n", CAPTURE_CASCADE_DEFAULT);
    return 77;
  }
  capture_cascade *c = load_default();
  capture_face_detector *d = NULL;
  char err[CAPTURE_ERR_LEN] = "";
  if (c) CHECK(capture_face_detector_create(&d, c, err, sizeof(err)) == 0, "%s", err);
  int skipped = 0;
  if (d && !strcmp(mode, "detect")) {
    test_background(d);
    test_fixture(d);
    test_lanes(d);
    test_speed(d);
    test_no_alloc(d);
  } else if (d) {
    skipped = test_wild(d, strcmp(mode, "measure") ? 10 : 1) == 77;
  }
  capture_face_detector_destroy(d);
  capture_cascade_destroy(c);
  if (skipped) return 77;
  return check_finish("test_capture_face %s", mode);
}
