/* bench_video: headless speed of the live pipeline on a video file: the
 * capture half (decode, RGB24 conversion, face detection, crop-and-resize to
 * CNN input), or with a model the whole path per frame. `emocam bench
 * --video FILE` calls it.
 */
#ifndef APP_BENCH_VIDEO_H
#define APP_BENCH_VIDEO_H

#include "common/classifier.h"

/* Decodes every frame of path (CAPTURE_ALL, unpaced), crops the centre square
 * scaled by crop_scale (or, with cascade_path, runs the face detector and
 * crops the largest face, the centre square when there is none) and resizes
 * it to out_c x out_h x out_w floats. Prints frames, wall time, frames per
 * second, the median crop-and-resize cost in microseconds and the median
 * detection cost in ms, as text or (json != 0) one JSON object, to stdout.
 * Errors go to stderr as "emocam: ...". Returns the process exit code: 0, or
 * 1.
 * With cl (not NULL), instead every frame goes through the live recipe
 * (frame.c: every face up to FACES_DEFAULT_MAX cropped, cl run on them, the
 * smoothing), and the medians per frame of detection, crop-and-resize,
 * network and smoothing are printed with the capture thread's mean decode
 * cost, their total and the CPU seconds per second of video at 30 fps. */
int bench_video_run(const char *path, classifier *cl, int out_c, int out_h, int out_w,
                    float crop_scale, const char *cascade_path, int json);

#endif
