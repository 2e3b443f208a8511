/* test_classifier: the model plus preprocessing that predict, eval and the
 * live path share: opening (errors name the file), batches larger than the
 * net's split without changing a result, flip averaging as the mean of the
 * two passes, the crop share read from the model, an image crop classified
 * as its resized input is, and the argmax's tie rule. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "common/classifier.h"
#include "test_support.h"

#define SAMPLE (48 * 48)

static char dir[] = "/tmp/emocam_test_classifier_XXXXXX";

/* A tiny model saved at dir/name with this preprocessing text and flip
 * averaging; the same seed gives the same weights. */
static void save_model(char *path, size_t len, const char *name, const char *preprocess,
                       int flip_tta) {
  snprintf(path, len, "%s/%s", dir, name);
  char err[NN_ERR_LEN];
  nn_model m = {test_tiny_net(TEST_ARCH_TWO_CONV, 7), TEST_CLASSES, (char **)test_class_names,
                (char *)preprocess, flip_tta, NULL};
  if (nn_model_save(path, &m, NULL, err, sizeof err) != 0) {
    fprintf(stderr, "FAIL: nn_model_save: %s\n", err);
    exit(1);
  }
  nn_net_destroy(m.net);
}

static void fill(float *x, int n, unsigned seed) {
  for (int i = 0; i < n * SAMPLE; i++) x[i] = (float)((i * 2654435761u + seed) % 1000) / 999.0f;
}

static void test_open_errors(void) {
  classifier cl;
  char err[512] = "";
  CHECK(classifier_open(&cl, "/nonexistent/m.emo", 1, err, sizeof err) != 0);
  CHECK(strstr(err, "/nonexistent/m.emo") != NULL, "message does not name the file: %s", err);
  char path[1100];
  snprintf(path, sizeof path, "%s/not_a_model.emo", dir);
  FILE *f = fopen(path, "w");
  fputs("hello\n", f);
  fclose(f);
  CHECK(classifier_open(&cl, path, 1, err, sizeof err) != 0);
  CHECK(strstr(err, "not_a_model.emo") != NULL, "message does not name the file: %s", err);
}

/* 6 samples through a batch of 4 (4 + 2) give what 6 single runs give. */
static void test_batches(const char *path) {
  classifier big, one;
  char err[512];
  CHECK(classifier_open(&big, path, 4, err, sizeof err) == 0, "%s", err);
  CHECK(classifier_open(&one, path, 1, err, sizeof err) == 0, "%s", err);
  CHECK(big.c == 1 && big.h == 48 && big.w == 48 && big.num_classes == TEST_CLASSES);
  CHECK(!strcmp(big.name, "plain.emo"), "name %s", big.name);
  float x[6 * SAMPLE], p[6 * TEST_CLASSES], q[TEST_CLASSES];
  fill(x, 6, 1);
  CHECK(classifier_run(&big, x, 6, p) == 0);
  double worst = 0;
  for (int i = 0; i < 6; i++) {
    CHECK(classifier_run(&one, x + i * SAMPLE, 1, q) == 0);
    double sum = 0;
    for (int k = 0; k < TEST_CLASSES; k++) {
      worst = fmax(worst, fabs(p[i * TEST_CLASSES + k] - q[k]));
      sum += p[i * TEST_CLASSES + k];
    }
    CHECK_NEAR(sum, 1.0, 1e-5);
  }
  CHECK(worst < 1e-6, "batch of 4 differs from single runs by %g", worst);
  /* distinct inputs give distinct outputs: the comparison above means something */
  CHECK(fabs(p[0] - p[TEST_CLASSES]) > 1e-7 || fabs(p[1] - p[TEST_CLASSES + 1]) > 1e-7);
  classifier_close(&big);
  classifier_close(&one);
}

/* Flip averaging: the mean of the plain model on x and on x mirrored. */
static void test_flip(const char *plain, const char *flipped) {
  classifier a, b;
  char err[512];
  CHECK(classifier_open(&a, plain, 2, err, sizeof err) == 0, "%s", err);
  CHECK(classifier_open(&b, flipped, 2, err, sizeof err) == 0, "%s", err);
  float x[2 * SAMPLE], m[2 * SAMPLE], pa[2 * TEST_CLASSES], pm[2 * TEST_CLASSES],
      pb[2 * TEST_CLASSES];
  fill(x, 2, 5);
  for (int s = 0; s < 2; s++)
    for (int y = 0; y < 48; y++)
      for (int c = 0; c < 48; c++) m[s * SAMPLE + y * 48 + c] = x[s * SAMPLE + y * 48 + 47 - c];
  CHECK(classifier_run(&a, x, 2, pa) == 0 && classifier_run(&a, m, 2, pm) == 0);
  CHECK(classifier_run(&b, x, 2, pb) == 0);
  double worst = 0, apart = 0;
  for (int i = 0; i < 2 * TEST_CLASSES; i++) {
    worst = fmax(worst, fabs(pb[i] - 0.5 * (pa[i] + pm[i])));
    apart = fmax(apart, fabs(pa[i] - pm[i]));
  }
  CHECK(worst < 1e-6, "flip average off by %g", worst);
  CHECK(apart > 1e-6, "the mirror changes nothing: the test would not see a missing flip");
  /* the input is left as it was */
  float x2[2 * SAMPLE];
  fill(x2, 2, 5);
  CHECK(memcmp(x, x2, sizeof x) == 0);
  classifier_close(&a);
  classifier_close(&b);
}

static void test_crop_scale(void) {
  const struct {
    const char *text;
    float want;
  } cases[] = {{"colour=grey crop=center crop_scale=0.5 resize=area", 0.5f},
               {"colour=grey crop=center resize=area", 1.0f},
               {"colour=grey crop_scale=7", 1.0f},
               {"crop_scale=0.1", 1.0f}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char path[1100], err[512];
    save_model(path, sizeof path, "scale.emo", cases[i].text, 0);
    classifier cl;
    CHECK(classifier_open(&cl, path, 1, err, sizeof err) == 0, "%s", err);
    CHECK(cl.crop_scale == cases[i].want, "'%s': crop_scale %g, expected %g", cases[i].text,
          cl.crop_scale, cases[i].want);
    classifier_close(&cl);
  }
}

/* An imported model's pixel convention: the net sees (255 x - mean) * scale
 * for samples x = pixel / 255; emocam's own models see x. Also through the
 * flip averaging, which must mirror the remapped input. */
static void test_pixel_map(const char *plain) {
  for (int flip = 0; flip < 2; flip++) {
    char path[1100], err[512];
    save_model(path, sizeof path, "pixels.emo",
               "colour=grey crop=center crop_scale=1 pixel_mean=127.5 pixel_scale=0.0078125", flip);
    classifier cl, ref;
    CHECK(classifier_open(&cl, path, 2, err, sizeof err) == 0, "%s", err);
    CHECK(classifier_open(&ref, plain, 2, err, sizeof err) == 0, "%s", err);
    CHECK(cl.remap && !ref.remap && cl.pixel_mean == 127.5f && cl.pixel_scale == 0.0078125f);
    float x[2 * SAMPLE], mapped[2 * SAMPLE], mirrored[2 * SAMPLE], got[2 * TEST_CLASSES],
        want[2 * TEST_CLASSES], wm[2 * TEST_CLASSES], raw[2 * TEST_CLASSES];
    fill(x, 2, 9);
    for (int i = 0; i < 2 * SAMPLE; i++) mapped[i] = (255.0f * x[i] - 127.5f) * 0.0078125f;
    for (int r = 0; r < 2 * 48; r++)
      for (int c = 0; c < 48; c++) mirrored[r * 48 + c] = mapped[r * 48 + 47 - c];
    CHECK(classifier_run(&cl, x, 2, got) == 0);
    /* the same weights (seed 7) without the remap, fed the mapped input */
    CHECK(classifier_run(&ref, mapped, 2, want) == 0 && classifier_run(&ref, mirrored, 2, wm) == 0);
    CHECK(classifier_run(&ref, x, 2, raw) == 0);
    double worst = 0, apart = 0;
    for (int i = 0; i < 2 * TEST_CLASSES; i++) {
      double w = flip ? 0.5 * (want[i] + wm[i]) : want[i];
      worst = fmax(worst, fabs(got[i] - w));
      apart = fmax(apart, fabs(got[i] - raw[i]));
    }
    CHECK(worst < 1e-6, "flip %d: pixel map off by %g", flip, worst);
    CHECK(apart > 1e-4, "the pixel map changes nothing: the test could not see it missing");
    classifier_close(&cl);
    classifier_close(&ref);
  }
}

/* An image and a rectangle: what classifier_run gives on the crop resized
 * by capture_crop_resize, the one resize every path uses. */
static void test_image(const char *path) {
  classifier cl;
  char err[512];
  CHECK(classifier_open(&cl, path, 1, err, sizeof err) == 0, "%s", err);
  enum { W = 90, H = 70 };
  static unsigned char rgb[W * H * 3];
  for (int i = 0; i < W * H * 3; i++) rgb[i] = (unsigned char)((i * 37) % 251);
  capture_image img = {rgb, W, H, W * 3, 3};
  capture_rect r = {20, 5, 60, 60};
  float x[SAMPLE], p[TEST_CLASSES], q[TEST_CLASSES];
  capture_crop_resize(&img, r, 1, 48, 48, x);
  CHECK(classifier_run(&cl, x, 1, p) == 0);
  CHECK(classifier_run_image(&cl, &img, r, q) == 0);
  for (int k = 0; k < TEST_CLASSES; k++) CHECK(p[k] == q[k], "class %d: %g vs %g", k, p[k], q[k]);
  classifier_close(&cl);
}

static void test_argmax(void) {
  const float a[] = {0.1f, 0.4f, 0.4f, 0.1f}, b[] = {0.3f, 0.2f, 0.5f}, c[] = {0.25f};
  CHECK(classifier_argmax(a, 4) == 1); /* ties: the lowest index */
  CHECK(classifier_argmax(b, 3) == 2);
  CHECK(classifier_argmax(c, 1) == 0);
}

int main(void) {
  nn_set_threads(1);
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  char plain[1100], flipped[1100];
  save_model(plain, sizeof plain, "plain.emo", "colour=grey crop=center crop_scale=1", 0);
  save_model(flipped, sizeof flipped, "flipped.emo", "colour=grey crop=center crop_scale=1", 1);
  test_open_errors();
  test_batches(plain);
  test_flip(plain, flipped);
  test_crop_scale();
  test_pixel_map(plain);
  test_image(plain);
  test_argmax();
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return check_finish("test_classifier");
}
