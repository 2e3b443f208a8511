/* cmd_train: `emocam train`: options from the training config's key table,
 * a training session driven to the end, its messages on stdout, a progress
 * bar on stderr, and Ctrl-C turned into a checkpoint. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands/commands.h"
#include "commands/interrupt.h"
#include "commands/progress.h"
#include "common/assets.h"
#include "common/cli.h"
#include "training/session.h"

static void print_help(void) {
  fputs("usage: emocam train --data DIR --out MODEL [options]\n"
        "       emocam train --resume CHECKPOINT [--epochs N]\n"
        "\n"
        "Trains a model on a folder of labelled images: one subfolder per class (the\n"
        "folder name is the label; class order = sorted names). JPEG, PNG, BMP and WebP\n"
        "are detected by content, any size, colour or grey. Files that are not images\n"
        "are skipped with a warning.\n"
        "\n",
        stdout);
  train_config_help(stdout);
  fputs("  --resume CHECKPOINT  continue an interrupted run (MODEL.ckpt, written every epoch\n"
        "                       and on Ctrl-C)\n"
        "\n"
        "Exit status: 0 done, 1 error, 2 usage error, 130 interrupted (checkpoint saved).\n",
        stdout);
}

static void print_epoch(const train_progress *p) {
  const epoch_record *e = p->record;
  printf("epoch %d/%d: train loss %.4f acc %.2f%%", e->epoch, p->epochs, e->train_loss,
         100 * e->train_acc);
  if (p->has_val)
    printf(" | val loss %.4f acc %.2f%% macro-F1 %.4f", e->val_loss, 100 * e->val_acc,
           e->val_macro_f1);
  printf(" | lr %.2e | %.1f s%s\n", e->lr, e->seconds, p->best ? " (best)" : "");
  fflush(stdout);
}

static int on_progress(void *user, const train_progress *p) {
  progress_bar *bar = user;
  switch (p->event) {
    case TRAIN_EPOCH_BEGIN: progress_begin(bar, p->epoch, p->epochs); break;
    case TRAIN_BATCH: progress_update(bar, p->done, p->total, p->seconds, p->loss, p->acc); break;
    case TRAIN_EPOCH_END:
      progress_end(bar);
      print_epoch(p);
      break;
  }
  return interrupt_requested(); /* after every batch: Ctrl-C stops the session */
}

/* Runs the session to its end; returns the exit code. */
static int drive(const train_config *cfg, const char *resume, int epochs) {
  char err[1024];
  progress_bar bar;
  progress_init(&bar, isatty(STDERR_FILENO));
  train_observer obs = {progress_print_line, progress_warn_line, on_progress, &bar};
  /* Epoch lines and progress go to different streams; line buffering keeps
   * them in order in a log file. */
  setvbuf(stdout, NULL, _IOLBF, 0);
  interrupt_catch();
  train_session *s = NULL;
  int rc = resume ? train_session_resume(&s, resume, epochs, &obs, err, sizeof err)
                  : train_session_create(&s, cfg, NULL, &obs, err, sizeof err);
  if (rc == 0) rc = train_session_run(s, err, sizeof err);
  int code = EXIT_OK;
  if (rc == TRAIN_STOPPED) {
    progress_end(&bar);
    const char *ckpt = train_session_checkpoint_path(s);
    fprintf(stderr, "emocam: interrupted: checkpoint saved to %s; continue with: emocam train --resume %s\n",
            ckpt, ckpt);
    code = 130;
  } else if (rc != TRAIN_DONE) {
    progress_end(&bar);
    cli_error("%s", err);
    code = EXIT_RUNTIME;
  }
  interrupt_release();
  train_session_destroy(s);
  return code;
}

/* The checks a fresh run's options must pass. Returns 0, or an exit code. */
static int check_fresh(train_config *cfg) {
  if (!cfg->data_dir[0] || !cfg->out_path[0]) {
    cli_error("train: --data DIR and --out MODEL are required (see emocam train --help)");
    return EXIT_USAGE;
  }
  if (cfg->swa_epochs >= cfg->epochs) {
    cli_error("train: --swa %d must be less than --epochs %d: it averages the last epochs of a run",
              cfg->swa_epochs, cfg->epochs);
    return EXIT_USAGE;
  }
  if (cfg->init_path[0] && cfg->arch_path[0]) {
    cli_error("train: --init takes the architecture of its model; drop --arch");
    return EXIT_USAGE;
  }
  if (!cfg->init_path[0] && !cfg->arch_path[0] &&
      assets_find("arch/vgg.arch", cfg->arch_path, sizeof cfg->arch_path) != 0) {
    cli_error("default architecture not found at %s; pass --arch FILE", cfg->arch_path);
    return EXIT_RUNTIME;
  }
  return 0;
}

int cmd_train(int argc, char **argv) {
  train_config cfg;
  train_config_defaults(&cfg);
  const char *resume = NULL;
  int epochs_given = 0;
  for (int i = 1; i < argc; i++) {
    const char *v = NULL;
    if (cli_is_help(argv[i])) {
      print_help();
      return EXIT_OK;
    }
    int rc = train_config_option(&cfg, argc, argv, &i, &epochs_given);
    if (rc < 0) return EXIT_USAGE;
    if (rc > 0) continue;
    if (cli_option(argc, argv, &i, "--resume", &v)) {
      if (!(resume = v)) return EXIT_USAGE;
      continue;
    }
    cli_error("train: unknown option '%s' (see emocam train --help)", argv[i]);
    return EXIT_USAGE;
  }
  if (resume) return drive(NULL, resume, epochs_given ? cfg.epochs : 0);
  int bad = check_fresh(&cfg);
  return bad ? bad : drive(&cfg, NULL, 0);
}
