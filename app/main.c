/* emocam: real-time facial-emotion recognition. This file only dispatches to
 * the subcommands; each lives in its own cmd_*.c.
 */
#include <stdio.h>
#include <string.h>

#include "common/cli.h"
#include "commands/commands.h"

static const char usage[] =
    "emocam recognises facial expressions in real time with a convolutional network\n"
    "written in C, live on a camera or a video, and trains and evaluates its models.\n"
    "\n"
    "usage: emocam [--camera DEV | --video FILE] [options]   live recognition (default)\n"
    "       emocam train --data DIR --out MODEL [options]     train a model on labelled images\n"
    "       emocam adapt [--model MODEL] --data DIR --out PERSONAL.emo\n"
    "                                                    a personal model from a person's crops\n"
    "       emocam eval [--model MODEL] --data DIR [options]  classification report on a labelled set\n"
    "       emocam predict [--model MODEL] IMAGE...           probabilities for image files\n"
    "       emocam bench [--model MODEL | --arch FILE]        speed of inference and training\n"
    "       emocam bench --video FILE [--model MODEL]         speed of the live path, by stage\n"
    "       emocam report RUN.csv [OTHER.csv] --out DIR       a session's report from its CSV\n"
    "       emocam import MODEL.onnx --out MODEL.emo          an ONNX model as an emocam model\n"
    "       emocam export [--model MODEL] --out MODEL.onnx    a model as ONNX, for other runtimes\n"
    "       emocam --help | --version\n"
    "\n"
    "Each subcommand takes --help. Without --model, the default model in assets/ is used;\n"
    "--model takes an emocam model (.emo) or an ONNX file (.onnx).\n"
    "Exit status: 0 success, 1 runtime error, 2 usage error.\n"
    "\n"
    "Live recognition, in detail:\n";

typedef struct {
  const char *name;
  int (*run)(int argc, char **argv);
} subcommand;

static const subcommand subcommands[] = {
    {"train", cmd_train}, {"eval", cmd_eval}, {"predict", cmd_predict}, {"bench", cmd_bench},
    {"adapt", cmd_adapt}, {"report", cmd_report}, {"import", cmd_import}, {"export", cmd_export},
};

int main(int argc, char **argv) {
  if (argc >= 2 && cli_is_help(argv[1])) {
    /* The live command is the default one: its options belong here. */
    fputs(usage, stdout);
    char *live_help[] = {argv[0], argv[1], NULL};
    return cmd_live(2, live_help);
  }
  if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
    printf("emocam %s\n", EMOCAM_VERSION);
    return EXIT_OK;
  }
  if (argc >= 2 && argv[1][0] != '-') {
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
      if (strcmp(argv[1], subcommands[i].name) == 0) return subcommands[i].run(argc - 1, argv + 1);
    cli_error("unknown command '%s' (commands: train, adapt, eval, predict, bench, report, import, export; see "
              "emocam --help)",
              argv[1]);
    return EXIT_USAGE;
  }
  /* No subcommand: live recognition; its options start at argv[1]. */
  return cmd_live(argc, argv);
}
