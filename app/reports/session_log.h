/* session_log: a live run's CSV read back for the session report: the rows
 * emocam writes (see live/log.h), checked line by line, with every class's
 * probability. A CSV written before the `track` column existed is read too;
 * its faces are then told apart by their size rank in each frame. */
#ifndef APP_SESSION_LOG_H
#define APP_SESSION_LOG_H

#include <stddef.h>
#include <stdint.h>

#define SESSION_MAX_CLASSES 64

typedef struct {
  int64_t frame;
  double t;        /* time_s */
  int face;        /* 0 = the largest face of its frame, -1 the centre square */
  int track;       /* the tracker's id; = face where the CSV has no track column */
  int x, y, w, h;  /* the crop classified */
  int raw, shown;  /* label (argmax) and smoothed_label, as class indices */
} session_row;

typedef struct {
  char path[1024];
  int num_classes;
  char *class_names[SESSION_MAX_CLASSES]; /* owned */
  int has_track;    /* the CSV has the track column */
  long nrows;
  session_row *rows;  /* [nrows], in file order */
  float *probs;       /* [nrows, num_classes] raw probabilities */
} session_log;

/* Reads path. Returns 0, or -1 with err = "PATH:LINE: what is wrong" (a
 * short row, a field that is not a number, a label that is not a class, a
 * truncated last line, no rows) and *log empty. */
int session_log_read(session_log *log, const char *path, char *err, size_t errlen);
void session_log_free(session_log *log); /* empty or read; NULL ok */

/* Index of the class named name in log, or -1. */
int session_log_class(const session_log *log, const char *name);

#endif
