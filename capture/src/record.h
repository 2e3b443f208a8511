/* record: writes RGB24 frames losslessly (FFV1 as BGR0, in Matroska, with
 * millisecond timestamps), so a camera session replays exactly through
 * capture_open_video. Used by the camera thread only.
 */
#ifndef CAPTURE_RECORD_H
#define CAPTURE_RECORD_H

#include <stddef.h>
#include <stdint.h>

typedef struct recorder recorder;

/* Creates path and writes the header. CAPTURE_OK or CAPTURE_ERROR (err names
 * the file). */
int recorder_open(recorder **out, const char *path, int width, int height, double fps,
                  char *err, size_t errlen);
/* rgb: width * height * 3, stride width * 3; pts_s increasing. */
int recorder_write(recorder *r, const uint8_t *rgb, double pts_s, char *err, size_t errlen);
/* Flushes, writes the trailer and frees; NULL ok. */
int recorder_close(recorder *r, char *err, size_t errlen);

#endif
