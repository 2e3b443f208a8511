/* capture_face: finding frontal faces in frames, the Viola-Jones way: an
 * OpenCV Haar cascade (read from its XML file without an XML library) run
 * over integral images of a downscaled grey copy of the frame. Frames and
 * boxes are capture.h's types; nothing here prints or exits.
 */
#ifndef CAPTURE_FACE_H
#define CAPTURE_FACE_H

#include <stddef.h>

#include "capture.h"

#define CAPTURE_CASCADE_DEFAULT "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"
typedef struct capture_cascade capture_cascade;
/* Loads an OpenCV Haar cascade XML (BOOST, HAAR, stumps). 0, or -1 with err
 * naming the path and what is wrong (missing, unreadable, malformed: which element). */
int capture_cascade_load(capture_cascade **out, const char *path, char *err, size_t errlen);
void capture_cascade_destroy(capture_cascade *c); /* NULL ok */

typedef struct {
  int min_face;        /* smallest face side searched, in source pixels (default 48) */
  int max_face;        /* largest face side searched, in source pixels, give or take one
                          scale step (0: no limit) */
  int detect_width;    /* the frame is first downscaled (area averaging, grey) to at most this width (default 320) */
  float scale_step;    /* pyramid factor between scales (default 1.2) */
  int min_neighbors;   /* grouping: raw hits a face needs (default 3) */
} capture_face_opts;
void capture_face_defaults(capture_face_opts *o);

/* A detector owns its scratch (grey copy, pyramid level, integral and squared
 * integral images), sized on first use and grown only when a larger frame comes;
 * nothing is allocated per frame after that. One per thread; borrows cascade. */
typedef struct capture_face_detector capture_face_detector;
int capture_face_detector_create(capture_face_detector **out, const capture_cascade *c, char *err, size_t errlen);
void capture_face_detector_destroy(capture_face_detector *d); /* NULL ok */
/* Windows the cascade evaluates at once: 8 where the CPU has AVX2, else 4.
 * Asks for 4 or 8 (8 only where the CPU has AVX2) so that tests and
 * benchmarks can compare the two; both find the same faces. Returns the
 * width in use (so lanes 0 only reads it). */
int capture_face_detector_set_lanes(capture_face_detector *d, int lanes);
/* Finds frontal faces in img (any capture_image: grey, RGB24, RGBX). Writes up to max
 * boxes in source pixels, largest first; returns how many (0 = none), or -1 (out of memory). */
int capture_face_detect(capture_face_detector *d, const capture_image *img, const capture_face_opts *o,
                        capture_rect *faces, int max);

#endif
