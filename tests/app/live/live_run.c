/* live_run: running the emocam binary from tests, and checking its CSV. */
#include "live_run.h"

#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "test_support.h"

#define K TEST_CLASSES

char live_tmp[256];
char live_model[300];
const char *live_csv_header =
    "frame,time_s,face,x,y,w,h,label,confidence,p_angry,p_disgust,p_fear,p_happy,p_neutral,p_sad,p_surprise,"
    "smoothed_label,track";

/* Runs emocam with argv (argv[0] ignored), stdout/stderr into files of tmp.
 * Returns the exit code, or -1 if it did not exit normally in time. */
int run(char **argv, const run_opts *o) {
  char out[300], errf[300];
  snprintf(out, sizeof out, "%s/stdout", live_tmp);
  snprintf(errf, sizeof errf, "%s/stderr", live_tmp);
  pid_t pid = fork();
  if (pid == 0) {
    int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int fe = open(errf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fo, 1);
    dup2(fe, 2);
    for (int i = 0; o && o->env[i]; i++) putenv((char *)o->env[i]);
    argv[0] = (char *)EMOCAM_BIN;
    execv(EMOCAM_BIN, argv);
    _exit(127);
  }
  int status = 0, waited = 0, signalled = 0;
  int timeout = o && o->timeout_ms ? o->timeout_ms : 60000;
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (o && o->signal_after_ms > 0 && !signalled && waited >= o->signal_after_ms) {
      kill(pid, o->sig);
      signalled = 1;
    }
    if (waited >= timeout) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      check_fail_at(__FILE__, __LINE__, "emocam did not exit within %d ms", timeout);
      return -1;
    }
    usleep(10000);
    waited += 10;
  }
  if (!WIFEXITED(status)) {
    check_fail_at(__FILE__, __LINE__, "emocam died of signal %d", WTERMSIG(status));
    return -1;
  }
  return WEXITSTATUS(status);
}

char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  rewind(f);
  char *s = malloc((size_t)n + 1);
  size_t got = fread(s, 1, (size_t)n, f);
  s[got] = '\0';
  fclose(f);
  return s;
}

char *run_stderr(void) {
  char p[300];
  snprintf(p, sizeof p, "%s/stderr", live_tmp);
  return slurp(p);
}

/* Checks a CSV written by emocam: exact header, rows complete (18 fields,
 * probabilities summing to 1, label = argmax, known smoothed label, a box
 * inside the frame), a frame's first row face 0 (or -1: the centre square)
 * and its further faces numbered on, frame numbers increasing. Returns the
 * number of frames; *last_frame the last frame. */
int check_csv(const char *path, long *last_frame) {
  char *s = slurp(path);
  CHECK(s != NULL, "%s missing", path);
  if (!s) return -1;
  size_t len = strlen(s);
  CHECK(len > 0 && s[len - 1] == '\n', "%s does not end with a complete line", path);
  char *save = NULL;
  char *line = strtok_r(s, "\n", &save);
  CHECK(line && strcmp(line, live_csv_header) == 0, "header is '%s'", line ? line : "(none)");
  int rows = 0, frames = 0;
  long prev = -1, prev_face = -1;
  while ((line = strtok_r(NULL, "\n", &save))) {
    char *f[20], *sv = NULL;
    int n = 0;
    for (char *t = strtok_r(line, ",", &sv); t && n < 20; t = strtok_r(NULL, ",", &sv)) f[n++] = t;
    CHECK(n == 18, "row %d has %d fields", rows + 1, n);
    if (n != 18) break;
    long frame = strtol(f[0], NULL, 10), face = strtol(f[2], NULL, 10);
    long bx = strtol(f[3], NULL, 10), by = strtol(f[4], NULL, 10);
    long bw = strtol(f[5], NULL, 10), bh = strtol(f[6], NULL, 10);
    if (face <= 0) {
      CHECK(frame > prev, "row %d: frame %ld after %ld", rows + 1, frame, prev);
      frames++;
    } else {
      CHECK(frame == prev && face == prev_face + 1, "row %d: face %ld of frame %ld after face %ld of %ld",
            rows + 1, face, frame, prev_face, prev);
    }
    CHECK(bw > 0 && bh > 0 && bx > -bw && by > -bh, "row %d: box %ld,%ld %ldx%ld", rows + 1, bx,
          by, bw, bh);
    prev = frame;
    prev_face = face;

    double sum = 0, best = -1;
    int arg = -1;
    for (int c = 0; c < K; c++) {
      double p = strtod(f[9 + c], NULL);
      sum += p;
      if (p > best) best = p, arg = c;
    }
    CHECK(sum > 0.999 && sum < 1.001, "row %d: probabilities sum to %f", rows + 1, sum);
    CHECK(strcmp(f[7], test_class_names[arg]) == 0, "row %d: label %s, argmax %s", rows + 1, f[7],
          test_class_names[arg]);
    CHECK(fabs(strtod(f[8], NULL) - best) < 1e-4, "row %d: confidence %s, max %f", rows + 1, f[8],
          best);
    int known = 0;
    for (int c = 0; c < K; c++) known |= strcmp(f[16], test_class_names[c]) == 0;
    CHECK(known, "row %d: smoothed_label '%s'", rows + 1, f[16]);
    long track = strtol(f[17], NULL, 10);
    CHECK(face < 0 ? track == -1 : track >= 0, "row %d: face %ld with track %ld", rows + 1, face,
          track);
    rows++;
  }
  free(s);
  if (last_frame) *last_frame = prev;
  return frames;
}

int count_lines(const char *path) {
  char *s = slurp(path);
  int n = 0;
  for (char *c = s; c && *c; c++) n += *c == '\n';
  free(s);
  return n;
}

int exists(const char *p) { return access(p, R_OK) == 0; }

int live_setup(void) {
  snprintf(live_tmp, sizeof live_tmp, "/tmp/test_live_XXXXXX");
  if (!mkdtemp(live_tmp)) {
    perror("mkdtemp");
    return -1;
  }
  snprintf(live_model, sizeof live_model, "%s/tiny.emo", live_tmp);
  test_save_tiny_model(live_model, TEST_ARCH_TWO_CONV, 11);
  return 0;
}

void live_cleanup(void) {
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", live_tmp);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", live_tmp);
}
