/* cmd_bench: speed of the network (inference and training) or of the video
 * front end (decode + crop + resize), measured here, medians of repeats. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/model_open.h"
#include "common/assets.h"
#include "live/bench_video.h"
#include "capture.h"
#include "capture_face.h"
#include "common/cli.h"
#include "commands/commands.h"
#include "nn.h"
#include "common/text_file.h"
#include "common/classifier.h"
#include "live/faces.h"

static const char help[] =
    "usage: emocam bench [--model MODEL | --arch FILE] [--classes N] [--threads N]\n"
    "                    [--repeats N] [--json]\n"
    "       emocam bench --video FILE [--model MODEL] [--crop center|face] [--cascade FILE]\n"
    "                    [--crop-scale F] [--json]\n"
    "\n"
    "Network speed on random input: median batch-1 inference latency (ms, batch norm\n"
    "folded, as in the live path), batch-256 inference throughput and batch-64\n"
    "training throughput (images/s). Without --model or --arch, the default model.\n"
    "An architecture's 'dense classes' gets --classes (default 7).\n"
    "--json prints {\"infer_b1_ms\", \"infer_b256_images_per_s\",\n"
    "\"train_b64_images_per_s\", \"threads\", \"macs_per_image\", \"params\"}.\n"
    "\n"
    "With --video: headless decode + crop + resize frames per second, without the\n"
    "network, at the input size of 48x48 grey; with --crop face, also the face\n"
    "detector's cost per frame (cascade: --cascade FILE, default\n"
    CAPTURE_CASCADE_DEFAULT ").\n"
    "With --video and --model, the whole live path per frame, as the live view runs\n"
    "it (every face cropped, the network, the smoothing; drawing excluded): the\n"
    "median ms of each stage, the decode's mean, the total and the CPU seconds per\n"
    "second of video at 30 fps. --threads 1 measures one core.\n"
    "\n"
    "  --threads N   default: all cores\n"
    "  --repeats N   runs per figure, the median is reported (default 5)\n";

/* What `emocam bench` was asked for. */
typedef struct {
  const char *model_path, *arch_path, *video, *cascade, *crop;
  int classes, threads, repeats, json;
  float crop_scale;
} bench_opts;

/* Returns 0 to run, 1 after --help, -1 after a usage error (printed). */
static int parse_options(int argc, char **argv, bench_opts *o) {
  *o = (bench_opts){.classes = 7, .repeats = 5, .crop_scale = 1.0f};
  const cli_spec specs[] = {{"--model", CLI_STRING, &o->model_path, 0, 0},
                            {"--arch", CLI_STRING, &o->arch_path, 0, 0},
                            {"--video", CLI_STRING, &o->video, 0, 0},
                            {"--classes", CLI_INT, &o->classes, 2, 1000},
                            {"--threads", CLI_INT, &o->threads, 0, 256},
                            {"--repeats", CLI_INT, &o->repeats, 1, 1000},
                            {"--crop-scale", CLI_FLOAT, &o->crop_scale, 0.2, 1},
                            {"--crop", CLI_STRING, &o->crop, 0, 0},
                            {"--cascade", CLI_STRING, &o->cascade, 0, 0},
                            {"--json", CLI_FLAG, &o->json, 0, 0}};
  int rc = cli_parse_options(argc, argv, specs, (int)(sizeof specs / sizeof specs[0]), help,
                             "bench", NULL);
  if (rc != 0) return rc;
  const char *why = NULL;
  if (o->crop && strcmp(o->crop, "face") != 0 && strcmp(o->crop, "center") != 0) {
    cli_error("bench: --crop: expected 'face' or 'center', got '%s'", o->crop);
    return -1;
  }
  int face = o->crop && strcmp(o->crop, "face") == 0;
  if (o->model_path && o->arch_path) why = "give --model or --arch, not both";
  else if ((o->crop || o->cascade) && !o->video) why = "--crop and --cascade go with --video";
  else if (o->cascade && !face) why = "--cascade is for --crop face";
  if (why) {
    cli_error("bench: %s", why);
    return -1;
  }
  if (face && !o->cascade) o->cascade = CAPTURE_CASCADE_DEFAULT;
  return 0;
}

/* The network's speed: inference at batch 1 and 256, training at 64. */
static int bench_network(const bench_opts *o, const char *arch, const char *source, int classes,
                         char *err, size_t errlen) {
  nn_net *net = NULL;
  if (nn_net_create(&net, arch, source, classes, 1, 0, err, errlen) != 0) return -1;
  double macs = nn_net_macs_per_image(net);
  size_t params = nn_net_param_count(net);
  nn_net_destroy(net);
  nn_bench_result b;
  if (nn_bench(arch, source, classes, o->repeats, &b, err, errlen) != 0) return -1;
  if (o->json) {
    printf("{\"infer_b1_ms\": %.4f, \"infer_b256_images_per_s\": %.1f, "
           "\"train_b64_images_per_s\": %.1f, \"threads\": %d, \"macs_per_image\": %.0f, "
           "\"params\": %zu}\n",
           b.infer_b1_ms, b.infer_b256_images_per_s, b.train_b64_images_per_s, nn_get_threads(),
           macs, params);
    return 0;
  }
  printf("%s: %.1f M multiply-adds per image, %zu parameters, %d thread%s, median of %d\n",
         source, macs / 1e6, params, nn_get_threads(), nn_get_threads() == 1 ? "" : "s",
         o->repeats);
  printf("  inference, batch 1:    %8.3f ms\n", b.infer_b1_ms);
  printf("  inference, batch 256:  %8.1f images/s\n", b.infer_b256_images_per_s);
  printf("  training, batch 64:    %8.1f images/s\n", b.train_b64_images_per_s);
  return 0;
}

int cmd_bench(int argc, char **argv) {
  bench_opts o;
  int rc = parse_options(argc, argv, &o);
  if (rc != 0) return rc > 0 ? EXIT_OK : EXIT_USAGE;
  nn_set_threads(o.threads);
  char err[NN_ERR_LEN], path[1024];
  /* The network to measure: an architecture file, or a model's own. */
  char *arch = NULL;
  const char *source = NULL, *model_path = o.model_path;
  int classes = o.classes;
  nn_model model = {0};
  if (o.arch_path) {
    if (!(arch = text_file_read(o.arch_path, TEXT_FILE_ARCH_MAX, err, sizeof err))) goto fail;
    source = o.arch_path;
  } else if (model_path || !o.video) {
    if (!model_path) {
      if (assets_find(ASSETS_DEFAULT_MODEL, path, sizeof path) != 0) {
        snprintf(err, sizeof err, "no default model at %.400s; pass --model or --arch", path);
        goto fail;
      }
      model_path = path;
    }
    if (model_open(model_path, &model, 1, NULL, err, sizeof err) != 0) goto fail;
    if (!(arch = strdup(nn_net_arch_text(model.net)))) goto fail;
    classes = model.num_classes;
    source = model_path;
  }
  if (o.video) {
    int c = model.net ? nn_net_input_c(model.net) : 1;
    int h = model.net ? nn_net_input_h(model.net) : 48;
    int w = model.net ? nn_net_input_w(model.net) : 48;
    nn_model_free(&model);
    free(arch);
    if (!o.model_path) return bench_video_run(o.video, NULL, c, h, w, o.crop_scale, o.cascade, o.json);
    /* with a model: the whole live path, the model opened as the live path does */
    classifier cl;
    if (classifier_open(&cl, o.model_path, FACES_MAX, err, sizeof err) != 0) {
      cli_error("%s", err);
      return EXIT_RUNTIME;
    }
    float scale = o.crop_scale > 0 ? o.crop_scale : cl.crop_scale;
    rc = bench_video_run(o.video, &cl, c, h, w, scale, o.cascade, o.json);
    classifier_close(&cl);
    return rc;
  }
  if (bench_network(&o, arch, source, classes, err, sizeof err) != 0) goto fail;
  nn_model_free(&model);
  free(arch);
  return EXIT_OK;
fail:
  cli_error("%s", err);
  nn_model_free(&model);
  free(arch);
  return EXIT_RUNTIME;
}
