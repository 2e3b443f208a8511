/* log: the per-frame record both the window and headless runs keep: CSV
 * rows (raw probabilities and the label the window would have shown) and the
 * tallies of the end-of-run summary on stderr, optionally scored against a
 * per-frame labels file (label, and the face box when the file has x,y,w,h
 * columns).
 */
#ifndef APP_LIVE_LOG_H
#define APP_LIVE_LOG_H

#include <stdint.h>

#include "capture.h"
#include "common/classifier.h"

typedef struct live_log live_log;

/* Opens csv_path (NULL: none, "-": stdout) and writes the header
 * `frame,time_s,face,x,y,w,h,label,confidence,p_<class>...,smoothed_label,track`
 * (face: 0 for the largest face, 1 the next...; -1 for the centre square;
 * track: the face tracker's id, stable while the face stays in view, -1 for
 * the centre square;
 * x,y,w,h: the crop classified, in frame pixels); reads
 * labels_path (NULL: none) for scoring. cl is borrowed and must outlive the
 * log. Returns 0, or -1 with err naming the file. */
int live_log_open(live_log **out, const classifier *cl, const char *csv_path,
                      const char *labels_path, char *err, size_t errlen);
/* One crop of a processed frame: face index and track (see above), its box, raw
 * probabilities [num_classes], raw and shown label. A frame's first row
 * (face 0 or -1) is the one counted and scored. Allocates nothing. */
void live_log_frame(live_log *lg, int64_t frame, double time_s, int face, int track,
                    capture_rect box, const float *probs, int raw, int shown);
/* Frames logged so far. */
int64_t live_log_frames(const live_log *lg);
/* Prints the summary to stderr (frames, rate over `seconds`, share of each
 * raw label, shown label changes, accuracy against the labels file). */
void live_log_summary(const live_log *lg, double seconds, int interrupted);
/* Flushes and closes the CSV and frees the log (NULL ok). Returns 0, or -1
 * after printing "emocam: <csv>: write error". */
int live_log_close(live_log *lg);

/* Reads a labels CSV (header with `frame` and `label` columns, in any order;
 * other columns ignored) into *labels_out: [*count_out] class indices of
 * class_names by frame number, -1 for frames it does not list. When boxes_out
 * is not NULL and the header also has x, y, w and h, *boxes_out gets
 * [*count_out] boxes by frame (w = 0 where not listed), else NULL. Returns 0,
 * or -1 with err naming the file, line and problem. The arrays are malloc'd. */
int live_read_labels(const char *path, const char *const *class_names, int num_classes,
                         int **labels_out, capture_rect **boxes_out, int64_t *count_out,
                         char *err, size_t errlen);

#endif
