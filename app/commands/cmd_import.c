/* cmd_import: an ONNX model file into an emocam model (.emo). */
#include <stdio.h>
#include <string.h>

#include "commands/commands.h"
#include "common/cli.h"
#include "nn.h"
#include "nn_onnx.h"

static const char help_fmt[] =
    "usage: emocam import MODEL.onnx --out MODEL.emo [--classes a,b,...]\n"
    "                     [--pixel-scale F] [--pixel-mean F]\n"
    "\n"
    "Reads an ONNX model (opset 7 to 17) and writes it as an emocam model, which\n"
    "then runs, and (with emocam's pixel convention) trains and fine-tunes, like\n"
    "any other. --model MODEL.onnx also works directly wherever a model is read;\n"
    "import once to skip the conversion.\n"
    "\n"
    "The input must be N x C x H x W float, C 1 (grey) or 3 (colour). The class\n"
    "names come from --classes (in output order) or the file's metadata_props\n"
    "'classes'. Pixels reach the network as (pixel - mean) * scale for pixels\n"
    "0..255: --pixel-scale and --pixel-mean, else the metadata's pixel_scale and\n"
    "pixel_mean, else emocam's own (scale 1/255, mean 0).\n"
    "\n"
    "The graph may branch (residual additions, gates, concatenation); its nodes\n"
    "must be these operators:\n%s.\n"
    "Anything else is an error naming the node and its operator; nothing is\n"
    "written then.\n";

/* text broken at spaces into lines of at most width, each indented by two */
static void wrap(const char *text, int width, char *out, size_t len) {
  size_t at = 0;
  int col = 0;
  out[0] = '\0';
  for (const char *p = text; *p && at + 4 < len;) {
    size_t word = strcspn(p, " ");
    if (col > 0 && col + 1 + (int)word > width) {
      at += (size_t)snprintf(out + at, len - at, "\n");
      col = 0;
    }
    at += (size_t)snprintf(out + at, len - at, "%s%.*s", col ? " " : "  ", (int)word, p);
    col += (int)word + (col ? 1 : 2);
    p += word;
    while (*p == ' ') p++;
  }
}

int cmd_import(int argc, char **argv) {
  const char *out = NULL, *classes = NULL;
  float scale = 0, mean = 0;
  int have_mean = 0;
  const char *mean_text = NULL;
  int first = 0;
  const cli_spec opts[] = {{"--out", CLI_STRING, &out, 0, 0},
                           {"--classes", CLI_STRING, &classes, 0, 0},
                           {"--pixel-scale", CLI_FLOAT, &scale, 1e-12, 1e12},
                           {"--pixel-mean", CLI_STRING, &mean_text, 0, 0}};
  char help[4096], ops[1024];
  wrap(nn_onnx_operators(), 76, ops, sizeof ops);
  snprintf(help, sizeof help, help_fmt, ops);
  /* the file may come first (emocam import MODEL.onnx --out ...) or last */
  const char *file = NULL;
  char *rest[argc + 1];
  int n = 0;
  rest[n++] = argv[0];
  for (int i = 1; i < argc; i++) {
    if (!file && i == 1 && argv[i][0] != '-') file = argv[i];
    else rest[n++] = argv[i];
  }
  rest[n] = NULL;
  int rc = cli_parse_options(n, rest, opts, (int)(sizeof opts / sizeof opts[0]), help, "import",
                             &first);
  if (rc != 0) return rc > 0 ? EXIT_OK : EXIT_USAGE;
  if (first < n && !file && first + 1 == n) file = rest[first];
  else if (first < n) file = NULL;
  if (!file) {
    cli_error("import: give one ONNX file (see emocam import --help)");
    return EXIT_USAGE;
  }
  if (!out) {
    cli_error("import: --out MODEL.emo is required");
    return EXIT_USAGE;
  }
  if (mean_text) {
    if (cli_parse_float("--pixel-mean", mean_text, -1e6, 1e6, &mean) != 0) return EXIT_USAGE;
    have_mean = 1;
  }
  nn_onnx_import_opts o = {.classes = classes, .pixel_scale = scale, .pixel_mean = mean,
                           .have_pixel_mean = have_mean};
  nn_model m;
  char err[NN_ERR_LEN];
  if (nn_onnx_import_file(file, &o, &m, 1, err, sizeof err) != 0) {
    cli_error("%s", err);
    return EXIT_RUNTIME;
  }
  rc = nn_model_save(out, &m, NULL, err, sizeof err);
  if (rc == 0) {
    float s, mu;
    nn_onnx_pixel_map(m.preprocess, &s, &mu);
    printf("%s: %d classes, input %dx%dx%d, %zu parameters, %.1f M multiply-adds%s%s; pixels as "
           "(p - %g) * %g\n",
           out, m.num_classes, nn_net_input_c(m.net), nn_net_input_h(m.net), nn_net_input_w(m.net),
           nn_net_param_count(m.net), nn_net_macs_per_image(m.net) / 1e6,
           m.flip_tta ? ", flip averaging" : "",
           nn_net_temperature(m.net) != 1.0f ? ", temperature" : "", (double)mu, (double)s);
  } else {
    cli_error("%s", err);
  }
  nn_model_free(&m);
  return rc == 0 ? EXIT_OK : EXIT_RUNTIME;
}
