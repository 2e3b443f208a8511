/* test_capture_threads: the producer/consumer hand-off under stress, meant
 * to run under ThreadSanitizer too (ctest test_capture_tsan in an
 * EMOCAM_TSAN build): CAPTURE_ALL order, CAPTURE_LATEST with an irregular
 * consumer, stats polled while frames flow, and capture_close at arbitrary
 * moments (never hangs). With the fake camera preloaded, the camera thread
 * gets the same treatment.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "check.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Touches every byte of a frame, as the consumer's conversion would. */
static unsigned frame_sum(const capture_frame *f) {
  unsigned s = 0;
  size_t n = (size_t)f->width * f->height * 3;
  for (size_t i = 0; i < n; i += 7) s += f->rgb[i];
  return s;
}

static void run_video(const char *path, capture_delivery d, int stop_after, unsigned seed) {
  capture_video_opts o = {path, d, 0};
  char err[CAPTURE_ERR_LEN];
  capture_source *src = NULL;
  if (capture_open_video(&src, &o, err, sizeof(err)) != CAPTURE_OK) {
    CHECK(0, "open %s: %s", path, err);
    return;
  }
  capture_frame f;
  int n = 0, rc;
  int64_t last = -1;
  volatile unsigned sink = 0;
  while ((rc = capture_next(src, &f, 5000)) == CAPTURE_OK) {
    if (d == CAPTURE_ALL)
      CHECK(f.seq == last + 1, "ALL: seq %lld after %lld", (long long)f.seq, (long long)last);
    else
      CHECK(f.seq > last, "LATEST: seq %lld after %lld", (long long)f.seq, (long long)last);
    last = f.seq;
    sink += frame_sum(&f);
    capture_stats st;
    capture_get_stats(src, &st);
    capture_release(src, &f);
    if (d == CAPTURE_LATEST && rand_r(&seed) % 3 == 0) usleep(rand_r(&seed) % 8000);
    if (++n == stop_after) break;
  }
  (void)sink;
  if (stop_after <= 0) CHECK(rc == CAPTURE_EOF, "%s ended with %d", path, rc);
  double t0 = now_s();
  capture_close(src);
  CHECK(now_s() - t0 < 1.0, "close took %.2f s", now_s() - t0);
}

static void run_camera(int frames) {
  capture_camera_opts o = {"/dev/video-fake0", 320, 240, 30, NULL, 0};
  char err[CAPTURE_ERR_LEN];
  capture_source *src = NULL;
  if (capture_open_camera(&src, &o, err, sizeof(err)) != CAPTURE_OK) {
    CHECK(0, "open camera: %s", err);
    return;
  }
  capture_frame f;
  volatile unsigned sink = 0;
  for (int i = 0; i < frames; i++) {
    int rc = capture_next(src, &f, 2000);
    CHECK(rc == CAPTURE_OK, "camera frame %d: %d", i, rc);
    if (rc != CAPTURE_OK) break;
    sink += frame_sum(&f);
    capture_release(src, &f);
    if (i % 2) usleep(45000); /* slower than the camera: LATEST drops */
  }
  (void)sink;
  capture_stats st;
  capture_get_stats(src, &st);
  CHECK(st.delivered + st.dropped <= st.published && st.delivered == frames,
        "camera stats: published %lld delivered %lld dropped %lld", (long long)st.published,
        (long long)st.delivered, (long long)st.dropped);
  double t0 = now_s();
  capture_close(src);
  CHECK(now_s() - t0 < 1.0, "camera close took %.2f s", now_s() - t0);
}

int main(void) {
  const char *avi = EMOCAM_FIXTURES "/capture/clip.avi";
  const char *mp4 = EMOCAM_FIXTURES "/capture/clip.mp4";
  unsigned seed = 42;
  for (int i = 0; i < 6; i++) run_video(avi, CAPTURE_ALL, 0, seed + i);
  for (int i = 0; i < 3; i++) run_video(mp4, CAPTURE_LATEST, 0, seed + i);
  run_video(mp4, CAPTURE_ALL, 0, seed);
  for (int i = 0; i < 6; i++) run_video(mp4, i % 2 ? CAPTURE_ALL : CAPTURE_LATEST, 1 + i * 7, seed);
  const char *preload = getenv("LD_PRELOAD");
  if (preload && strstr(preload, "fakecam"))
    run_camera(12);
  else
    printf("fake camera not preloaded: camera thread not exercised\n");
  return check_finish("test_capture_threads");
}
