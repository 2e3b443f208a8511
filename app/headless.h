/* headless: the live pipeline as a batch job, without a window: every frame
 * through crop-and-resize and the CNN, one CSV row per frame (raw
 * probabilities and the label the window would have shown), and a summary on
 * stderr, optionally scored against a per-frame labels file (label, and the
 * face box when the file has x,y,w,h columns).
 */
#ifndef APP_HEADLESS_H
#define APP_HEADLESS_H

#include <signal.h>
#include <stdint.h>

#include "capture.h"
#include "classifier.h"

typedef struct {
  const char *csv_path;    /* NULL: no CSV; "-": stdout */
  const char *labels_path; /* NULL, or a CSV with `frame` and `label` columns */
  int64_t max_frames;      /* stop after this many frames; 0: until EOF/signal */
  float smooth_s;          /* EMA time constant of the shown label; 0: raw */
  float crop_scale;        /* centre crop scale, 0.2 .. 1 */
  capture_face_detector *detector; /* borrowed; NULL: --crop center */
  int max_faces;           /* with a detector: faces classified per frame */
  int camera;              /* the source is a camera (disconnect: exit 1) */
  const volatile sig_atomic_t *stop; /* set (by a signal handler) to end the
                              run cleanly; NULL: never */
} headless_opts;

/* Runs src (borrowed, open) through cl (borrowed) until EOF, max_frames or a
 * stop signal. Prints errors as "emocam: ..." and the summary on stderr.
 * Returns the exit code: 0 (end, limit or signal), 1 (runtime error, camera
 * lost, CSV not writable or labels file invalid). */
int headless_run(capture_source *src, classifier *cl, const headless_opts *opts);

/* The per-frame record both the window and headless runs keep: CSV rows and
 * the tallies of the end-of-run summary. */
typedef struct headless_log headless_log;

/* Opens csv_path (NULL: none, "-": stdout) and writes the header
 * `frame,time_s,face,x,y,w,h,label,confidence,p_<class>...,smoothed_label`
 * (face: 0 for the largest face, 1 the next...; -1 for the centre square;
 * x,y,w,h: the crop classified, in frame pixels); reads
 * labels_path (NULL: none) for scoring. cl is borrowed and must outlive the
 * log. Returns 0, or -1 with err naming the file. */
int headless_log_open(headless_log **out, const classifier *cl, const char *csv_path,
                      const char *labels_path, char *err, size_t errlen);
/* One crop of a processed frame: face index (see above), its box, raw
 * probabilities [num_classes], raw and shown label. A frame's first row
 * (face 0 or -1) is the one counted and scored. Allocates nothing. */
void headless_log_frame(headless_log *lg, int64_t frame, double time_s, int face,
                        capture_rect box, const float *probs, int raw, int shown);
/* Frames logged so far. */
int64_t headless_log_frames(const headless_log *lg);
/* Prints the summary to stderr (frames, rate over `seconds`, share of each
 * raw label, shown label changes, accuracy against the labels file). */
void headless_log_summary(const headless_log *lg, double seconds, int interrupted);
/* Flushes and closes the CSV and frees the log (NULL ok). Returns 0, or -1
 * after printing "emocam: <csv>: write error". */
int headless_log_close(headless_log *lg);

/* Reads a labels CSV (header with `frame` and `label` columns, in any order;
 * other columns ignored) into *labels_out: [*count_out] class indices of
 * class_names by frame number, -1 for frames it does not list. When boxes_out
 * is not NULL and the header also has x, y, w and h, *boxes_out gets
 * [*count_out] boxes by frame (w = 0 where not listed), else NULL. Returns 0,
 * or -1 with err naming the file, line and problem. The arrays are malloc'd. */
int headless_read_labels(const char *path, const char *const *class_names, int num_classes,
                         int **labels_out, capture_rect **boxes_out, int64_t *count_out,
                         char *err, size_t errlen);

#endif
