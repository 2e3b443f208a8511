/* live: the live room's entry points: a run in the window or headless on a
 * camera or a video, as `emocam` (commands/cmd_live.c) sets it up.
 */
#ifndef APP_LIVE_LIVE_H
#define APP_LIVE_LIVE_H

#include <signal.h>

#include "capture.h"
#include "capture_face.h"
#include "common/classifier.h"

#define LIVE_DEFAULT_CAMERA "/dev/video0"

/* What a live run was asked for (the options of `emocam`). */
enum { CROP_DEFAULT, CROP_CENTER, CROP_FACE };

typedef struct {
  const char *camera, *video, *model, *csv, *labels, *record, *screenshot, *cascade;
  const char *collect; /* --collect DIR: labelled crops saved there */
  const char *report;  /* --report DIR: the session report, written at the end */
  const char *compare_model; /* --compare-model: a second model for the report */
  int loop;            /* --loop: a video starts again at its end */
  int crop_mode, max_faces;
  int headless, list_cameras;
  int width, height, fps, size_given, fps_given;
  float smooth_s, crop_scale;
  int crop_scale_given;
  int frames; /* 0: no limit */
} live_opts;

/* Opens the run's source: the camera or the video (paced to its frame rate
 * and keeping only the latest frame in the window; every frame, as fast as
 * it decodes, headless). Returns CAPTURE_OK, or CAPTURE_ERROR with err. */
int live_open_source(const live_opts *o, capture_source **src, char *err, size_t errlen);

/* The window: opens it, the overlay, the inference worker and the source,
 * and runs until q/Esc, the window's close, --frames or *stop. cl and
 * detector (NULL: centre crop) are borrowed. Returns the exit code. */
int live_window_run(const live_opts *o, classifier *cl, capture_face_detector *detector,
                    float crop_scale, const volatile sig_atomic_t *stop);

#endif
