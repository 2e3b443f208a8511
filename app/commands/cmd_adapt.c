/* cmd_adapt: `emocam adapt`: a personal model from a folder of a person's
 * crops (what the window's --collect saves), measured before and after on a
 * held-out share of them. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "commands/commands.h"
#include "commands/interrupt.h"
#include "commands/progress.h"
#include "common/assets.h"
#include "common/cli.h"
#include "training/adapt.h"

static const char help[] =
    "usage: emocam adapt --data DIR --out PERSONAL.emo [--model MODEL] [options]\n"
    "\n"
    "Fine-tunes MODEL (default: the shipped model) on the crops in DIR/<class>/,\n"
    "class folders named after the model's classes (any subset of them: every\n"
    "class of the model is kept). The crops are what `emocam --collect DIR` saves,\n"
    "or any face images. A share of each class is held out: the accuracy of both\n"
    "models on it is printed, with the time taken. PERSONAL.emo is written\n"
    "atomically with its training log beside it (PERSONAL.log.csv, .curves.png),\n"
    "and records what it was adapted from and on how many crops per class.\n"
    "\n"
    "  --model MODEL    the model to adapt\n"
    "  --epochs N       passes over the crops (default 40)\n"
    "  --lr F           peak learning rate (default 0.003)\n"
    "  --freeze N       keep the first N layers fixed (default: all but the last 8)\n"
    "  --holdout F      share of each class held out to measure (default 0.2; 0 = none)\n"
    "  --keep F         share of each training target taken from MODEL's own output,\n"
    "                   so the classes not collected are not forgotten (default 0.2)\n"
    "  --seed N         default 1\n"
    "  --threads N      default: all cores\n"
    "\n"
    "Exit status: 0 done, 1 error (nothing written), 2 usage error, 130 interrupted\n"
    "(nothing written).\n";

static int on_progress(void *user, const train_progress *p) {
  (void)user;
  if (p->event == TRAIN_EPOCH_END)
    printf("epoch %d/%d: loss %.4f acc %.2f%% | %.1f s\n", p->epoch, p->epochs,
           p->record->train_loss, 100 * p->record->train_acc, p->record->seconds);
  return interrupt_requested(); /* after every batch: Ctrl-C stops the session */
}

static void print_accuracy(const char *what, double acc, int n) {
  if (isnan(acc)) printf("%s: no held-out crops\n", what);
  else printf("%s: %.1f%% of %d held-out crops\n", what, 100 * acc, n);
}

int cmd_adapt(int argc, char **argv) {
  adapt_config cfg;
  adapt_defaults(&cfg);
  const char *model = NULL, *seed_text = NULL;
  int threads = 0;
  const cli_spec opts[] = {
      {"--model", CLI_STRING, &model, 0, 0},      {"--data", CLI_STRING, &cfg.data_dir, 0, 0},
      {"--out", CLI_STRING, &cfg.out_path, 0, 0}, {"--epochs", CLI_INT, &cfg.epochs, 1, 1000},
      {"--lr", CLI_FLOAT, &cfg.lr, 1e-7, 1},      {"--freeze", CLI_INT, &cfg.freeze, 0, 10000},
      {"--holdout", CLI_FLOAT, &cfg.holdout, 0, 0.5}, {"--keep", CLI_FLOAT, &cfg.keep_weight, 0, 0.9},
      {"--seed", CLI_STRING, &seed_text, 0, 0},   {"--threads", CLI_INT, &threads, 0, 256},
  };
  int rc = cli_parse_options(argc, argv, opts, (int)(sizeof opts / sizeof opts[0]), help, "adapt",
                             NULL);
  if (rc != 0) return rc > 0 ? EXIT_OK : EXIT_USAGE;
  if (!cfg.data_dir || !cfg.out_path) {
    cli_error("adapt: --data DIR and --out PERSONAL.emo are required (see emocam adapt --help)");
    return EXIT_USAGE;
  }
  if (seed_text && cli_parse_u64("--seed", seed_text, &cfg.seed) != 0) return EXIT_USAGE;
  char model_path[1024];
  if (model) {
    snprintf(model_path, sizeof model_path, "%s", model);
  } else if (assets_find(ASSETS_DEFAULT_MODEL, model_path, sizeof model_path) != 0) {
    cli_error("no default model: %s not found; pass --model", model_path);
    return EXIT_RUNTIME;
  }
  nn_set_threads(threads);
  cfg.threads = nn_get_threads();
  setvbuf(stdout, NULL, _IOLBF, 0);
  interrupt_catch();
  train_observer obs = {progress_print_line, progress_warn_line, on_progress, NULL};
  adapt_result res;
  char err[1024];
  rc = adapt_run(model_path, &cfg, &obs, &res, err, sizeof err);
  interrupt_release();
  if (rc == TRAIN_STOPPED) {
    cli_error("adapt: interrupted; nothing written");
    return 130;
  }
  if (rc != TRAIN_DONE) {
    cli_error("%s", err);
    return EXIT_RUNTIME;
  }
  printf("adapted on %d crops (%d held out) in %.1f s\n", res.trained, res.held_out, res.seconds);
  print_accuracy("before", res.acc_before, res.held_out);
  print_accuracy("after", res.acc_after, res.held_out);
  printf("personal model: %s\n", cfg.out_path);
  return EXIT_OK;
}
