/* face_group: the raw detector hits grouped into faces (cv::groupRectangles)
 * and the faces put in order. Private to capture/face; allocates nothing.
 */
#ifndef CAPTURE_FACE_GROUP_H
#define CAPTURE_FACE_GROUP_H

#include <stdint.h>

#include "capture.h"

typedef struct {
  int64_t x, y, w, h; /* sums over the class's raw hits */
  int n;
} fd_class;

/* Groups the n raw hits[0..n) into classes of similar boxes (transitive
 * closure, as cv::partition), averages each class, keeps those with at least
 * min_neighbors hits and drops a box inside a larger, better supported one
 * (cv::groupRectangles' rule). label[n] and cls[n] are scratch, and hits is
 * overwritten with the class averages. Returns how many boxes were kept, in
 * out[0..return). */
int fd_group(capture_rect *hits, int n, int min_neighbors, int *label, fd_class *cls,
             capture_rect *out);

/* Sorts r[0..n) largest first (ties: top, then left). Insertion sort: a frame
 * has few boxes, and unlike qsort it never allocates. */
void fd_sort(capture_rect *r, int n);

#endif
