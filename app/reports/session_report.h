/* session_report: the folder `--report DIR` and `emocam report` write for a
 * recorded session: timeline.png, summary.json, a short summary.txt and a
 * self-contained report.html (no network: images inlined), from the run's
 * CSV; optionally a second model's CSV of the same video (agreement, Cohen's
 * kappa, the stretches where they disagree) and the video itself (a
 * thumbnail of the face at the peak of each emotion). */
#ifndef APP_SESSION_REPORT_H
#define APP_SESSION_REPORT_H

#include <stddef.h>

typedef struct {
  const char *csv;           /* the run's CSV (required) */
  const char *compare_csv;   /* a second model's CSV of the same frames, or NULL */
  const char *video;         /* the video the rows came from (thumbnails), or NULL */
  const char *model;         /* the model that wrote csv, as named to the user, or NULL */
  const char *model_made_by; /* its "made_by" metadata (emocam version, command), or NULL */
  const char *compare_model; /* the model that wrote compare_csv, or NULL */
  float smooth_s;            /* time constant of the smoothed curves */
  int quiet;                 /* no "report: DIR/..." line on stdout */
} session_report_inputs;

/* Writes the report into dir (made if missing; each file replaced
 * atomically). Returns 0, or -1 with err naming the file and the problem. */
int session_report_write(const char *dir, const session_report_inputs *in, char *err,
                         size_t errlen);

#endif
