/* test_options: the option tables. cli_take and cli_parse_options store
 * values of every type, reject bad and out-of-range ones, missing values
 * and unknown options, and stop at the first argument; the training
 * settings' key table parses its options, lists each in --help, and its
 * checkpoint text round-trips every value exactly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "common/cli.h"
#include "training/config.h"

#define ARGS(...) ((char *[]){"emocam", __VA_ARGS__, NULL})
#define NARGS(...) ((int)(sizeof((char *[]){"emocam", __VA_ARGS__}) / sizeof(char *)))

typedef struct {
  const char *model;
  int frames, quiet;
  float gain;
} opts;

static int parse(opts *o, int argc, char **argv, int *first) {
  cli_spec specs[] = {
      {"--model", CLI_STRING, &o->model, 0, 0},
      {"--frames", CLI_INT, &o->frames, 1, 1000},
      {"--gain", CLI_FLOAT, &o->gain, 0, 2},
      {"--quiet", CLI_FLAG, &o->quiet, 0, 0},
  };
  return cli_parse_options(argc, argv, specs, 4, "usage: test\n", "test", first);
}

static void test_cli_tables(void) {
  opts o = {0};
  int first = -1;
  int rc = parse(&o, NARGS("--model", "m.emo", "--frames=12", "--gain", "1.5", "--quiet", "a.png",
                           "--gain", "9"),
                 ARGS("--model", "m.emo", "--frames=12", "--gain", "1.5", "--quiet", "a.png",
                      "--gain", "9"),
                 &first);
  CHECK(rc == 0 && o.model && strcmp(o.model, "m.emo") == 0 && o.frames == 12 && o.gain == 1.5f &&
            o.quiet == 1 && first == 7,
        "rc %d model %s frames %d gain %g quiet %d first %d", rc, o.model ? o.model : "-",
        o.frames, o.gain, o.quiet, first);

  o = (opts){0};
  CHECK(parse(&o, NARGS("--frames", "5"), ARGS("--frames", "5"), &first) == 0 && first == 3,
        "no argument: first = argc (%d)", first);
  CHECK(parse(&o, NARGS("--", "--frames"), ARGS("--", "--frames"), &first) == 0 && first == 2 &&
            o.frames == 5,
        "-- ends the options: first %d", first);
  CHECK(parse(&o, NARGS("--help"), ARGS("--help"), &first) == 1, "--help returns 1");

  /* usage errors: each prints a message and returns -1 */
  struct {
    int argc;
    char **argv;
    const char *why;
  } bad[] = {
      {NARGS("--frames", "0"), ARGS("--frames", "0"), "below the range"},
      {NARGS("--frames", "12x"), ARGS("--frames", "12x"), "trailing junk"},
      {NARGS("--gain", "2.5"), ARGS("--gain", "2.5"), "above the range"},
      {NARGS("--gain", "nan"), ARGS("--gain", "nan"), "not a number"},
      {NARGS("--model"), ARGS("--model"), "missing value"},
      {NARGS("--colour", "red"), ARGS("--colour", "red"), "unknown option"},
  };
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
    CHECK(parse(&o, bad[k].argc, bad[k].argv, &first) == -1, "%s accepted", bad[k].why);
  CHECK(parse(&o, NARGS("a.png"), ARGS("a.png"), NULL) == -1,
        "an argument where none is taken is an error");

  /* cli_take on one option at a time, leaving others to the caller */
  int i = 1, frames = 0;
  cli_spec one[] = {{"--frames", CLI_INT, &frames, 1, 10}};
  char **argv = ARGS("--other", "--frames", "3");
  CHECK(cli_take(4, argv, &i, one, 1) == 0 && i == 1, "another option is not taken");
  i = 2;
  CHECK(cli_take(4, argv, &i, one, 1) == 1 && i == 3 && frames == 3, "taken: i %d frames %d", i,
        frames);
}

static void test_train_options(void) {
  train_config cfg, def;
  train_config_defaults(&cfg);
  train_config_defaults(&def);
  char **argv = ARGS("--data", "faces", "--epochs", "7", "--lr", "0.0005", "--no-augment",
                     "--class-weights", "inverse", "--window");
  int argc = 11, epochs_given = 0, taken = 0;
  for (int i = 1; i < argc; i++) {
    int rc = train_config_option(&cfg, argc, argv, &i, &epochs_given);
    if (rc == 1) taken++;
    else CHECK(rc == 0 && strcmp(argv[i], "--window") == 0, "rc %d at %s", rc, argv[i]);
  }
  CHECK(taken == 5 && strcmp(cfg.data_dir, "faces") == 0 && cfg.epochs == 7 &&
            cfg.lr == 0.0005f && cfg.augment == 0 && cfg.weights == WEIGHTS_INVERSE &&
            epochs_given == 1,
        "taken %d data %s epochs %d lr %g augment %d weights %d", taken, cfg.data_dir,
        cfg.epochs, cfg.lr, cfg.augment, (int)cfg.weights);
  CHECK(cfg.batch == def.batch && cfg.seed == def.seed, "untouched settings keep defaults");

  int i = 1;
  train_config c2 = def;
  CHECK(train_config_option(&c2, 3, ARGS("--epochs", "0"), &i, &epochs_given) == -1,
        "--epochs 0 rejected");
  i = 1;
  CHECK(train_config_option(&c2, 3, ARGS("--class-weights", "some"), &i, &epochs_given) == -1,
        "unknown choice rejected");

  /* every option in the help, once */
  char *help = NULL;
  size_t help_len = 0;
  FILE *f = open_memstream(&help, &help_len);
  train_config_help(f);
  fclose(f);
  const char *must[] = {"--data DIR", "--epochs N", "--lr F", "--no-augment", "--class-weights M",
                        "--init MODEL", "--val-split F", "--swa N", "--erase P"};
  for (size_t k = 0; k < sizeof must / sizeof must[0]; k++) {
    const char *at = strstr(help, must[k]);
    CHECK(at && !strstr(at + 1, must[k]), "help lists %s once", must[k]);
  }
  free(help);

  /* the checkpoint text: every key, values exact */
  char *text = NULL;
  size_t len = 0;
  cfg.lr = 0.000123456789f;
  cfg.seed = 18446744073709551615ull;
  CHECK(train_config_format(&cfg, 0, &text, &len) == 0 && text);
  train_config back;
  train_config_defaults(&back);
  int lines = 0;
  for (char *line = text ? strtok(text, "\n") : NULL; line; line = strtok(NULL, "\n")) {
    char *eq = strchr(line, '=');
    CHECK(eq != NULL, "line '%s'", line);
    if (!eq) continue;
    *eq = '\0';
    CHECK(train_config_apply(&back, line, eq + 1) == 1, "key %s value %s", line, eq + 1);
    lines++;
  }
  CHECK(lines > 20, "%d keys", lines);
  CHECK(memcmp(&back, &cfg, sizeof cfg) == 0 || (strcmp(back.data_dir, cfg.data_dir) == 0 &&
                                                 back.lr == cfg.lr && back.seed == cfg.seed &&
                                                 back.augment == 0 && back.epochs == 7),
        "round trip: lr %.9g seed %llu", back.lr, (unsigned long long)back.seed);
  CHECK(train_config_apply(&back, "epochs", "7x") == -1, "bad value");
  CHECK(train_config_apply(&back, "colour", "red") == 0, "unknown key");
  free(text);

  char line[2048];
  train_config_log_line(&cfg, line, sizeof line);
  CHECK(strstr(line, "epochs=7") && strstr(line, "batch=") && !strstr(line, "data_dir="),
        "log line: %s", line);
}

int main(void) {
  test_cli_tables();
  test_train_options();
  return check_finish("test_options");
}
