/* session_log: reads a live run's CSV (see session_log.h). */
#include "reports/session_log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS (SESSION_MAX_CLASSES + 12)

static int fail(char *err, size_t errlen, const char *path, long line, const char *fmt,
                const char *what) {
  char msg[512];
  snprintf(msg, sizeof msg, fmt, what ? what : "");
  if (line > 0) snprintf(err, errlen, "%s:%ld: %s", path, line, msg);
  else snprintf(err, errlen, "%s: %s", path, msg);
  return -1;
}

/* Splits line in place at commas into at most MAX_FIELDS fields. */
static int split(char *line, char **f) {
  int n = 0;
  for (char *p = line;; p++) {
    if (n == MAX_FIELDS) return MAX_FIELDS + 1;
    f[n++] = p;
    p = strchr(p, ',');
    if (!p) break;
    *p = '\0';
  }
  return n;
}

static int to_long(const char *s, long long *v) {
  char *end;
  errno = 0;
  *v = strtoll(s, &end, 10);
  return end != s && *end == '\0' && errno == 0 ? 0 : -1;
}

static int to_double(const char *s, double *v) {
  char *end;
  errno = 0;
  *v = strtod(s, &end);
  return end != s && *end == '\0' && errno == 0 ? 0 : -1;
}

int session_log_class(const session_log *log, const char *name) {
  for (int k = 0; k < log->num_classes; k++)
    if (!strcmp(log->class_names[k], name)) return k;
  return -1;
}

/* The header: frame,time_s,face,x,y,w,h,label,confidence,p_<class>...,
 * smoothed_label[,track]. Fills the classes. */
static int read_header(session_log *log, char *line, char *err, size_t errlen) {
  static const char *const fixed[] = {"frame", "time_s", "face", "x", "y",
                                      "w",     "h",      "label", "confidence"};
  char *f[MAX_FIELDS + 1];
  int n = split(line, f);
  if (n > MAX_FIELDS)
    return fail(err, errlen, log->path, 1, "header has more than %s columns", "76");
  for (int i = 0; i < 9; i++)
    if (i >= n || strcmp(f[i], fixed[i]))
      return fail(err, errlen, log->path, 1,
                  "header is not emocam's CSV (frame,time_s,face,x,y,w,h,label,confidence,"
                  "p_<class>...,smoothed_label,track): column '%s'",
                  i < n ? f[i] : "(missing)");
  int k = 0;
  while (9 + k < n && !strncmp(f[9 + k], "p_", 2)) {
    if (!(log->class_names[k] = strdup(f[9 + k] + 2)))
      return fail(err, errlen, log->path, 1, "out of memory%s", NULL);
    k++;
  }
  log->num_classes = k;
  if (k < 1) return fail(err, errlen, log->path, 1, "header has no p_<class> columns%s", NULL);
  if (9 + k >= n || strcmp(f[9 + k], "smoothed_label"))
    return fail(err, errlen, log->path, 1, "header has no smoothed_label column after the p_ "
                                           "columns%s", NULL);
  log->has_track = 9 + k + 1 < n && !strcmp(f[9 + k + 1], "track");
  if (n != 9 + k + 1 + log->has_track)
    return fail(err, errlen, log->path, 1, "header has an unknown column '%s'",
                f[9 + k + 1 + log->has_track]);
  return 0;
}

static int read_row(session_log *log, long i, char *line, long lineno, char *err,
                    size_t errlen) {
  const int K = log->num_classes, want = 9 + K + 1 + log->has_track;
  char *f[MAX_FIELDS + 1];
  int n = split(line, f);
  if (n != want) {
    char msg[64];
    snprintf(msg, sizeof msg, "%d fields, expected %d", n > MAX_FIELDS ? MAX_FIELDS : n, want);
    return fail(err, errlen, log->path, lineno, "%s", msg);
  }
  session_row *r = &log->rows[i];
  long long v[7];
  static const int ints[] = {0, 2, 3, 4, 5, 6};
  for (int j = 0; j < 6; j++)
    if (to_long(f[ints[j]], &v[j]))
      return fail(err, errlen, log->path, lineno, "'%s' is not a whole number", f[ints[j]]);
  if (to_double(f[1], &r->t)) return fail(err, errlen, log->path, lineno, "time '%s' is not a number", f[1]);
  r->frame = v[0];
  r->face = (int)v[1];
  r->x = (int)v[2], r->y = (int)v[3], r->w = (int)v[4], r->h = (int)v[5];
  r->raw = session_log_class(log, f[7]);
  r->shown = session_log_class(log, f[9 + K]);
  if (r->raw < 0) return fail(err, errlen, log->path, lineno, "label '%s' is not a class", f[7]);
  if (r->shown < 0)
    return fail(err, errlen, log->path, lineno, "smoothed_label '%s' is not a class", f[9 + K]);
  float *p = log->probs + (size_t)i * K;
  for (int k = 0; k < K; k++) {
    double d;
    if (to_double(f[9 + k], &d) || !(d >= 0 && d <= 1))
      return fail(err, errlen, log->path, lineno, "probability '%s' is not a number in 0..1",
                  f[9 + k]);
    p[k] = (float)d;
  }
  r->track = r->face;
  if (log->has_track) {
    if (to_long(f[9 + K + 1], &v[6]) || v[6] < -1 || v[6] > 1000000000)
      return fail(err, errlen, log->path, lineno, "track '%s' is not an id", f[9 + K + 1]);
    r->track = (int)v[6];
  }
  if (r->face < -1) return fail(err, errlen, log->path, lineno, "face '%s' is below -1", f[2]);
  return 0;
}

static char *slurp(const char *path, size_t *len, char *err, size_t errlen) {
  FILE *fp = fopen(path, "rb");
  if (!fp) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return NULL;
  }
  char *buf = NULL;
  size_t cap = 0, n = 0, got;
  do {
    if (n + 65536 + 1 > cap) {
      cap = cap ? cap * 2 : 1 << 20;
      char *nb = realloc(buf, cap);
      if (!nb) {
        free(buf);
        fclose(fp);
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
      }
      buf = nb;
    }
    got = fread(buf + n, 1, cap - n - 1, fp);
    n += got;
  } while (got > 0);
  int bad = ferror(fp);
  fclose(fp);
  if (bad) {
    free(buf);
    snprintf(err, errlen, "%s: read error", path);
    return NULL;
  }
  buf[n] = '\0';
  *len = n;
  return buf;
}

int session_log_read(session_log *log, const char *path, char *err, size_t errlen) {
  memset(log, 0, sizeof *log);
  snprintf(log->path, sizeof log->path, "%s", path);
  size_t len;
  char *text = slurp(path, &len, err, errlen);
  if (!text) return -1;
  long lines = 0;
  for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
  int rc = -1;
  if (len == 0) {
    fail(err, errlen, path, 0, "empty, expected emocam's CSV (run with --csv)%s", NULL);
    goto done;
  }
  if (text[len - 1] != '\n') {
    fail(err, errlen, path, lines + 1, "the last line is cut short (no newline): the file is "
                                       "truncated%s", NULL);
    goto done;
  }
  char *line = text, *nl = strchr(line, '\n');
  *nl = '\0';
  if (nl > line && nl[-1] == '\r') nl[-1] = '\0';
  if (read_header(log, line, err, errlen)) goto done;
  log->rows = malloc(sizeof *log->rows * (size_t)(lines > 1 ? lines - 1 : 1));
  log->probs = malloc(sizeof(float) * (size_t)log->num_classes * (size_t)(lines > 1 ? lines : 1));
  if (!log->rows || !log->probs) {
    fail(err, errlen, path, 0, "out of memory for %s rows", NULL);
    goto done;
  }
  long lineno = 1;
  for (line = nl + 1; *line; line = nl + 1) {
    lineno++;
    nl = strchr(line, '\n');
    *nl = '\0';
    if (nl > line && nl[-1] == '\r') nl[-1] = '\0';
    if (!*line) continue;
    if (read_row(log, log->nrows, line, lineno, err, errlen)) goto done;
    log->nrows++;
  }
  if (log->nrows == 0) {
    fail(err, errlen, path, 0, "no rows after the header%s", NULL);
    goto done;
  }
  rc = 0;
done:
  free(text);
  if (rc) session_log_free(log);
  return rc;
}

void session_log_free(session_log *log) {
  if (!log) return;
  for (int k = 0; k < log->num_classes; k++) free(log->class_names[k]);
  free(log->rows);
  free(log->probs);
  char path[sizeof log->path];
  memcpy(path, log->path, sizeof path);
  memset(log, 0, sizeof *log);
  memcpy(log->path, path, sizeof path);
}
