/* ring: the hand-off between a capture thread (producer) and the consumer,
 * ffplay / SDL-camera style: a fixed ring of preallocated RGB24 frames, one
 * lock and one condition variable; pixels are written and read outside the
 * lock; every wait has a timeout and checks the abort flag.
 */
#ifndef CAPTURE_RING_H
#define CAPTURE_RING_H

#include <pthread.h>
#include <stdint.h>

#include "capture.h"

#define RING_SLOTS 4 /* LATEST needs 3: one being read, one written, one ready */

typedef enum { SLOT_FREE = 0, SLOT_WRITING, SLOT_READY, SLOT_READING } ring_slot_state;

typedef struct {
  uint8_t *rgb; /* width * height * 3 */
  int width, height;
  int64_t seq;
  double pts_s, arrived_s;
  ring_slot_state state;
} ring_slot;

typedef struct {
  pthread_mutex_t lock;
  pthread_cond_t cond; /* CLOCK_MONOTONIC; broadcast on every state change */
  ring_slot slots[RING_SLOTS];
  int width, height; /* of every slot */
  capture_delivery delivery;
  int abort;          /* set by capture_close: every wait returns */
  int status;         /* CAPTURE_OK while running, else EOF / ERROR / DISCONNECTED */
  int status_fresh;   /* a DISCONNECTED not yet returned by capture_next */
  int producer_done;  /* the thread will publish nothing more */
  char err[CAPTURE_ERR_LEN];      /* written under lock */
  char err_copy[CAPTURE_ERR_LEN]; /* consumer thread's copy for capture_error() */
  capture_stats stats;
  double capture_ms_sum;
  int64_t capture_n;
} ring;

/* Allocates the slots for width x height RGB24 frames. 0 or -1 (no memory). */
int ring_init(ring *r, int width, int height, capture_delivery delivery);
void ring_free(ring *r);

double ring_now(void); /* monotonic seconds */

/* Producer. ring_acquire returns a slot index to write into (outside the
 * lock), or -1 when aborted. LATEST: never blocks; when no slot is free the
 * oldest ready frame is recycled and counted as dropped. ALL: waits for a free
 * slot (the consumer is behind), waking every 100 ms to check abort. */
int ring_acquire(ring *r);
void ring_publish(ring *r, int slot, int64_t seq, double pts_s, double capture_ms);
void ring_cancel(ring *r, int slot);
/* Sets status (and the message if msg is not NULL); wakes the consumer. */
void ring_set_status(ring *r, int status, const char *msg);
/* Sets the message only (a warning that does not stop the source). */
void ring_set_message(ring *r, const char *msg);
void ring_set_done(ring *r); /* the producer has finished */
/* Sleeps until monotonic time `until` or abort: 0, or -1 when aborted. */
int ring_sleep_until(ring *r, double until);
int ring_aborted(ring *r);
/* Stats fields the producer owns (size, fps, format, counters). */
void ring_update_stats(ring *r, const capture_stats *producer_part);
void ring_count_corrupt(ring *r);
void ring_set_disconnected(ring *r, int disconnected);

/* Consumer (see capture_next / capture_release). */
int ring_take(ring *r, capture_frame *frame, int timeout_ms);
void ring_release(ring *r, capture_frame *frame);
void ring_abort(ring *r);

#endif
