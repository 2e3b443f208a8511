/* live_run: what the tests that drive the emocam binary share: running it
 * with a time limit, an optional signal and extra environment, reading what
 * it printed, and checking the CSV it wrote. */
#ifndef TESTS_LIVE_RUN_H
#define TESTS_LIVE_RUN_H

#include <sys/types.h>

/* Set by the program before any run: its scratch folder and tiny model. */
extern char live_tmp[256];
extern char live_model[300];

/* The CSV header a 7-class model's run writes. */
extern const char *live_csv_header;

typedef struct {
  const char *env[6];   /* extra NAME=VALUE for the child, NULL-terminated */
  int signal_after_ms;  /* >0: send `sig` this long after the start */
  int sig;
  int timeout_ms;       /* kill -9 and fail after this */
} run_opts;

/* Runs emocam with argv (argv[0] ignored), stdout/stderr into files of
 * live_tmp. Returns the exit code, or -1 if it did not exit normally in
 * time (a failed check). */
int run(char **argv, const run_opts *o);
/* A whole file (malloc'd, NUL-terminated), or NULL. */
char *slurp(const char *path);
/* What the last run printed on stderr (malloc'd), or NULL. */
char *run_stderr(void);
/* Checks a CSV written by emocam (see live_run.c); returns its frames. */
int check_csv(const char *path, long *last_frame);
int count_lines(const char *path);
int exists(const char *p);
/* Makes live_tmp and the tiny model in it. Returns 0 or -1. */
int live_setup(void);
/* Removes live_tmp. */
void live_cleanup(void);

#endif
