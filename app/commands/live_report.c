/* live_report: the session report of a live run (see live_report.h). */
#include "commands/live_report.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cli.h"
#include "live/headless.h"
#include "reports/session_report.h"

int live_report_prepare(live_opts *o, char *csv_buf, size_t len) {
  if (o->compare_model && !o->report) {
    cli_error("--compare-model compares two models in a session report: give --report DIR");
    return EXIT_USAGE;
  }
  if (!o->report) return 0;
  if (o->loop) {
    cli_error("--report: a looping video has no single timeline; drop --loop");
    return EXIT_USAGE;
  }
  if (o->compare_model && !o->video && !o->record) {
    cli_error("--compare-model runs the other model over the same frames afterwards: with a "
              "camera, keep them with --record FILE.mkv");
    return EXIT_USAGE;
  }
  if (o->csv && !strcmp(o->csv, "-")) {
    cli_error("--report reads the run's CSV back: give --csv a file, not '-'");
    return EXIT_USAGE;
  }
  if (mkdir(o->report, 0755) != 0 && errno != EEXIST) {
    cli_error("%s: %s", o->report, strerror(errno));
    return EXIT_RUNTIME;
  }
  if (!o->csv) {
    snprintf(csv_buf, len, "%s/session.csv", o->report);
    o->csv = csv_buf;
  }
  return 0;
}

/* The other model over the frames the run saw, every one, headless. */
static int compare_pass(const live_opts *o, const char *frames, const char *csv,
                        capture_face_detector *detector, float crop_scale,
                        const volatile sig_atomic_t *stop) {
  char err[1024];
  classifier other;
  if (classifier_open(&other, o->compare_model, 1, err, sizeof err) != 0) {
    cli_error("%s", err);
    return EXIT_RUNTIME;
  }
  fprintf(stderr, "emocam: --compare-model: %s over %s\n", other.name, frames);
  capture_source *src = NULL;
  capture_video_opts vo = {frames, CAPTURE_ALL, 0};
  int code = EXIT_RUNTIME;
  if (capture_open_video(&src, &vo, err, sizeof err) != CAPTURE_OK) {
    cli_error("%s", err);
  } else {
    headless_opts ho = {.csv_path = csv, .smooth_s = o->smooth_s, .crop_scale = crop_scale,
                        .detector = detector, .max_faces = o->max_faces, .stop = stop,
                        .video_path = frames};
    code = headless_run(&src, &other, &ho);
  }
  capture_close(src);
  classifier_close(&other);
  return code;
}

int live_report_finish(const live_opts *o, const classifier *cl,
                       capture_face_detector *detector, float crop_scale,
                       const volatile sig_atomic_t *stop) {
  const char *frames = o->video ? o->video : o->record;
  char compare_csv[4096], made_by[256];
  session_report_inputs in = {.csv = o->csv, .video = frames, .model = cl->path,
                              .smooth_s = o->smooth_s};
  if (*classifier_made_by(cl, made_by, sizeof made_by)) in.model_made_by = made_by;
  if (o->compare_model) {
    snprintf(compare_csv, sizeof compare_csv, "%s/compare.csv", o->report);
    int code = compare_pass(o, frames, compare_csv, detector, crop_scale, stop);
    if (code != EXIT_OK) return code;
    in.compare_csv = compare_csv;
    in.compare_model = o->compare_model;
  }
  char err[1024];
  if (session_report_write(o->report, &in, err, sizeof err) != 0) {
    cli_error("%s", err);
    return EXIT_RUNTIME;
  }
  return EXIT_OK;
}
