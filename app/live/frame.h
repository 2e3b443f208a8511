/* frame: the per-frame recipe of the live path, written once for the window
 * and the headless run: the face stage decides the crops (detect, track,
 * frame), each is cropped and resized into the network's input; the CNN runs
 * (in the window on the pipeline's worker thread, headless right here); its
 * probabilities update each face's smoothing and become the log's rows.
 */
#ifndef APP_LIVE_FRAME_H
#define APP_LIVE_FRAME_H

#include <stdint.h>

#include "common/classifier.h"
#include "live/faces.h"
#include "live/log.h"

/* Detect, frame, crop and resize: the crops of img (time t_s) into input
 * [FACES_MAX, c, h, w] of cl's shape and their tags into tags[FACES_MAX].
 * *crop_ms gets the crop-and-resize time. Returns the number of crops
 * (>= 1), or -1 when the detector ran out of memory. */
int frame_crop(face_stage *fs, const classifier *cl, const capture_image *img, double t_s,
               float *input, crop_tag *tags, double *crop_ms);

/* The CNN's probabilities [n, num_classes] of a frame's n crops (tags from
 * frame_crop), dt_s after the previous result: each face's smoothing moves
 * on and every crop still followed becomes a row of log (NULL: none). */
void frame_results(face_stage *fs, const classifier *cl, live_log *log, int64_t seq,
                   double pts_s, double dt_s, int n, const crop_tag *tags, const float *probs);

/* Time since the previous result for the smoothing: the time stamps'
 * difference, the nominal frame interval when they do not advance, 0 for
 * the first result. */
double frame_dt(int first, double pts_s, double prev_pts_s, double nominal_dt);

#endif
