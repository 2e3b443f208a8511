/* cmd_eval: a classification report of a model on a labelled image folder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/classifier.h"
#include "common/clock.h"
#include "common/cli.h"
#include "commands/commands.h"
#include "training/dataset.h"
#include "reports/metrics.h"
#include "reports/report.h"

static const char help[] =
    "usage: emocam eval [--model MODEL] --data DIR [--report DIR] [--json FILE] [--threads N]\n"
    "\n"
    "Classifies every image under DIR/<class>/ and prints a classification report:\n"
    "per class precision, recall, F1 and support; accuracy, balanced accuracy, macro\n"
    "and weighted averages, expected calibration error; the confusion matrix raw and\n"
    "row-normalised. Class folders are matched to the model's classes by name.\n"
    "\n"
    "  --model MODEL   default: the default model (assets/fer2013.emo)\n"
    "  --report DIR    also write PNGs: confusion.png, confusion_normalized.png,\n"
    "                  correct.png, incorrect.png, reliability.png\n"
    "  --json FILE     write the metrics as JSON (- for stdout)\n"
    "  --threads N     default: all cores\n";

/* The text report, the PNGs and the JSON of an evaluation. Returns 0, or -1
 * after printing the error. */
static int print_report(const classifier *cl, const dataset *ds, const metrics_report *r,
                        const char *data, double secs, const char *report_dir,
                        const char *json_path) {
  char err[NN_ERR_LEN];
  const char *const *names = (const char *const *)cl->model.class_names;
  /* With --json -, stdout carries the JSON alone; the text goes to stderr. */
  FILE *text = json_path && strcmp(json_path, "-") == 0 ? stderr : stdout;
  fprintf(text, "model %s on %s: %d images, %.0f images/s%s\n\n", cl->path, data, ds->n, ds->n / secs,
          cl->model.flip_tta ? " (with flip averaging)" : "");
  metrics_print(text, r, names);
  if (report_dir) {
    if (report_write_eval(report_dir, r, names, ds->x, ds->c, ds->h, ds->w, ds->labels, r->pred,
                          r->confidence, ds->n, err, sizeof err) != 0) {
      cli_error("%s", err);
      return -1;
    }
    fprintf(text, "\nreport PNGs written to %s/\n", report_dir);
  }
  /* After the report, which creates its folder: the JSON may go there too. */
  if (json_path && metrics_write_json(json_path, r, names, err, sizeof err) != 0) {
    cli_error("%s", err);
    return -1;
  }
  return 0;
}

int cmd_eval(int argc, char **argv) {
  const char *model_path = NULL, *data = NULL, *report_dir = NULL, *json_path = NULL;
  int threads = 0;
  const cli_spec opts[] = {{"--model", CLI_STRING, &model_path, 0, 0},
                           {"--data", CLI_STRING, &data, 0, 0},
                           {"--report", CLI_STRING, &report_dir, 0, 0},
                           {"--json", CLI_STRING, &json_path, 0, 0},
                           {"--threads", CLI_INT, &threads, 0, 256}};
  int rc = cli_parse_options(argc, argv, opts, (int)(sizeof opts / sizeof opts[0]), help, "eval",
                             NULL);
  if (rc != 0) return rc > 0 ? EXIT_OK : EXIT_USAGE;
  if (!data) {
    cli_error("eval: --data DIR is required (see emocam eval --help)");
    return EXIT_USAGE;
  }
  nn_set_threads(threads);
  char err[NN_ERR_LEN];
  classifier cl;
  if (classifier_open(&cl, model_path, 64, err, sizeof err) != 0) {
    cli_error("%s", err);
    return EXIT_RUNTIME;
  }
  int exit_code = EXIT_RUNTIME;
  dataset ds;
  float *probs = NULL;
  metrics_report r = {0};
  const char *const *names = (const char *const *)cl.model.class_names;
  if (dataset_load(&ds, data, cl.c, cl.h, cl.w, cl.crop_scale, names, cl.num_classes, err,
                   sizeof err) != 0) {
    cli_error("%s", err);
    goto done_model;
  }
  probs = malloc(sizeof(float) * ds.n * cl.num_classes);
  double t0 = clock_now_s();
  if (!probs || classifier_run(&cl, ds.x, ds.n, probs) != 0) {
    cli_error("%s: inference failed", cl.path);
    goto done;
  }
  double secs = clock_now_s() - t0;
  int mrc = metrics_compute(&r, cl.num_classes, ds.n, ds.labels, probs);
  if (mrc != METRICS_OK) {
    cli_error("metrics: %s", metrics_strerror(mrc));
    goto done;
  }
  if (print_report(&cl, &ds, &r, data, secs, report_dir, json_path) == 0) exit_code = EXIT_OK;
done:
  metrics_free(&r);
  free(probs);
  dataset_free(&ds);
done_model:
  classifier_close(&cl);
  return exit_code;
}
