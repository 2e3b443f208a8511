/* live_report: --report DIR on a live run (window or headless, camera or
 * video): the run's CSV goes to DIR/session.csv unless --csv names one,
 * and when the run ends the session report is written there; with
 * --compare-model OTHER.emo the other model first runs over the same frames
 * (the video, or the camera's --record file) into DIR/compare.csv. */
#ifndef APP_LIVE_REPORT_H
#define APP_LIVE_REPORT_H

#include <signal.h>
#include <stddef.h>

#include "capture_face.h"
#include "common/classifier.h"
#include "live/live.h"

/* Before the run: checks the options, makes DIR and points o->csv at
 * DIR/session.csv (in csv_buf) when no --csv was given. Returns 0, or the
 * exit code after a message. */
int live_report_prepare(live_opts *o, char *csv_buf, size_t len);

/* After the run: the other model's pass and the report. Returns the exit
 * code. */
int live_report_finish(const live_opts *o, const classifier *cl,
                       capture_face_detector *detector, float crop_scale,
                       const volatile sig_atomic_t *stop);

#endif
