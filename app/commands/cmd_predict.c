/* cmd_predict: class probabilities for image files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/classifier.h"
#include "common/cli.h"
#include "commands/commands.h"
#include "common/image_file.h"
#include "common/json_out.h"

static const char help[] =
    "usage: emocam predict [--model MODEL] [--json] [--threads N] IMAGE...\n"
    "\n"
    "For each image: the top label and its probability, then every class's\n"
    "probability, highest first. The image goes through the same centre crop and\n"
    "resize as training and the live view. --json prints one JSON array with an\n"
    "object per image: {\"file\", \"label\", \"confidence\", \"probabilities\"}.\n"
    "A file that is not an image is reported by name and the others still run\n"
    "(exit status 1 if any failed).\n";

/* Class indices sorted by probability, highest first (stable). */
static void rank(const float *p, int k, int *order) {
  for (int i = 0; i < k; i++) order[i] = i;
  for (int i = 1; i < k; i++)
    for (int j = i; j > 0 && p[order[j]] > p[order[j - 1]]; j--) {
      int t = order[j];
      order[j] = order[j - 1];
      order[j - 1] = t;
    }
}

int cmd_predict(int argc, char **argv) {
  const char *model_path = NULL;
  int as_json = 0, threads = 1, first_file = argc;
  const cli_spec opts[] = {{"--model", CLI_STRING, &model_path, 0, 0},
                           {"--threads", CLI_INT, &threads, 0, 256},
                           {"--json", CLI_FLAG, &as_json, 0, 0}};
  int rc = cli_parse_options(argc, argv, opts, (int)(sizeof opts / sizeof opts[0]), help,
                             "predict", &first_file);
  if (rc != 0) return rc > 0 ? EXIT_OK : EXIT_USAGE;
  if (first_file >= argc) {
    cli_error("predict: no image files given (see emocam predict --help)");
    return EXIT_USAGE;
  }
  nn_set_threads(threads);
  char err[NN_ERR_LEN];
  classifier cl;
  if (classifier_open(&cl, model_path, 1, err, sizeof err) != 0 || image_file_init(err, sizeof err) != 0) {
    cli_error("%s", err);
    return EXIT_RUNTIME;
  }
  const int k = cl.num_classes;
  float *sample = malloc(sizeof(float) * cl.c * cl.h * cl.w);
  float *probs = malloc(sizeof(float) * k);
  int *order = malloc(sizeof(int) * k);
  if (!sample || !probs || !order) {
    cli_error("out of memory");
    return EXIT_RUNTIME;
  }
  json_out j;
  if (as_json) {
    json_out_init(&j, stdout);
    json_begin_array(&j, 0);
  }
  int failures = 0;
  for (int f = first_file; f < argc; f++) {
    if (image_file_load_sample(argv[f], cl.c, cl.h, cl.w, cl.crop_scale, sample, err,
                               sizeof err) != 0 ||
        classifier_run(&cl, sample, 1, probs) != 0) {
      cli_error("%s", err);
      failures++;
      continue;
    }
    rank(probs, k, order);
    const char *const *names = (const char *const *)cl.model.class_names;
    if (as_json) {
      json_begin_object(&j, 0);
      json_key(&j, "file");
      json_string(&j, argv[f]);
      json_key(&j, "label");
      json_string(&j, names[order[0]]);
      json_key(&j, "confidence");
      json_number(&j, probs[order[0]]);
      json_key(&j, "probabilities");
      json_begin_object(&j, 1);
      for (int i = 0; i < k; i++) {
        json_key(&j, names[order[i]]);
        json_number(&j, probs[order[i]]);
      }
      json_end_object(&j);
      json_end_object(&j);
    } else {
      printf("%s: %s %.1f%%\n", argv[f], names[order[0]], 100 * probs[order[0]]);
      for (int i = 0; i < k; i++) printf("  %-12s %5.1f%%\n", names[order[i]], 100 * probs[order[i]]);
    }
  }
  if (as_json) {
    json_end_array(&j);
    fputc('\n', stdout);
  }
  free(sample);
  free(probs);
  free(order);
  classifier_close(&cl);
  return failures ? EXIT_RUNTIME : EXIT_OK;
}
