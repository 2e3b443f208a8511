/* test_frame: the per-frame recipe the window and headless share, without a
 * window or a video: frame_crop frames the centre square (no detector) and
 * fills the network's input with exactly capture_crop_resize of the box it
 * tags; frame_results moves the smoothing on and writes one CSV row per
 * crop with the tagged box, the raw label and the shown (held) label; a
 * result for a face dropped since its frame was taken writes nothing; and
 * frame_dt's three cases. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "live/frame.h"
#include "test_support.h"

#define SAMPLE (48 * 48)
enum { W = 64, H = 48 };

static unsigned char rgb[W * H * 3];

static capture_image test_image(void) {
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      for (int c = 0; c < 3; c++) rgb[(y * W + x) * 3 + c] = (unsigned char)(x * 3 + y * 2 + c * 40);
  return (capture_image){rgb, W, H, W * 3, 3};
}

static void test_crop(classifier *cl, float crop_scale, capture_rect want) {
  face_stage fs;
  CHECK(faces_stage_init(&fs, NULL, 1, cl->num_classes, 0.3f, crop_scale) == 0);
  capture_image img = test_image();
  static float input[FACES_MAX * SAMPLE], direct[SAMPLE];
  crop_tag tags[FACES_MAX];
  double ms = -1;
  int n = frame_crop(&fs, cl, &img, 0.0, input, tags, &ms);
  CHECK(n == 1, "crops %d", n);
  CHECK(tags[0].id == -1, "id %d: not the centre square", tags[0].id);
  CHECK(tags[0].box.x == want.x && tags[0].box.y == want.y && tags[0].box.w == want.w &&
            tags[0].box.h == want.h,
        "scale %g: box %d,%d %dx%d, expected %d,%d %dx%d", crop_scale, tags[0].box.x,
        tags[0].box.y, tags[0].box.w, tags[0].box.h, want.x, want.y, want.w, want.h);
  CHECK(ms >= 0);
  capture_crop_resize(&img, tags[0].box, 1, 48, 48, direct);
  CHECK(memcmp(input, direct, sizeof direct) == 0, "input is not the tagged box resized");
}

/* Reads the CSV's data rows: frame, face, x, y, w, h, label, shown label, track. */
typedef struct {
  long frame;
  int face, x, y, w, h, track;
  char label[32], shown[32];
} row;

static int read_rows(const char *path, row *rows, int max) {
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  char line[1024];
  int n = 0;
  if (!fgets(line, sizeof line, f)) n = -1;
  while (n >= 0 && n < max && fgets(line, sizeof line, f)) {
    row *r = &rows[n];
    double t;
    char *field[32];
    int nf = 0;
    line[strcspn(line, "\n")] = '\0';
    for (char *p = strtok(line, ","); p && nf < 32; p = strtok(NULL, ",")) field[nf++] = p;
    if (nf < 10) break;
    r->frame = atol(field[0]);
    t = atof(field[1]);
    (void)t;
    r->face = atoi(field[2]);
    r->x = atoi(field[3]), r->y = atoi(field[4]), r->w = atoi(field[5]), r->h = atoi(field[6]);
    snprintf(r->label, sizeof r->label, "%s", field[7]);
    snprintf(r->shown, sizeof r->shown, "%s", field[nf - 2]);
    r->track = atoi(field[nf - 1]);
    n++;
  }
  fclose(f);
  return n;
}

static void test_results(classifier *cl) {
  char path[] = "/tmp/emocam_test_frame_XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  close(fd);
  live_log *lg = NULL;
  char err[512];
  CHECK(live_log_open(&lg, cl, path, NULL, err, sizeof err) == 0, "%s", err);
  face_stage fs;
  CHECK(faces_stage_init(&fs, NULL, 1, cl->num_classes, 0.3f, 1.0f) == 0);
  capture_image img = test_image();
  static float input[FACES_MAX * SAMPLE];
  crop_tag tags[FACES_MAX];
  double ms;
  /* happy, then one frame where sad leads by a little, then sad for long */
  float happy[TEST_CLASSES] = {0.05f, 0.05f, 0.05f, 0.6f, 0.1f, 0.1f, 0.05f};
  float sad_blip[TEST_CLASSES] = {0.05f, 0.05f, 0.05f, 0.3f, 0.1f, 0.4f, 0.05f};
  float sad[TEST_CLASSES] = {0.05f, 0.05f, 0.05f, 0.05f, 0.1f, 0.65f, 0.05f};
  const float *seq[] = {happy, sad_blip, sad, sad, sad, sad, sad, sad, sad, sad, sad, sad};
  int frames = (int)(sizeof seq / sizeof seq[0]);
  for (int i = 0; i < frames; i++) {
    double t = i / 30.0;
    int n = frame_crop(&fs, cl, &img, t, input, tags, &ms);
    CHECK(n == 1);
    frame_results(&fs, cl, lg, 100 + i, t, frame_dt(i == 0, t, (i - 1) / 30.0, 1 / 30.0), 1, tags,
                  seq[i]);
  }
  /* a result tagged with a face the stage no longer follows: no row */
  crop_tag gone = {42, {0, 0, 10, 10}};
  frame_results(&fs, cl, lg, 999, 1.0, 1 / 30.0, 1, &gone, sad);
  CHECK(live_log_frames(lg) == frames, "frames logged %lld", (long long)live_log_frames(lg));
  CHECK(live_log_close(lg) == 0);
  row rows[64];
  int n = read_rows(path, rows, 64);
  CHECK(n == frames, "%d rows, expected %d", n, frames);
  if (n == frames) {
    for (int i = 0; i < n; i++) {
      CHECK(rows[i].frame == 100 + i && rows[i].face == -1 && rows[i].track == -1,
            "row %d: frame %ld face %d track %d", i, rows[i].frame, rows[i].face, rows[i].track);
      CHECK(rows[i].x == 8 && rows[i].y == 0 && rows[i].w == 48 && rows[i].h == 48,
            "row %d: box %d,%d %dx%d", i, rows[i].x, rows[i].y, rows[i].w, rows[i].h);
    }
    CHECK(!strcmp(rows[0].label, "happy") && !strcmp(rows[0].shown, "happy"));
    /* the blip: raw label sad, the shown label held on happy */
    CHECK(!strcmp(rows[1].label, "sad") && !strcmp(rows[1].shown, "happy"), "row 1: %s shown %s",
          rows[1].label, rows[1].shown);
    /* a third of a second of sad (10 frames) moves the shown label over */
    CHECK(!strcmp(rows[n - 1].shown, "sad"), "last row shown %s", rows[n - 1].shown);
  }
  unlink(path);
}

static void test_dt(void) {
  CHECK(frame_dt(1, 5.0, 4.0, 0.04) == 0.0);
  CHECK_NEAR(frame_dt(0, 5.0, 4.9, 0.04), 0.1, 1e-12);
  CHECK(frame_dt(0, 5.0, 5.0, 0.04) == 0.04); /* time stamps that do not advance */
  CHECK(frame_dt(0, 4.0, 5.0, 0.04) == 0.04);
}

int main(void) {
  nn_set_threads(1);
  char path[] = "/tmp/emocam_test_frame_model_XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return 1;
  close(fd);
  test_save_tiny_model(path, TEST_ARCH_ONE_CONV, 3);
  classifier cl;
  char err[512];
  if (classifier_open(&cl, path, FACES_MAX, err, sizeof err) != 0) {
    fprintf(stderr, "FAIL: %s\n", err);
    return 1;
  }
  test_crop(&cl, 1.0f, (capture_rect){8, 0, 48, 48});
  test_crop(&cl, 0.5f, (capture_rect){20, 12, 24, 24});
  test_results(&cl);
  test_dt();
  classifier_close(&cl);
  unlink(path);
  return check_finish("test_frame");
}
