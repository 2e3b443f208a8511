/* test_capture_bench: bench_video_run (app/live/bench_video.c) on the
 * fixture clip and the shared 70-face clip, plus its error paths; and the
 * whole live path with a tiny model, whose JSON line must count every frame
 * of the clip and give stage times that add up. Prints the measured figures.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "live/bench_video.h"
#include "test_support.h"

/* Runs the live path bench with stdout sent to a file; returns its text. */
static char *live_json(classifier *cl, const char *clip) {
  char path[] = "/tmp/test_bench_live_XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return NULL;
  fflush(stdout);
  int saved = dup(1);
  dup2(fd, 1);
  int rc = bench_video_run(clip, cl, 1, 48, 48, 1.0f, NULL, 1);
  fflush(stdout);
  dup2(saved, 1);
  close(saved);
  CHECK(rc == 0, "the live path bench returned %d", rc);
  FILE *f = fdopen(fd, "r");
  static char buf[4096];
  rewind(f);
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  fclose(f);
  unlink(path);
  return buf;
}

static double field(const char *json, const char *key) {
  char k[64];
  snprintf(k, sizeof k, "\"%s\": ", key);
  const char *p = strstr(json, k);
  return p ? strtod(p + strlen(k), NULL) : -1;
}

int main(void) {
  const char *clip = EMOCAM_FIXTURES "/capture/clip.mp4";
  CHECK(bench_video_run(clip, NULL, 1, 48, 48, 1.0f, NULL, 1) == 0,
        "bench on clip.mp4 did not return 0");
  fflush(stdout);
  CHECK(bench_video_run("/nonexistent/h3-bench.mp4", NULL, 1, 48, 48, 1.0f, NULL, 0) == 1,
        "bench on a missing file did not return 1");
  CHECK(bench_video_run(clip, NULL, 2, 48, 48, 1.0f, NULL, 0) == 1,
        "bench with 2 channels did not return 1");

  char model[] = "/tmp/test_bench_model_XXXXXX";
  int fd = mkstemp(model);
  if (fd >= 0) close(fd);
  test_save_tiny_model(model, TEST_ARCH_ONE_CONV, 5);
  classifier cl;
  char err[512];
  CHECK(classifier_open(&cl, model, 16, err, sizeof err) == 0, "%s", err);
  char *j = live_json(&cl, clip);
  printf("%s", j ? j : "");
  if (j) {
    double frames = field(j, "frames"), total = field(j, "frame_ms_median");
    double parts = field(j, "decode_convert_ms") + field(j, "network_ms_median");
    CHECK(frames == 120, "the live path counted %.0f frames of the 120-frame clip", frames);
    CHECK(field(j, "network_ms_median") > 0 && total >= parts * 0.5 && total > 0,
          "stage times: total %f, decode + network %f", total, parts);
    double mean = field(j, "frame_ms_mean");
    double mean_parts = field(j, "decode_convert_ms") + field(j, "detect_ms_mean") +
                        field(j, "crop_resize_ms_mean") + field(j, "network_ms_mean") +
                        field(j, "smoothing_ms_mean");
    CHECK(fabs(mean - mean_parts) < 1e-3 * mean + 1e-6, "mean frame %f = sum of mean stages %f",
          mean, mean_parts);
    CHECK(fabs(field(j, "cpu_s_per_s_at_30fps") - mean * 30 / 1000) < 1e-6, "CPU per second");
  }
  CHECK(bench_video_run("/nonexistent/h3-bench.mp4", &cl, 1, 48, 48, 1.0f, NULL, 0) == 1,
        "the live path bench on a missing file did not return 1");
  classifier_close(&cl);
  unlink(model);

  const char *big = EMOCAM_SHARED_DATA "/clips/fer-val-70faces.mp4";
  if (access(big, R_OK) == 0) {
    CHECK(bench_video_run(big, NULL, 1, 48, 48, 1.0f, NULL, 0) == 0, "bench on %s did not return 0",
          big);
  } else {
    printf("fer-val-70faces.mp4 absent: only the fixture clip measured\n");
  }
  return check_finish("test_capture_bench");
}
