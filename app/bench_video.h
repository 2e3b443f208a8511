/* bench_video: headless speed of the capture half of the pipeline (decode,
 * RGB24 conversion, crop-and-resize to CNN input) on a video file, without
 * the CNN. `emocam bench --video FILE` calls it.
 */
#ifndef APP_BENCH_VIDEO_H
#define APP_BENCH_VIDEO_H

/* Decodes every frame of path (CAPTURE_ALL, unpaced), crops the centre square
 * scaled by crop_scale and resizes it to out_c x out_h x out_w floats. Prints
 * frames, wall time, frames per second and the median crop-and-resize cost in
 * microseconds, as text or (json != 0) one JSON object, to stdout. Errors go
 * to stderr as "emocam: ...". Returns the process exit code: 0, or 1. */
int bench_video_run(const char *path, int out_c, int out_h, int out_w, float crop_scale,
                    int json);

#endif
