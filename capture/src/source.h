/* source: what a camera and a video source share: the ring, the one capture
 * thread and its lifecycle. camera.c and video.c each hand source_launch a
 * source_spec: their state, thread body, destructor and granted format.
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

/* What camera.c or video.c hands to source_launch. */
typedef struct {
  void *impl;                       /* camera or video state; the source's from then on */
  void (*run)(capture_source *src); /* the thread body */
  void (*destroy)(void *impl);
  const char *name;                 /* device or path, for messages; borrowed */
  capture_delivery delivery;
  capture_stats granted; /* width, height (the ring's slots), fps, pixel_format */
} source_spec;

/* Creates a source around spec->impl, publishes the granted stats, starts
 * its thread and stores the source in *out. CAPTURE_OK, or CAPTURE_ERROR
 * with err set, spec->impl destroyed and *out left alone. */
int source_launch(capture_source **out, const source_spec *spec, char *err, size_t errlen);

#endif
