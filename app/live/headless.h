/* headless: the live pipeline as a batch job, without a window: every frame
 * through the face stage, crop-and-resize and the CNN, logged by log.h.
 */
#ifndef APP_HEADLESS_H
#define APP_HEADLESS_H

#include <signal.h>
#include <stdint.h>

#include "capture.h"
#include "capture_face.h"
#include "common/classifier.h"

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
  const char *collect_dir; /* NULL, or save each labelled frame's face crop
                              there under its label (needs labels_path) */
  int loop;                /* 1: a video starts again at its end (needs
                              max_frames) */
  const char *video_path;  /* the video to reopen for loop */
} headless_opts;

/* Runs *src (borrowed, open; with loop, replaced by the video opened again
 * at each end, the caller closing the last one) through cl (borrowed) until
 * EOF, max_frames or a stop signal. Prints errors as "emocam: ..." and the summary on stderr.
 * Returns the exit code: 0 (end, limit or signal), 1 (runtime error, camera
 * lost, CSV not writable or labels file invalid). */
int headless_run(capture_source **src, classifier *cl, const headless_opts *opts);

#endif
