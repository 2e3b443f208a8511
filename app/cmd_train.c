/* cmd_train: options of `emocam train`; the run itself is train.c. */
#include <stdio.h>
#include <string.h>

#include "assets.h"
#include "cli.h"
#include "commands.h"
#include "train.h"

static const char help[] =
    "usage: emocam train --data DIR --out MODEL [options]\n"
    "       emocam train --resume CHECKPOINT [--epochs N]\n"
    "\n"
    "Trains a model on a folder of labelled images: one subfolder per class (the\n"
    "folder name is the label; class order = sorted names). JPEG, PNG, BMP and WebP\n"
    "are detected by content, any size, colour or grey. Files that are not images\n"
    "are skipped with a warning.\n"
    "\n"
    "  --data DIR           training images (required)\n"
    "  --out MODEL          model file to write (.emo); the best epoch by val accuracy\n"
    "                       is kept there, beside it MODEL-stem.log.csv and .curves.png\n"
    "  --val DIR            validation images (same class folders)\n"
    "  --val-split F        hold out a stratified share F of --data instead (default 0.1;\n"
    "                       0 = no validation)\n"
    "  --arch FILE          architecture file (default assets/arch/vgg.arch)\n"
    "  --init MODEL         start from a trained model (transfer learning); a new\n"
    "                       classifier head is made when the classes differ\n"
    "  --freeze N           keep the first N layers fixed (with --init)\n"
    "  --epochs N           default 30\n"
    "  --batch N            default 64\n"
    "  --lr F               peak learning rate of AdamW (default 0.002; warmup, cosine decay)\n"
    "  --weight-decay F     decoupled (AdamW) weight decay, default 0.01\n"
    "  --label-smoothing F  default 0.1\n"
    "  --warmup F           warmup epochs (default 1)\n"
    "  --patience N         stop after N epochs without better val accuracy (default 10,\n"
    "                       0 = never)\n"
    "  --class-weights M    auto (default: sqrt inverse frequency when the largest class is\n"
    "                       over 3x the smallest), off, sqrt, inverse\n"
    "  --no-augment         no flips, shifts, rotations or brightness/contrast jitter\n"
    "  --blur P             also blur a share P of the samples slightly (0..1, default 0):\n"
    "                       robustness to soft, compressed video faces\n"
    "  --erase P            also cover a random rectangle with noise in a share P of the\n"
    "                       samples (random erasing; 0..1, default 0)\n"
    "  --swa N              average the weights of the last N epochs (stochastic weight\n"
    "                       averaging; the learning rate is held where they begin), then\n"
    "                       keep that mean if it beats the best epoch on val (with\n"
    "                       --patience 0, early stopping cannot cut it short)\n"
    "  --flip-tta           the model averages each prediction with its mirror image\n"
    "  --crop-scale F       centre-crop share of the shorter side (0.2..1, default 1)\n"
    "  --seed N             default 1; with --threads 1 training is bit-for-bit repeatable\n"
    "  --threads N          default: all cores\n"
    "  --resume CHECKPOINT  continue an interrupted run (MODEL.ckpt, written every epoch\n"
    "                       and on Ctrl-C)\n"
    "\n"
    "Exit status: 0 done, 1 error, 2 usage error, 130 interrupted (checkpoint saved).\n";

int cmd_train(int argc, char **argv) {
  train_config cfg;
  train_config_defaults(&cfg);
  const char *resume = NULL;
  int epochs_given = 0;
  for (int i = 1; i < argc; i++) {
    const char *v = NULL, *a = argv[i];
    if (cli_is_help(a)) {
      fputs(help, stdout);
      return EXIT_OK;
    }
    struct {
      const char *name;
      char *dst;
      size_t len;
    } paths[] = {{"--data", cfg.data_dir, sizeof cfg.data_dir},
                 {"--out", cfg.out_path, sizeof cfg.out_path},
                 {"--val", cfg.val_dir, sizeof cfg.val_dir},
                 {"--arch", cfg.arch_path, sizeof cfg.arch_path},
                 {"--init", cfg.init_path, sizeof cfg.init_path}};
    int matched = 0;
    for (size_t p = 0; p < sizeof paths / sizeof paths[0] && !matched; p++) {
      if (!cli_option(argc, argv, &i, paths[p].name, &v)) continue;
      matched = 1;
      if (!v) return EXIT_USAGE;
      if (strlen(v) >= paths[p].len) {
        cli_error("%s: path too long", paths[p].name);
        return EXIT_USAGE;
      }
      snprintf(paths[p].dst, paths[p].len, "%s", v);
    }
    if (matched) continue;
    int bad = 0;
    if (cli_option(argc, argv, &i, "--val-split", &v))
      bad = !v || cli_parse_float("--val-split", v, 0, 0.9, &cfg.val_split);
    else if (cli_option(argc, argv, &i, "--epochs", &v))
      bad = !v || cli_parse_int("--epochs", v, 1, 100000, &cfg.epochs), epochs_given = 1;
    else if (cli_option(argc, argv, &i, "--batch", &v))
      bad = !v || cli_parse_int("--batch", v, 1, 4096, &cfg.batch);
    else if (cli_option(argc, argv, &i, "--lr", &v))
      bad = !v || cli_parse_float("--lr", v, 1e-7, 10, &cfg.lr);
    else if (cli_option(argc, argv, &i, "--weight-decay", &v))
      bad = !v || cli_parse_float("--weight-decay", v, 0, 1, &cfg.weight_decay);
    else if (cli_option(argc, argv, &i, "--label-smoothing", &v))
      bad = !v || cli_parse_float("--label-smoothing", v, 0, 0.5, &cfg.label_smoothing);
    else if (cli_option(argc, argv, &i, "--warmup", &v))
      bad = !v || cli_parse_float("--warmup", v, 0, 1000, &cfg.warmup_epochs);
    else if (cli_option(argc, argv, &i, "--patience", &v))
      bad = !v || cli_parse_int("--patience", v, 0, 100000, &cfg.patience);
    else if (cli_option(argc, argv, &i, "--freeze", &v))
      bad = !v || cli_parse_int("--freeze", v, 0, 10000, &cfg.freeze);
    else if (cli_option(argc, argv, &i, "--threads", &v))
      bad = !v || cli_parse_int("--threads", v, 0, 256, &cfg.threads);
    else if (cli_option(argc, argv, &i, "--seed", &v))
      bad = !v || cli_parse_u64("--seed", v, &cfg.seed);
    else if (cli_option(argc, argv, &i, "--swa", &v))
      bad = !v || cli_parse_int("--swa", v, 1, 100000, &cfg.swa_epochs);
    else if (cli_option(argc, argv, &i, "--blur", &v))
      bad = !v || cli_parse_float("--blur", v, 0, 1, &cfg.blur_prob);
    else if (cli_option(argc, argv, &i, "--erase", &v))
      bad = !v || cli_parse_float("--erase", v, 0, 1, &cfg.erase_prob);
    else if (cli_option(argc, argv, &i, "--crop-scale", &v))
      bad = !v || cli_parse_float("--crop-scale", v, 0.2, 1, &cfg.crop_scale);
    else if (cli_option(argc, argv, &i, "--resume", &v))
      bad = !(resume = v);
    else if (cli_option(argc, argv, &i, "--class-weights", &v)) {
      const char *modes[] = {"auto", "off", "sqrt", "inverse"};
      bad = 1;
      for (int m = 0; v && m < 4; m++)
        if (strcmp(v, modes[m]) == 0) cfg.weights = (class_weight_mode)m, bad = 0;
      if (bad && v) cli_error("--class-weights: expected auto, off, sqrt or inverse, got '%s'", v);
    } else if (strcmp(a, "--no-augment") == 0)
      cfg.augment = 0;
    else if (strcmp(a, "--flip-tta") == 0)
      cfg.flip_tta = 1;
    else {
      cli_error("train: unknown option '%s' (see emocam train --help)", a);
      return EXIT_USAGE;
    }
    if (bad) return EXIT_USAGE;
  }
  if (resume) {
    train_config extend;
    train_config_defaults(&extend);
    extend.epochs = epochs_given ? cfg.epochs : 0;
    return train_run(&extend, resume);
  }
  if (!cfg.data_dir[0] || !cfg.out_path[0]) {
    cli_error("train: --data DIR and --out MODEL are required (see emocam train --help)");
    return EXIT_USAGE;
  }
  if (cfg.swa_epochs >= cfg.epochs) {
    cli_error("train: --swa %d must be less than --epochs %d: it averages the last epochs of a run",
              cfg.swa_epochs, cfg.epochs);
    return EXIT_USAGE;
  }
  if (cfg.init_path[0] && cfg.arch_path[0]) {
    cli_error("train: --init takes the architecture of its model; drop --arch");
    return EXIT_USAGE;
  }
  if (!cfg.init_path[0] && !cfg.arch_path[0] &&
      assets_find("arch/vgg.arch", cfg.arch_path, sizeof cfg.arch_path) != 0) {
    cli_error("default architecture not found at %s; pass --arch FILE", cfg.arch_path);
    return EXIT_RUNTIME;
  }
  return train_run(&cfg, NULL);
}
