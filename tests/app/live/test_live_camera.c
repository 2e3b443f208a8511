/* test_live_camera: integration tests of the live command on a camera (the
 * fake V4L2 camera, LD_PRELOADed) and of its signals, driving the emocam
 * binary: clean exits on SIGINT/SIGTERM with a complete CSV (the window under
 * SDL's dummy video driver, headless on the fake camera), unplug, disconnect
 * and reconnect in the window, recording.
 */
#include <SDL.h>
#include <SDL_image.h>
#include <errno.h>
#include <glob.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "live_run.h"
#include "test_support.h"

#define K TEST_CLASSES
/* The run's scratch folder and tiny 7-class model (live_run.c). */
static char *const tmp = live_tmp;
static char *const model = live_model;

#define APP_CLIP EMOCAM_FIXTURES "/app/clip.mp4"

static const run_opts no_display = {{"SDL_VIDEODRIVER=dummy", "SDL_RENDER_DRIVER=software", NULL},
                                   0, 0, 60000};

static int t_signal(int sig, int headless) {
  char csv[300];
  snprintf(csv, sizeof csv, "%s/sig.csv", tmp);
  run_opts o = no_display;
  o.signal_after_ms = 1500;
  o.sig = sig;
  o.timeout_ms = 15000;
  char *wargv[] = {"emocam", "--video", APP_CLIP, "--model", model, "--csv", csv, NULL};
  char *hargv[] = {"emocam", "--camera", "/dev/video-fake0", "--headless", "--model", model,
                   "--csv", csv, NULL};
  if (headless) {
    o.env[0] = "LD_PRELOAD=" FAKECAM_LIB;
    o.env[1] = "FAKECAM_FORMATS=yuyv";
    o.env[2] = NULL;
  }
  int rc = run(headless ? hargv : wargv, &o);
  char *err = run_stderr();
  CHECK(rc == 0, "%s run, signal %d: exit %d: %s", headless ? "headless" : "window", sig, rc,
        err ? err : "");
  int rows = check_csv(csv, NULL);
  CHECK(rows >= 5, "only %d CSV rows after 1.5 s", rows);
  char want[64];
  snprintf(want, sizeof want, "frames: %d processed", rows);
  CHECK(err && strstr(err, want), "summary does not report the %d frames: %s", rows, err ? err : "");
  free(err);
  return 0;
}

static int t_unplug(void) {
  char csv[300];
  snprintf(csv, sizeof csv, "%s/unplug.csv", tmp);
  run_opts o = {{"LD_PRELOAD=" FAKECAM_LIB, "FAKECAM_UNPLUG_AFTER=20", NULL}, 0, 0, 15000};
  char *argv[] = {"emocam", "--camera", "/dev/video-fake0", "--headless", "--model", model, "--csv",
                  csv, NULL};
  int rc = run(argv, &o);
  char *err = run_stderr();
  int rows = check_csv(csv, NULL);
  CHECK(rc == 1, "unplugged camera: exit %d, expected 1: %s", rc, err ? err : "");
  char want[64];
  snprintf(want, sizeof want, "camera disconnected after %d frames", rows);
  CHECK(rows > 0 && err && strstr(err, want), "%d rows; stderr: %s", rows, err);
  free(err);
  return 0;
}

/* Window on a camera that unplugs and stays away: the banner is shown (the
 * screenshot at exit has its colour in the middle), SIGINT still exits 0. */
static int t_disconnect_window(void) {
  char png[300];
  snprintf(png, sizeof png, "%s/gone.png", tmp);
  run_opts o = {{"LD_PRELOAD=" FAKECAM_LIB, "FAKECAM_UNPLUG_AFTER=10", "SDL_VIDEODRIVER=dummy",
                 "SDL_RENDER_DRIVER=software"},
                2000, SIGINT, 15000};
  char *argv[] = {"emocam", "--camera", "/dev/video-fake0", "--model", model, "--screenshot", png,
                  NULL};
  int rc = run(argv, &o);
  char *err = run_stderr();
  CHECK(rc == 0, "exit %d: %s", rc, err ? err : "");
  free(err);
  SDL_Surface *s = IMG_Load(png);
  CHECK(s != NULL, "no screenshot %s", png);
  if (!s) return 0;
  SDL_Surface *rgb = SDL_ConvertSurfaceFormat(s, SDL_PIXELFORMAT_RGB24, 0);
  int banner = 0;
  for (int y = rgb->h / 2 - 30; y < rgb->h / 2 + 30; y++)
    for (int x = 0; x < rgb->w; x++) {
      const Uint8 *p = (const Uint8 *)rgb->pixels + y * rgb->pitch + x * 3;
      banner += p[0] > 200 && p[1] > 80 && p[1] < 140 && p[2] > 60 && p[2] < 120;
    }
  CHECK(banner > 100, "no 'camera disconnected' banner in the screenshot (%d pixels)", banner);
  SDL_FreeSurface(rgb);
  SDL_FreeSurface(s);
  return 0;
}

/* The camera comes back after an unplug: the window keeps going (the
 * capture layer reconnects) and reaches --frames. */
static int t_reconnect_window(void) {
  run_opts o = {{"LD_PRELOAD=" FAKECAM_LIB, "FAKECAM_UNPLUG_AFTER=10", "FAKECAM_RETURN_AFTER=1",
                 "SDL_VIDEODRIVER=dummy", "SDL_RENDER_DRIVER=software"},
                0, 0, 20000};
  char *argv[] = {"emocam", "--camera", "/dev/video-fake0", "--model", model, "--frames", "40",
                  NULL};
  int rc = run(argv, &o);
  char *err = run_stderr();
  CHECK(rc == 0 && err && strstr(err, "display: 40 frames"), "exit %d: %s", rc, err ? err : "");
  free(err);
  return 0;
}

/* --record on the camera writes an .mkv, and feeds --report's second model
 * and thumbnails; --list-cameras runs. */
static int t_record(void) {
  char mkv[300];
  snprintf(mkv, sizeof mkv, "%s/rec.mkv", tmp);
  run_opts o = {{"LD_PRELOAD=" FAKECAM_LIB, NULL}, 0, 0, 20000};
  char *argv[] = {"emocam", "--camera", "/dev/video-fake0", "--headless", "--model", model,
                  "--frames", "20", "--size", "320x240", "--fps", "30", "--record", mkv, NULL};
  int rc = run(argv, &o);
  char *err = run_stderr();
  CHECK(rc == 0 && err && strstr(err, "frames: 20 processed"), "exit %d: %s", rc,
        err ? err : "");
  CHECK(err && strstr(err, "camera: 320x240"), "granted size not reported: %s", err ? err : "");
  free(err);
  struct stat st;
  CHECK(stat(mkv, &st) == 0 && st.st_size > 1000, "recording %s missing or empty", mkv);

  /* --report on the camera, with a second model run over the recording:
   * the report has the comparison and thumbnails cut from the recording */
  char rep[300], rec2[300], page[400], summary[400];
  snprintf(rep, sizeof rep, "%s/report", tmp);
  snprintf(rec2, sizeof rec2, "%s/rec2.mkv", tmp);
  char *rargv[] = {"emocam", "--camera", "/dev/video-fake0", "--headless", "--model", model,
                   "--frames", "20", "--record", rec2, "--report", rep, "--compare-model", model,
                   NULL};
  rc = run(rargv, &o);
  err = run_stderr();
  CHECK(rc == 0 && err && strstr(err, "--compare-model"), "--report: exit %d: %s", rc,
        err ? err : "");
  free(err);
  snprintf(page, sizeof page, "%s/report.html", rep);
  snprintf(summary, sizeof summary, "%s/summary.json", rep);
  char *html = slurp(page), *json = slurp(summary);
  int images = 0;
  for (const char *p = html; p && (p = strstr(p, "data:image/png;base64,")); p++) images++;
  CHECK(images >= 2, "report.html: %d inlined images (timeline and thumbnails)", images);
  CHECK(json && strstr(json, "\"agreement_raw\": 1,") && strstr(json, "\"rows\": 20,"),
        "summary.json: the same model on the recording must agree on all 20 rows");
  free(html);
  free(json);

  /* Listing scans /dev, where the fake camera has no node: it describes
   * every /dev/video* node the machine has, or says exactly that there is
   * none. */
  char *largv[] = {"emocam", "--list-cameras", NULL};
  rc = run(largv, NULL);
  char out[300];
  snprintf(out, sizeof out, "%s/stdout", tmp);
  char *text = slurp(out);
  CHECK(rc == 0 && text, "--list-cameras: exit %d", rc);
  glob_t g;
  int nodes = glob("/dev/video*", 0, NULL, &g) == 0 ? (int)g.gl_pathc : 0;
  if (!text) text = strdup("");
  if (nodes == 0)
    CHECK(strcmp(text, "no cameras found (/dev/video*)\n") == 0,
          "--list-cameras without /dev/video*: %s", text);
  for (int i = 0; i < nodes; i++)
    CHECK(strstr(text, g.gl_pathv[i]), "--list-cameras does not describe %s: %s", g.gl_pathv[i],
          text);
  if (nodes) globfree(&g);
  free(text);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: test_live_camera SCENARIO\n");
    return 2;
  }
  if (live_setup() != 0) return 1;
  const char *s = argv[1];
  int rc = 2;
  if (!strcmp(s, "sigint_window")) rc = t_signal(SIGINT, 0);
  else if (!strcmp(s, "sigterm_window")) rc = t_signal(SIGTERM, 0);
  else if (!strcmp(s, "sigint_headless")) rc = t_signal(SIGINT, 1);
  else if (!strcmp(s, "sigterm_headless")) rc = t_signal(SIGTERM, 1);
  else if (!strcmp(s, "unplug")) rc = t_unplug();
  else if (!strcmp(s, "disconnect_window")) rc = t_disconnect_window();
  else if (!strcmp(s, "reconnect_window")) rc = t_reconnect_window();
  else if (!strcmp(s, "record")) rc = t_record();
  else fprintf(stderr, "test_live_camera: unknown scenario '%s'\n", s);
  live_cleanup();
  if (rc == 77 || rc == 2) return rc;
  return check_finish("test_live_camera %s", s);
}
