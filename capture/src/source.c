/* source: the consumer-side API common to cameras and videos, and the one
 * thread per source. capture_close aborts the ring (every wait in the thread
 * checks it) before joining, so it never hangs.
 */
#include "source.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static capture_source *source_create(int width, int height, capture_delivery delivery) {
  capture_source *src = calloc(1, sizeof(*src));
  if (!src) return NULL;
  src->ring = calloc(1, sizeof(*src->ring));
  if (!src->ring || ring_init(src->ring, width, height, delivery) != 0) {
    free(src->ring);
    free(src);
    return NULL;
  }
  return src;
}

static void *source_thread(void *arg) {
  capture_source *src = arg;
  src->run(src);
  ring_set_done(src->ring);
  return NULL;
}

static int source_start(capture_source *src, const char *name, char *err, size_t errlen) {
  if (pthread_create(&src->thread, NULL, source_thread, src) != 0) {
    cap_msg(err, errlen, "%s: cannot start the capture thread", name);
    return CAPTURE_ERROR;
  }
  src->thread_started = 1;
  return CAPTURE_OK;
}

int source_launch(capture_source **out, const source_spec *spec, char *err, size_t errlen) {
  const capture_stats *g = &spec->granted;
  capture_source *src = source_create(g->width, g->height, spec->delivery);
  if (!src) {
    cap_msg(err, errlen, "%s: out of memory for %dx%d frames", spec->name, g->width, g->height);
    spec->destroy(spec->impl);
    return CAPTURE_ERROR;
  }
  ring_update_stats(src->ring, g);
  src->impl = spec->impl;
  src->run = spec->run;
  src->destroy = spec->destroy;
  if (source_start(src, spec->name, err, errlen) != CAPTURE_OK) {
    capture_close(src); /* destroys impl too */
    return CAPTURE_ERROR;
  }
  *out = src;
  return CAPTURE_OK;
}

int capture_next(capture_source *src, capture_frame *frame, int timeout_ms) {
  if (!src || !frame) return CAPTURE_ERROR;
  return ring_take(src->ring, frame, timeout_ms);
}

void capture_release(capture_source *src, capture_frame *frame) {
  if (src) ring_release(src->ring, frame);
}

const char *capture_error(const capture_source *src) {
  if (!src) return "";
  ring *r = src->ring;
  pthread_mutex_lock(&r->lock);
  memcpy(r->err_copy, r->err, sizeof(r->err_copy));
  pthread_mutex_unlock(&r->lock);
  return r->err_copy;
}

void capture_get_stats(const capture_source *src, capture_stats *stats) {
  memset(stats, 0, sizeof(*stats));
  if (!src) return;
  ring *r = src->ring;
  pthread_mutex_lock(&r->lock);
  *stats = r->stats;
  stats->capture_ms = r->capture_n > 0 ? r->capture_ms_sum / (double)r->capture_n : 0.0;
  pthread_mutex_unlock(&r->lock);
}

void capture_close(capture_source *src) {
  if (!src) return;
  ring_abort(src->ring);
  if (src->thread_started) pthread_join(src->thread, NULL);
  if (src->destroy) src->destroy(src->impl);
  ring_free(src->ring);
  free(src->ring);
  free(src);
}
