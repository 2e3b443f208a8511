/* cmd_bench: speed of the network (inference and training) or of the video
 * front end (decode + crop + resize), measured here, medians of repeats. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/assets.h"
#include "live/bench_video.h"
#include "capture.h"
#include "common/cli.h"
#include "commands/commands.h"
#include "nn.h"
#include "common/text_file.h"

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
    "network, at the model's input size (48x48 grey without a model); with --crop\n"
    "face, also the face detector's cost per frame (cascade: --cascade FILE, default\n"
    CAPTURE_CASCADE_DEFAULT ").\n"
    "\n"
    "  --threads N   default: all cores\n"
    "  --repeats N   runs per figure, the median is reported (default 5)\n";

int cmd_bench(int argc, char **argv) {
  const char *model_path = NULL, *arch_path = NULL, *video = NULL, *cascade = NULL;
  int face = 0;
  int classes = 7, threads = 0, repeats = 5, json = 0;
  float crop_scale = 1.0f;
  for (int i = 1; i < argc; i++) {
    const char *v = NULL;
    int bad = 0;
    if (cli_is_help(argv[i])) {
      fputs(help, stdout);
      return EXIT_OK;
    } else if (cli_option(argc, argv, &i, "--model", &v)) {
      bad = !(model_path = v);
    } else if (cli_option(argc, argv, &i, "--arch", &v)) {
      bad = !(arch_path = v);
    } else if (cli_option(argc, argv, &i, "--video", &v)) {
      bad = !(video = v);
    } else if (cli_option(argc, argv, &i, "--classes", &v)) {
      bad = !v || cli_parse_int("--classes", v, 2, 1000, &classes);
    } else if (cli_option(argc, argv, &i, "--threads", &v)) {
      bad = !v || cli_parse_int("--threads", v, 0, 256, &threads);
    } else if (cli_option(argc, argv, &i, "--repeats", &v)) {
      bad = !v || cli_parse_int("--repeats", v, 1, 1000, &repeats);
    } else if (cli_option(argc, argv, &i, "--crop-scale", &v)) {
      bad = !v || cli_parse_float("--crop-scale", v, 0.2, 1, &crop_scale);
    } else if (cli_option(argc, argv, &i, "--crop", &v)) {
      if (!v || (strcmp(v, "face") != 0 && strcmp(v, "center") != 0)) {
        if (v) cli_error("bench: --crop: expected 'face' or 'center', got '%s'", v);
        return EXIT_USAGE;
      }
      face = strcmp(v, "face") == 0;
    } else if (cli_option(argc, argv, &i, "--cascade", &v)) {
      bad = !(cascade = v);
    } else if (strcmp(argv[i], "--json") == 0) {
      json = 1;
    } else {
      cli_error("bench: unknown argument '%s' (see emocam bench --help)", argv[i]);
      return EXIT_USAGE;
    }
    if (bad) return EXIT_USAGE;
  }
  if (model_path && arch_path) {
    cli_error("bench: give --model or --arch, not both");
    return EXIT_USAGE;
  }
  if ((face || cascade) && !video) {
    cli_error("bench: --crop and --cascade go with --video");
    return EXIT_USAGE;
  }
  if (cascade && !face) {
    cli_error("bench: --cascade is for --crop face");
    return EXIT_USAGE;
  }
  nn_set_threads(threads);
  char err[NN_ERR_LEN], path[1024];
  /* The network to measure: an architecture file, or a model's own. */
  char *arch = NULL;
  const char *source = NULL;
  nn_model model = {0};
  if (arch_path) {
    if (!(arch = text_file_read(arch_path, TEXT_FILE_ARCH_MAX, err, sizeof err))) goto fail;
    source = arch_path;
  } else if (model_path || !video) {
    if (!model_path) {
      if (assets_find(ASSETS_DEFAULT_MODEL, path, sizeof path) != 0) {
        snprintf(err, sizeof err, "no default model at %.400s; pass --model or --arch", path);
        goto fail;
      }
      model_path = path;
    }
    if (nn_model_load(model_path, &model, 1, NULL, err, sizeof err) != 0) goto fail;
    if (!(arch = strdup(nn_net_arch_text(model.net)))) goto fail;
    classes = model.num_classes;
    source = model_path;
  }
  if (video) {
    int c = model.net ? nn_net_input_c(model.net) : 1;
    int h = model.net ? nn_net_input_h(model.net) : 48;
    int w = model.net ? nn_net_input_w(model.net) : 48;
    nn_model_free(&model);
    free(arch);
    return bench_video_run(video, c, h, w, crop_scale,
                           face ? (cascade ? cascade : CAPTURE_CASCADE_DEFAULT) : NULL, json);
  }
  nn_net *net = NULL;
  if (nn_net_create(&net, arch, source, classes, 1, 0, err, sizeof err) != 0) goto fail;
  double macs = nn_net_macs_per_image(net);
  size_t params = nn_net_param_count(net);
  nn_net_destroy(net);
  nn_bench_result b;
  if (nn_bench(arch, source, classes, repeats, &b, err, sizeof err) != 0) goto fail;
  if (json) {
    printf("{\"infer_b1_ms\": %.4f, \"infer_b256_images_per_s\": %.1f, "
           "\"train_b64_images_per_s\": %.1f, \"threads\": %d, \"macs_per_image\": %.0f, "
           "\"params\": %zu}\n",
           b.infer_b1_ms, b.infer_b256_images_per_s, b.train_b64_images_per_s, nn_get_threads(),
           macs, params);
  } else {
    printf("%s: %.1f M multiply-adds per image, %zu parameters, %d thread%s, median of %d\n",
           source, macs / 1e6, params, nn_get_threads(), nn_get_threads() == 1 ? "" : "s",
           repeats);
    printf("  inference, batch 1:    %8.3f ms\n", b.infer_b1_ms);
    printf("  inference, batch 256:  %8.1f images/s\n", b.infer_b256_images_per_s);
    printf("  training, batch 64:    %8.1f images/s\n", b.train_b64_images_per_s);
  }
  nn_model_free(&model);
  free(arch);
  return EXIT_OK;
fail:
  cli_error("%s", err);
  nn_model_free(&model);
  free(arch);
  return EXIT_RUNTIME;
}
