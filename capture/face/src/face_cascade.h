/* face_cascade: the in-memory form of an OpenCV Haar cascade (BOOST stages of
 * decision stumps over upright Haar features), shared by the XML reader
 * (face_cascade.c) and the detector (face_detect.c). Private to capture/.
 */
#ifndef CAPTURE_FACE_CASCADE_H
#define CAPTURE_FACE_CASCADE_H

#include "capture_face.h"

/* OpenCV's Haar features have at most three rectangles. */
#define CASCADE_MAX_RECTS 3
/* Largest detection window accepted from a file (OpenCV's are 20..24 px). */
#define CASCADE_MAX_WIN 64

typedef struct {
  int x, y, w, h; /* inside the win_w x win_h window */
  float weight;
} cascade_rect;

typedef struct {
  int nrects; /* 1..CASCADE_MAX_RECTS */
  cascade_rect r[CASCADE_MAX_RECTS];
} cascade_feature;

/* One weak classifier: value < threshold ? left : right, where value is the
 * feature's weighted rectangle sum divided by the window's std-dev factor. */
typedef struct {
  int feature; /* index into features, checked at load */
  float threshold, left, right;
} cascade_stump;

/* A stage passes when the sum of its stumps' leaves is >= threshold. */
typedef struct {
  int first, count; /* stumps[first .. first+count-1] */
  float threshold;  /* already lowered by OpenCV's 1e-5 epsilon */
} cascade_stage;

struct capture_cascade {
  int win_w, win_h; /* detection window, e.g. 24 x 24 */
  int nstages, nstumps, nfeatures;
  cascade_stage *stages;     /* [nstages] */
  cascade_stump *stumps;     /* [nstumps], stage by stage */
  cascade_feature *features; /* [nfeatures] */
};

#endif
