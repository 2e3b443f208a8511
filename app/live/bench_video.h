/* bench_video: headless speed of the capture half of the pipeline (decode,
 * RGB24 conversion, face detection, crop-and-resize to CNN input) on a video
 * file, without the CNN. `emocam bench --video FILE` calls it.
 */
#ifndef APP_BENCH_VIDEO_H
#define APP_BENCH_VIDEO_H

/* Decodes every frame of path (CAPTURE_ALL, unpaced), crops the centre square
 * scaled by crop_scale (or, with cascade_path, runs the face detector and
 * crops the largest face, the centre square when there is none) and resizes
 * it to out_c x out_h x out_w floats. Prints frames, wall time, frames per
 * second, the median crop-and-resize cost in microseconds and the median
 * detection cost in ms, as text or (json != 0) one JSON object, to stdout.
 * Errors go to stderr as "emocam: ...". Returns the process exit code: 0, or
 * 1. */
int bench_video_run(const char *path, int out_c, int out_h, int out_w, float crop_scale,
                    const char *cascade_path, int json);

#endif
