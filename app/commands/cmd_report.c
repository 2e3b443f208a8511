/* cmd_report: `emocam report`: the session report of a CSV written earlier
 * by a live or headless run (and, given two, how far two models agree). */
#include <stdio.h>
#include <string.h>

#include "commands/commands.h"
#include "common/classifier.h"
#include "common/cli.h"
#include "common/smoothing.h"
#include "reports/session_report.h"

static const char help[] =
    "usage: emocam report RUN.csv [OTHER.csv] --out DIR [options]\n"
    "\n"
    "A report of a session recorded with --csv (camera or video, window or headless):\n"
    "DIR/timeline.png (each face's smoothed probabilities over time, the shown label\n"
    "under them), DIR/summary.json and summary.txt (per face and in total: time per\n"
    "shown label, mean probabilities, label changes per minute, the longest run of\n"
    "each label, frames without a face) and DIR/report.html, one page with everything\n"
    "inlined. With OTHER.csv, a second model's run on the same video: their\n"
    "frame-by-frame agreement, Cohen's kappa and the stretches where they disagree.\n"
    "A live run writes the same report itself with --report DIR.\n"
    "\n"
    "  --out DIR            the report's folder (made if missing)\n"
    "  --video FILE         the video the CSV came from: thumbnails of the face at the\n"
    "                       peak of each emotion\n"
    "  --model MODEL        the model that wrote RUN.csv, named in the report\n"
    "  --compare-model M    the model that wrote OTHER.csv, named in the report\n"
    "  --smooth SECONDS     time constant of the drawn curves (default 0.3, as the window)\n"
    "\n"
    "Exit status: 0 written, 1 error (a bad CSV names its line), 2 usage error.\n";

/* The model's name and metadata, when it can be opened. */
static void describe_model(const char *path, char *made_by, size_t len) {
  classifier cl;
  char err[512];
  made_by[0] = '\0';
  if (classifier_open(&cl, path, 1, err, sizeof err) == 0) {
    classifier_made_by(&cl, made_by, len);
    classifier_close(&cl);
  } else {
    cli_warn("%s", err);
  }
}

int cmd_report(int argc, char **argv) {
  session_report_inputs in = {.smooth_s = SMOOTH_DEFAULT_S};
  const char *out = NULL, *csv[2] = {NULL, NULL};
  const cli_spec opts[] = {
      {"--out", CLI_STRING, &out, 0, 0},
      {"--video", CLI_STRING, &in.video, 0, 0},
      {"--model", CLI_STRING, &in.model, 0, 0},
      {"--compare-model", CLI_STRING, &in.compare_model, 0, 0},
      {"--smooth", CLI_FLOAT, &in.smooth_s, 0, 60},
  };
  int ncsv = 0;
  for (int i = 1; i < argc; i++) {
    if (cli_is_help(argv[i])) {
      fputs(help, stdout);
      return EXIT_OK;
    }
    if (argv[i][0] == '-' && argv[i][1]) {
      int rc = cli_take(argc, argv, &i, opts, (int)(sizeof opts / sizeof opts[0]));
      if (rc < 0) return EXIT_USAGE;
      if (rc == 0) {
        cli_error("report: unknown option '%s' (see emocam report --help)", argv[i]);
        return EXIT_USAGE;
      }
      continue; /* i is on the option's value */
    }
    if (ncsv == 2) {
      cli_error("report: at most two CSV files (a run and another model's), got '%s'", argv[i]);
      return EXIT_USAGE;
    }
    csv[ncsv++] = argv[i];
  }
  if (!ncsv || !out) {
    cli_error("report: %s (see emocam report --help)", !ncsv ? "no CSV given" : "--out DIR is required");
    return EXIT_USAGE;
  }
  in.csv = csv[0];
  in.compare_csv = csv[1];
  char made_by[256] = "";
  if (in.model) describe_model(in.model, made_by, sizeof made_by);
  if (*made_by) in.model_made_by = made_by;
  char err[1024];
  if (session_report_write(out, &in, err, sizeof err) != 0) {
    cli_error("%s", err);
    return EXIT_RUNTIME;
  }
  return EXIT_OK;
}
