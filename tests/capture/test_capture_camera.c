/* test_capture_camera: the real camera path (capture_open_camera, libv4l2,
 * poll, mmap buffers, the capture thread) against the LD_PRELOAD fake camera
 * in tests/fakecam. One scenario per run, named by argv[1]; ctest sets
 * LD_PRELOAD and the FAKECAM_* variables of each.
 */
#include <math.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "check.h"
#include "fakecam/fakecam_pattern.h"

#define FAKE "/dev/video-fake0"
#define YUYV_TOL 6  /* libv4lconvert's integer YUV -> RGB */
#define MJPEG_TOL 8 /* plus JPEG quantization */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Largest |difference| between a frame and the fake's pattern for seq. */
static int pattern_diff(const capture_frame *f, int64_t seq) {
  int worst = 0;
  for (int y = 0; y < f->height; y++)
    for (int x = 0; x < f->width; x++) {
      uint8_t want[3];
      fakecam_pattern(x, y, seq, want);
      const uint8_t *p = f->rgb + ((size_t)y * f->width + x) * 3;
      for (int c = 0; c < 3; c++) {
        int d = abs((int)p[c] - (int)want[c]);
        if (d > worst) worst = d;
      }
    }
  return worst;
}

static capture_source *open_cam(int w, int h, int fps, const char *record, int reconnect) {
  capture_camera_opts o = {FAKE, w, h, fps, record, reconnect};
  char err[CAPTURE_ERR_LEN] = "";
  capture_source *src = NULL;
  int rc = capture_open_camera(&src, &o, err, sizeof(err));
  CHECK(rc == CAPTURE_OK && src, "open %s %dx%d@%d: rc %d: %s", FAKE, w, h, fps, rc, err);
  return src;
}

/* Reads n frames, checking pixels and order; returns the worst difference. */
static int read_frames(capture_source *src, int n, int tol) {
  int worst = 0;
  int64_t last = -1;
  for (int i = 0; i < n; i++) {
    capture_frame f;
    int rc = capture_next(src, &f, 2000);
    CHECK(rc == CAPTURE_OK, "frame %d: capture_next %d (%s)", i, rc, capture_error(src));
    if (rc != CAPTURE_OK) break;
    CHECK(f.seq > last, "frame %d: seq %lld after %lld", i, (long long)f.seq, (long long)last);
    last = f.seq;
    int d = pattern_diff(&f, f.seq);
    if (d > worst) worst = d;
    CHECK(d <= tol, "frame seq %lld differs from the pattern by %d (tolerance %d)",
          (long long)f.seq, d, tol);
    capture_release(src, &f);
  }
  return worst;
}

static void scenario_frames(void) {
  capture_source *src = open_cam(640, 480, 30, NULL, 0);
  if (!src) return;
  capture_stats st;
  capture_get_stats(src, &st);
  CHECK(st.width == 640 && st.height == 480 && fabs(st.fps - 30) < 1e-9 &&
            strcmp(st.pixel_format, "YUYV") == 0,
        "granted %dx%d @ %.2f %s, want 640x480 @ 30 YUYV", st.width, st.height, st.fps,
        st.pixel_format);
  double t0 = now_s();
  int worst = read_frames(src, 30, YUYV_TOL);
  double dt = now_s() - t0;
  capture_get_stats(src, &st);
  double rate = st.published / dt; /* the capture thread's rate, whatever the consumer's */
  printf("YUYV 640x480: %lld frames captured in %.2f s (%.1f fps), %lld delivered, worst pixel "
         "diff %d, capture %.2f ms/frame\n", (long long)st.published, dt, rate,
         (long long)st.delivered, worst, st.capture_ms);
  CHECK(rate > 20 && rate < 36, "camera granted 30 fps, frames came at %.1f fps", rate);
  t0 = now_s();
  capture_close(src);
  CHECK(now_s() - t0 < 1.0, "close took %.2f s", now_s() - t0);

  /* Size negotiation: 1280x720 does not exist; the nearest is granted. */
  src = open_cam(1280, 720, 30, NULL, 0);
  if (src) {
    capture_get_stats(src, &st);
    CHECK(st.width == 640 && st.height == 480, "asked 1280x720, granted %dx%d (want 640x480)",
          st.width, st.height);
    capture_frame f;
    CHECK(capture_next(src, &f, 2000) == CAPTURE_OK && f.width == 640 && f.height == 480,
          "1280x720 request: frame size");
    capture_release(src, &f);
    capture_close(src);
  }
  src = open_cam(320, 240, 15, NULL, 0);
  if (src) {
    capture_get_stats(src, &st);
    CHECK(st.width == 320 && st.height == 240 && fabs(st.fps - 15) < 1e-9,
          "asked 320x240@15, granted %dx%d@%.2f", st.width, st.height, st.fps);
    read_frames(src, 5, YUYV_TOL);
    capture_close(src);
  }

  char buf[4096], err[CAPTURE_ERR_LEN];
  int rc = capture_describe_camera(FAKE, buf, sizeof(buf), err, sizeof(err));
  printf("%s", buf);
  CHECK(rc == 1 && strstr(buf, FAKE) && strstr(buf, "fakecam") && strstr(buf, "YUYV") &&
            strstr(buf, "640x480") && strstr(buf, "320x240"),
        "describe: rc %d '%s' %s", rc, buf, err);
  int n = capture_list_cameras(buf, sizeof(buf));
  printf("capture_list_cameras: %d device(s) on this machine\n", n);
  /* the count agrees with the text (one entry per camera, each opening with
   * its device path) and with the /dev/video* nodes there are */
  glob_t g;
  int nodes = glob("/dev/video*", 0, NULL, &g) == 0 ? (int)g.gl_pathc : 0;
  if (nodes) globfree(&g);
  int entries = 0;
  for (const char *p = buf; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p))
    entries += strncmp(p, "/dev/video", 10) == 0;
  CHECK(n >= 0 && n <= nodes && entries == n, "list_cameras %d, %d entries in its text, %d nodes",
        n, entries, nodes);
}

static void scenario_mjpeg(void) {
  capture_source *src = open_cam(640, 480, 30, NULL, 0);
  if (!src) return;
  capture_stats st;
  capture_get_stats(src, &st);
  CHECK(strcmp(st.pixel_format, "MJPG") == 0, "format %s, want MJPG", st.pixel_format);
  int worst = read_frames(src, 10, MJPEG_TOL);
  printf("MJPEG 640x480: worst pixel diff %d\n", worst);
  capture_close(src);
}

static void expect_open_error(const char *dev, const char *what) {
  capture_camera_opts o = {dev, 640, 480, 30, NULL, 0};
  char err[CAPTURE_ERR_LEN] = "";
  capture_source *src = NULL;
  int rc = capture_open_camera(&src, &o, err, sizeof(err));
  CHECK(rc == CAPTURE_ERROR && !src && strstr(err, dev) && strstr(err, what),
        "open %s: rc %d err '%s', want an error with '%s'", dev, rc, err, what);
  printf("%s -> %s\n", dev, err);
  capture_close(src);
}

static void scenario_busy(void) { expect_open_error(FAKE, "busy"); }

/* FAKECAM_FORMATS=h264: nothing libv4l2 can turn into RGB24. */
static void scenario_noformat(void) { expect_open_error(FAKE, "no usable format"); }

static void scenario_faults(void) {
  expect_open_error("/dev/video-no-such-camera", "no such device");
  expect_open_error("/dev/null", "not a video capture device");
  setenv("FAKECAM_META", "1", 1);
  expect_open_error(FAKE, "not a video capture device");
  unsetenv("FAKECAM_META");
}

/* FAKECAM_UNPLUG_AFTER=10 in the environment. */
static void scenario_unplug(int reconnect) {
  capture_source *src = open_cam(640, 480, 30, NULL, reconnect);
  if (!src) return;
  int frames = 0, rc;
  capture_frame f;
  double t0 = now_s();
  while ((rc = capture_next(src, &f, 2000)) == CAPTURE_OK) {
    frames++;
    capture_release(src, &f);
  }
  capture_stats st;
  capture_get_stats(src, &st);
  CHECK(rc == CAPTURE_DISCONNECTED, "after %d frames got %d, want DISCONNECTED", frames, rc);
  CHECK(st.published == 10 && st.disconnected == 1, "published %lld disconnected %d",
        (long long)st.published, st.disconnected);
  CHECK(strstr(capture_error(src), FAKE) && strstr(capture_error(src), "disconnected"),
        "message '%s'", capture_error(src));
  printf("unplug after %lld frames: '%s'\n", (long long)st.published, capture_error(src));
  if (!reconnect) {
    t0 = now_s();
    rc = capture_next(src, &f, 1000);
    CHECK(rc == CAPTURE_DISCONNECTED && now_s() - t0 < 0.5,
          "without reconnect capture_next says %d after %.2f s", rc, now_s() - t0);
  } else {
    /* The fake comes back after FAKECAM_RETURN_AFTER seconds. */
    int64_t seq = -1;
    while (now_s() - t0 < 6.0) {
      rc = capture_next(src, &f, 500);
      if (rc == CAPTURE_OK) {
        seq = f.seq;
        CHECK(pattern_diff(&f, 0) <= YUYV_TOL, "first frame after reconnect: wrong pixels");
        capture_release(src, &f);
        break;
      }
      CHECK(rc == CAPTURE_DISCONNECTED || rc == CAPTURE_TIMEOUT,
            "while unplugged capture_next says %d", rc);
    }
    capture_get_stats(src, &st);
    CHECK(seq == 10 && st.disconnected == 0, "after reconnect: seq %lld disconnected %d",
          (long long)seq, st.disconnected);
    CHECK(strstr(capture_error(src), "reconnected"), "message '%s'", capture_error(src));
    printf("reconnected after %.1f s: '%s'\n", now_s() - t0, capture_error(src));
    read_frames(src, 5, 255); /* keeps streaming (pixels: device restarted its count) */
  }
  t0 = now_s();
  capture_close(src);
  CHECK(now_s() - t0 < 1.0, "close took %.2f s", now_s() - t0);
}

static void scenario_record(void) {
  char path[] = "/tmp/test_capture_rec.XXXXXX.mkv";
  int fd = mkstemps(path, 4);
  CHECK(fd >= 0, "mkstemps");
  if (fd < 0) return;
  close(fd);
  capture_source *src = open_cam(320, 240, 30, path, 0);
  if (!src) return;
  static uint8_t kept[3][320 * 240 * 3];
  int64_t kept_seq[3] = {-1, -1, -1};
  for (int i = 0; i < 15; i++) {
    capture_frame f;
    if (capture_next(src, &f, 2000) != CAPTURE_OK) break;
    if (i % 6 == 0) {
      memcpy(kept[i / 6], f.rgb, sizeof(kept[0]));
      kept_seq[i / 6] = f.seq;
    }
    capture_release(src, &f);
  }
  capture_close(src); /* finishes the recording */
  capture_stats st;
  capture_video_opts vo = {path, CAPTURE_ALL, 0};
  char err[CAPTURE_ERR_LEN];
  capture_source *v = NULL;
  CHECK(capture_open_video(&v, &vo, err, sizeof(err)) == CAPTURE_OK, "replay: %s", err);
  if (v) {
    capture_get_stats(v, &st);
    CHECK(strcmp(st.pixel_format, "ffv1") == 0 && st.width == 320 && st.height == 240,
          "recording is %s %dx%d", st.pixel_format, st.width, st.height);
    capture_frame f;
    int n = 0, exact = 0, rc;
    double last_pts = -1;
    while ((rc = capture_next(v, &f, 2000)) == CAPTURE_OK) {
      CHECK(pattern_diff(&f, f.seq) <= YUYV_TOL, "recorded frame %lld wrong", (long long)f.seq);
      for (int k = 0; k < 3; k++)
        if (kept_seq[k] == f.seq) {
          CHECK(memcmp(kept[k], f.rgb, sizeof(kept[0])) == 0, "frame %lld not replayed exactly",
                (long long)f.seq);
          exact++;
        }
      CHECK(f.pts_s > last_pts, "pts %f after %f", f.pts_s, last_pts);
      last_pts = f.pts_s;
      n++;
      capture_release(v, &f);
    }
    CHECK(rc == CAPTURE_EOF && n >= 15 && exact == 3, "replayed %d frames (%d exact), end %d", n,
          exact, rc);
    /* never faster than 30 fps; slower only if this machine is (sanitizers) */
    CHECK(last_pts > (n - 1) / 30.0 - 0.05 && last_pts < (n - 1) * 0.2,
          "last pts %.3f for %d frames at 30 fps", last_pts, n);
    printf("recorded %d frames (FFV1/Matroska), 3 compared bit-exact, last pts %.3f s\n", n,
           last_pts);
    capture_close(v);
  }
  unlink(path);
}

int main(int argc, char **argv) {
  const char *preload = getenv("LD_PRELOAD");
  if (!preload || !strstr(preload, "fakecam")) {
    printf("skipped: LD_PRELOAD does not name the fake camera library\n");
    return 77;
  }
  const char *s = argc > 1 ? argv[1] : "frames";
  if (strcmp(s, "frames") == 0) scenario_frames();
  else if (strcmp(s, "mjpeg") == 0) scenario_mjpeg();
  else if (strcmp(s, "busy") == 0) scenario_busy();
  else if (strcmp(s, "faults") == 0) scenario_faults();
  else if (strcmp(s, "noformat") == 0) scenario_noformat();
  else if (strcmp(s, "unplug") == 0) scenario_unplug(0);
  else if (strcmp(s, "reconnect") == 0) scenario_unplug(1);
  else if (strcmp(s, "record") == 0) scenario_record();
  else {
    fprintf(stderr, "unknown scenario %s\n", s);
    return 2;
  }
  return check_finish("test_capture_camera %s", s);
}
