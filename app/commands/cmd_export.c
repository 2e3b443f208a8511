/* cmd_export: an emocam model as an ONNX file. */
#include <stdio.h>

#include "commands/commands.h"
#include "common/assets.h"
#include "common/cli.h"
#include "common/model_open.h"
#include "nn.h"
#include "nn_onnx.h"

static const char help[] =
    "usage: emocam export [--model MODEL] --out MODEL.onnx\n"
    "\n"
    "Writes the model (default: assets/fer2013.emo) as ONNX, opset 13, for other\n"
    "runtimes (onnxruntime, a browser, a phone). The graph computes what\n"
    "'emocam predict' reports for an input of the model's size, temperature and\n"
    "flip averaging included: input 'input' (N x C x H x W float), output\n"
    "'probabilities' (N x classes). metadata_props hold 'classes' (comma-separated,\n"
    "in order), 'pixel_scale' and 'pixel_mean' (input = (pixel - pixel_mean) *\n"
    "pixel_scale for pixels 0..255) and 'emocam_version'. Face crops are the\n"
    "caller's: centre-crop and resize as emocam does (see README).\n";

int cmd_export(int argc, char **argv) {
  const char *model_path = NULL, *out = NULL;
  const cli_spec opts[] = {{"--model", CLI_STRING, &model_path, 0, 0},
                           {"--out", CLI_STRING, &out, 0, 0}};
  int rc = cli_parse_options(argc, argv, opts, (int)(sizeof opts / sizeof opts[0]), help, "export",
                             NULL);
  if (rc != 0) return rc > 0 ? EXIT_OK : EXIT_USAGE;
  if (!out) {
    cli_error("export: --out MODEL.onnx is required");
    return EXIT_USAGE;
  }
  char path[1024];
  if (!model_path) {
    if (assets_find(ASSETS_DEFAULT_MODEL, path, sizeof path) != 0) {
      cli_error("no default model: %s not found (pass --model)", path);
      return EXIT_RUNTIME;
    }
    model_path = path;
  }
  nn_model m;
  char err[NN_ERR_LEN];
  if (model_open(model_path, &m, 1, NULL, err, sizeof err) != 0) {
    cli_error("%s", err);
    return EXIT_RUNTIME;
  }
  rc = nn_onnx_export_file(out, &m, EMOCAM_VERSION, err, sizeof err);
  if (rc == 0)
    printf("%s: %d classes, input %dx%dx%d, from %s\n", out, m.num_classes, nn_net_input_c(m.net),
           nn_net_input_h(m.net), nn_net_input_w(m.net), model_path);
  else
    cli_error("%s", err);
  nn_model_free(&m);
  return rc == 0 ? EXIT_OK : EXIT_RUNTIME;
}
