/* source: what a camera and a video source share: the ring, the one capture
 * thread and its lifecycle. camera.c and video.c fill in `run` and `destroy`.
 */
#ifndef CAPTURE_SOURCE_H
#define CAPTURE_SOURCE_H

#include <pthread.h>

#include "capture.h"
#include "ring.h"

struct capture_source {
  ring *ring; /* shared with the thread; all its fields behind ring->lock */
  pthread_t thread;
  int thread_started;
  void *impl;                  /* camera or video state: the thread's alone */
  void (*run)(capture_source *src);  /* thread body; returns when done or aborted */
  void (*destroy)(void *impl); /* frees impl after the thread is joined */
};

/* Allocates a source with a ring of width x height slots. NULL on no memory. */
capture_source *source_create(int width, int height, capture_delivery delivery);
/* Starts the thread running src->run. CAPTURE_OK or CAPTURE_ERROR (err set). */
int source_start(capture_source *src, const char *name, char *err, size_t errlen);

#endif
