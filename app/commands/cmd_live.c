/* cmd_live: `emocam [--camera DEV | --video FILE] [options]`, the default
 * command: live recognition in a window (the UI loop lives here), or the same
 * pipeline headless. Parses the options, picks the source (camera, video, or
 * the demo clip when there is no camera) and the model, then runs.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/assets.h"
#include "common/classifier.h"
#include "common/cli.h"
#include "commands/commands.h"
#include "commands/interrupt.h"
#include "commands/live_report.h"
#include "live/faces.h"
#include "live/headless.h"
#include "live/live.h"

static const char live_usage[] =
    "usage: emocam [--camera DEV | --video FILE] [options]\n"
    "Shows the camera (or a video) with what the CNN recognises on each face in view.\n"
    "\n"
    "source:\n"
    "  --camera DEV        V4L2 camera (default " LIVE_DEFAULT_CAMERA "; without one, the demo clip)\n"
    "  --video FILE        a video file instead of the camera\n"
    "  --loop              play the video again from the start at its end\n"
    "  --size WxH          camera frame size (default 640x480)\n"
    "  --fps N             camera frame rate (default 30)\n"
    "  --record FILE.mkv   also record the camera's frames to FILE.mkv\n"
    "  --list-cameras      describe the cameras found and exit\n"
    "model and stages:\n"
    "  --model MODEL       .emo model (default: assets/fer2013.emo)\n"
    "  --crop MODE         what to classify: 'face' (default when the face cascade is\n"
    "                      installed): each face found, framed as in training, with the\n"
    "                      centre square while no face is in view; 'center': the centre square\n"
    "  --max-faces N       faces classified per frame with --crop face (default 4, at most 16)\n"
    "  --cascade FILE      Viola-Jones face cascade, OpenCV XML (default\n"
    "                      " CAPTURE_CASCADE_DEFAULT ",\n"
    "                      from Debian's opencv-data)\n"
    "  --crop-scale F      size of the centre square, 0.2..1 of the shorter side (default: the\n"
    "                      model's)\n"
    "  --smooth SECONDS    time constant of the shown probabilities (default 0.3; 0: raw)\n"
    "output:\n"
    "  --headless          no window: process every frame once, print a summary\n"
    "  --csv FILE          per-frame CSV: a row per face (face 0 = largest, -1 = centre\n"
    "                      square), its box x,y,w,h, raw probabilities, smoothed_label,\n"
    "                      track (the face's id while it stays in view);\n"
    "                      '-' = stdout\n"
    "  --labels FILE       CSV with frame,label columns: report per-frame accuracy (and,\n"
    "                      with x,y,w,h columns, how often the face box overlaps them)\n"
    "  --frames N          stop after N frames\n"
    "  --screenshot FILE   save the rendered window as PNG when the run ends\n"
    "  --report DIR        when the run ends, a session report in DIR: timeline.png,\n"
    "                      summary.json, summary.txt, report.html (see emocam report\n"
    "                      --help); the CSV goes to DIR/session.csv unless --csv is given\n"
    "  --compare-model M   with --report: model M then runs over the same frames (the\n"
    "                      video, or the camera's --record file) and the report adds\n"
    "                      how far the two agree\n"
    "teaching it your face:\n"
    "  --collect DIR       keys 1..N save the face in view (the largest, or the one\n"
    "                      chosen with Tab) as the model's class N in DIR/<class>/; hold\n"
    "                      a key to keep saving. T adapts the model on DIR's crops in\n"
    "                      the background and switches to it (DIR/personal.emo), M\n"
    "                      toggles between the original and the personal model.\n"
    "                      Headless, with --labels: each labelled frame's face is saved\n"
    "                      under its label\n"
    "  --help              this text\n"
    "\n"
    "keys: q/Esc quit, space pause, s screenshot, f mirror, h hide/show the overlay,\n"
    "      Tab next face; with --collect: 1..9 label the face, T adapt, M original/personal\n";

/* "640x480" -> 640, 480. */
static int parse_size(const char *text, int *w, int *h) {
  const char *x = strchr(text, 'x');
  char wbuf[32];
  if (!x || (size_t)(x - text) >= sizeof wbuf) {
    cli_error("--size: expected WIDTHxHEIGHT like 640x480, got '%s'", text);
    return -1;
  }
  memcpy(wbuf, text, (size_t)(x - text));
  wbuf[x - text] = '\0';
  if (cli_parse_int("--size", wbuf, 16, 8192, w) != 0) return -1;
  return cli_parse_int("--size", x + 1, 16, 8192, h);
}

/* Returns 0 to run, 1 after --help, -1 after a usage error (printed). */
/* The options whose values need more than a table row: --size, --crop. */
static int parse_special(int argc, char **argv, int *i, live_opts *o) {
  const char *v = NULL;
  if (cli_option(argc, argv, i, "--size", &v)) {
    if (!v || parse_size(v, &o->width, &o->height) != 0) return -1;
    o->size_given = 1;
    return 1;
  }
  if (!cli_option(argc, argv, i, "--crop", &v)) return 0;
  if (v && strcmp(v, "center") == 0) o->crop_mode = CROP_CENTER;
  else if (v && strcmp(v, "face") == 0) o->crop_mode = CROP_FACE;
  else {
    if (v) cli_error("--crop: expected 'face' or 'center', got '%s'", v);
    return -1;
  }
  return 1;
}

static int parse_options(int argc, char **argv, live_opts *o) {
  memset(o, 0, sizeof *o);
  o->width = 640, o->height = 480, o->fps = 30;
  o->smooth_s = SMOOTH_DEFAULT_S;
  o->max_faces = FACES_DEFAULT_MAX;
  float crop_scale = -1;
  int fps = -1;
  const cli_spec specs[] = {
      {"--headless", CLI_FLAG, &o->headless, 0, 0},
      {"--list-cameras", CLI_FLAG, &o->list_cameras, 0, 0},
      {"--camera", CLI_STRING, &o->camera, 0, 0},
      {"--video", CLI_STRING, &o->video, 0, 0},
      {"--model", CLI_STRING, &o->model, 0, 0},
      {"--csv", CLI_STRING, &o->csv, 0, 0},
      {"--labels", CLI_STRING, &o->labels, 0, 0},
      {"--record", CLI_STRING, &o->record, 0, 0},
      {"--screenshot", CLI_STRING, &o->screenshot, 0, 0},
      {"--cascade", CLI_STRING, &o->cascade, 0, 0},
      {"--collect", CLI_STRING, &o->collect, 0, 0},
      {"--report", CLI_STRING, &o->report, 0, 0},
      {"--compare-model", CLI_STRING, &o->compare_model, 0, 0},
      {"--loop", CLI_FLAG, &o->loop, 0, 0},
      {"--fps", CLI_INT, &fps, 1, 240},
      {"--frames", CLI_INT, &o->frames, 1, 1000000000L},
      {"--smooth", CLI_FLOAT, &o->smooth_s, 0.0, 60.0},
      {"--crop-scale", CLI_FLOAT, &crop_scale, 0.2, 1.0},
      {"--max-faces", CLI_INT, &o->max_faces, 1, FACES_MAX},
  };
  for (int i = 1; i < argc; i++) {
    if (cli_is_help(argv[i])) {
      fputs(live_usage, stdout);
      return 1;
    }
    int rc = cli_take(argc, argv, &i, specs, (int)(sizeof specs / sizeof specs[0]));
    if (rc == 0) rc = parse_special(argc, argv, &i, o);
    if (rc < 0) return -1;
    if (rc == 0) {
      cli_error("unknown option '%s' (see emocam --help)", argv[i]);
      return -1;
    }
  }
  if (fps > 0) o->fps = fps, o->fps_given = 1;
  if (crop_scale > 0) o->crop_scale = crop_scale, o->crop_scale_given = 1;
  if (o->camera && o->video) {
    cli_error("--camera and --video exclude each other");
    return -1;
  }
  if (o->video && (o->record || o->size_given || o->fps_given)) {
    cli_error("%s applies to a camera, not to --video",
              o->record ? "--record" : o->size_given ? "--size" : "--fps");
    return -1;
  }
  if (o->crop_mode == CROP_CENTER && o->cascade) {
    cli_error("--cascade is for --crop face, not --crop center");
    return -1;
  }
  if (o->loop && !o->video) {
    cli_error("--loop replays a --video file");
    return -1;
  }
  if (o->loop && o->headless && !o->frames) {
    cli_error("--loop with --headless would never end: give --frames N");
    return -1;
  }
  if (o->collect && o->headless && !o->labels) {
    cli_error("--collect with --headless saves the frames of a --labels file: give --labels FILE");
    return -1;
  }
  if (o->headless && o->screenshot) {
    cli_error("--screenshot needs the window: drop --headless");
    return -1;
  }
  return 0;
}

/* ---- setup ---------------------------------------------------------------- */

/* SIGINT/SIGTERM end a run cleanly (threads joined, CSV flushed, exit 0). */
/* --crop face, or the default with the cascade installed: the cascade and a
 * detector. A cascade asked for by name (--crop face, --cascade) must load;
 * without either, a missing default cascade means the centre crop. Returns 0,
 * or -1 after printing the error. */
static int open_detector(const live_opts *o, capture_cascade **cascade,
                         capture_face_detector **detector) {
  char err[CAPTURE_ERR_LEN];
  if (o->crop_mode == CROP_CENTER) return 0;
  const char *path = o->cascade ? o->cascade : CAPTURE_CASCADE_DEFAULT;
  if (o->crop_mode == CROP_DEFAULT && !o->cascade && access(path, F_OK) != 0) {
    fprintf(stderr, "emocam: no face cascade at %s (Debian package opencv-data): "
                    "classifying the centre square\n", path);
    return 0;
  }
  if (capture_cascade_load(cascade, path, err, sizeof err) != 0 ||
      capture_face_detector_create(detector, *cascade, err, sizeof err) != 0) {
    cli_error("%s", err);
    capture_cascade_destroy(*cascade);
    *cascade = NULL;
    return -1;
  }
  return 0;
}

int cmd_live(int argc, char **argv) {
  live_opts o;
  int rc = parse_options(argc, argv, &o);
  if (rc != 0) return rc > 0 ? EXIT_OK : EXIT_USAGE;
  if (o.list_cameras) {
    static char buf[16384];
    int n = capture_list_cameras(buf, sizeof buf);
    if (n <= 0)
      printf("no cameras found (/dev/video*)\n");
    else
      fputs(buf, stdout);
    return EXIT_OK;
  }

  const volatile sig_atomic_t *stop = interrupt_catch();

  char demo[1024];
  if (!o.camera && !o.video) {
    if (access(LIVE_DEFAULT_CAMERA, F_OK) == 0) {
      o.camera = LIVE_DEFAULT_CAMERA;
    } else if (assets_find(ASSETS_DEMO_CLIP, demo, sizeof demo) == 0) {
      if (o.record) {
        cli_error("--record needs a camera, and there is none at " LIVE_DEFAULT_CAMERA);
        return EXIT_USAGE;
      }
      fprintf(stderr, "emocam: no camera at " LIVE_DEFAULT_CAMERA ": playing the demo clip %s\n",
              demo);
      o.video = demo;
      o.loop = !o.headless && !o.report; /* the demo keeps playing in the window */
    } else {
      cli_error("no camera at " LIVE_DEFAULT_CAMERA " and no demo clip (looked for %s); "
                "give --camera DEV or --video FILE", demo);
      return EXIT_RUNTIME;
    }
  }

  char report_csv[4096];
  if ((rc = live_report_prepare(&o, report_csv, sizeof report_csv)) != 0) return rc;
  if (o.video && access(o.video, R_OK) != 0) {
    cli_error("%s: %s", o.video, strerror(errno));
    return EXIT_RUNTIME;
  }
  char err[1024];
  classifier cl;
  if (classifier_open(&cl, o.model, 1, err, sizeof err) != 0) {
    cli_error("%s", err);
    return EXIT_RUNTIME;
  }
  int code = EXIT_RUNTIME;
  float crop_scale = o.crop_scale_given ? o.crop_scale : cl.crop_scale;
  capture_cascade *cascade = NULL;
  capture_face_detector *detector = NULL;
  if (open_detector(&o, &cascade, &detector) != 0) {
    classifier_close(&cl);
    return EXIT_RUNTIME;
  }
  if (o.headless) {
    capture_source *src = NULL;
    if (live_open_source(&o, &src, err, sizeof err) != CAPTURE_OK) {
      cli_error("%s", err);
    } else {
      headless_opts ho = {o.csv,    o.labels,    o.frames,       o.smooth_s, crop_scale,
                          detector, o.max_faces, o.camera != NULL, stop,   o.collect,
                          o.loop,   o.video};
      code = headless_run(&src, &cl, &ho);
    }
    capture_close(src);
  } else {
    code = live_window_run(&o, &cl, detector, crop_scale, stop);
  }
  if (code == EXIT_OK && o.report) code = live_report_finish(&o, &cl, detector, crop_scale, stop);
  capture_face_detector_destroy(detector);
  capture_cascade_destroy(cascade);
  classifier_close(&cl);
  return code;
}
