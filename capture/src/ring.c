/* ring: fixed ring of preallocated frames between the capture thread and the
 * consumer. Slot states move FREE -> WRITING -> READY -> READING -> FREE; only
 * state changes happen under the lock, never pixel copies.
 */
#include "ring.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double ring_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static struct timespec ring_abs_time(double t) {
  struct timespec ts;
  ts.tv_sec = (time_t)t;
  ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  return ts;
}

/* Waits on the condition until `until` (monotonic seconds); 1 on timeout. */
static int ring_wait(ring *r, double until) {
  struct timespec ts = ring_abs_time(until);
  return pthread_cond_timedwait(&r->cond, &r->lock, &ts) == ETIMEDOUT;
}

int ring_init(ring *r, int width, int height, capture_delivery delivery) {
  memset(r, 0, sizeof(*r));
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&r->cond, &ca);
  pthread_condattr_destroy(&ca);
  pthread_mutex_init(&r->lock, NULL);
  r->width = width;
  r->height = height;
  r->delivery = delivery;
  for (int i = 0; i < RING_SLOTS; i++) {
    r->slots[i].rgb = malloc((size_t)width * height * 3);
    if (!r->slots[i].rgb) {
      ring_free(r);
      return -1;
    }
    r->slots[i].width = width;
    r->slots[i].height = height;
  }
  return 0;
}

void ring_free(ring *r) {
  for (int i = 0; i < RING_SLOTS; i++) {
    free(r->slots[i].rgb);
    r->slots[i].rgb = NULL;
  }
  pthread_cond_destroy(&r->cond);
  pthread_mutex_destroy(&r->lock);
}

int ring_acquire(ring *r) {
  int slot = -1;
  pthread_mutex_lock(&r->lock);
  while (!r->abort) {
    for (int i = 0; i < RING_SLOTS && slot < 0; i++)
      if (r->slots[i].state == SLOT_FREE) slot = i;
    if (slot < 0 && r->delivery == CAPTURE_LATEST) {
      /* Recycle the oldest frame the consumer has not taken: it is stale. */
      for (int i = 0; i < RING_SLOTS; i++)
        if (r->slots[i].state == SLOT_READY && (slot < 0 || r->slots[i].seq < r->slots[slot].seq))
          slot = i;
      if (slot >= 0) r->stats.dropped++;
    }
    if (slot >= 0) break;
    ring_wait(r, ring_now() + 0.1);
  }
  if (slot >= 0 && !r->abort)
    r->slots[slot].state = SLOT_WRITING;
  else
    slot = -1;
  pthread_mutex_unlock(&r->lock);
  return slot;
}

void ring_publish(ring *r, int slot, int64_t seq, double pts_s, double capture_ms) {
  pthread_mutex_lock(&r->lock);
  ring_slot *s = &r->slots[slot];
  s->seq = seq;
  s->pts_s = pts_s;
  s->arrived_s = ring_now();
  s->state = SLOT_READY;
  r->stats.published++;
  r->capture_ms_sum += capture_ms;
  r->capture_n++;
  pthread_cond_broadcast(&r->cond);
  pthread_mutex_unlock(&r->lock);
}

void ring_cancel(ring *r, int slot) {
  pthread_mutex_lock(&r->lock);
  r->slots[slot].state = SLOT_FREE;
  pthread_cond_broadcast(&r->cond);
  pthread_mutex_unlock(&r->lock);
}

void ring_set_status(ring *r, int status, const char *msg) {
  pthread_mutex_lock(&r->lock);
  if (status == CAPTURE_DISCONNECTED && r->status != CAPTURE_DISCONNECTED) r->status_fresh = 1;
  r->status = status;
  if (msg) snprintf(r->err, sizeof(r->err), "%s", msg);
  pthread_cond_broadcast(&r->cond);
  pthread_mutex_unlock(&r->lock);
}

void ring_set_message(ring *r, const char *msg) {
  pthread_mutex_lock(&r->lock);
  snprintf(r->err, sizeof(r->err), "%s", msg);
  pthread_mutex_unlock(&r->lock);
}

void ring_set_done(ring *r) {
  pthread_mutex_lock(&r->lock);
  r->producer_done = 1;
  pthread_cond_broadcast(&r->cond);
  pthread_mutex_unlock(&r->lock);
}

int ring_sleep_until(ring *r, double until) {
  pthread_mutex_lock(&r->lock);
  while (!r->abort && ring_now() < until) ring_wait(r, until);
  int aborted = r->abort;
  pthread_mutex_unlock(&r->lock);
  return aborted ? -1 : 0;
}

int ring_aborted(ring *r) {
  pthread_mutex_lock(&r->lock);
  int a = r->abort;
  pthread_mutex_unlock(&r->lock);
  return a;
}

void ring_update_stats(ring *r, const capture_stats *p) {
  pthread_mutex_lock(&r->lock);
  r->stats.width = p->width;
  r->stats.height = p->height;
  r->stats.fps = p->fps;
  memcpy(r->stats.pixel_format, p->pixel_format, sizeof(r->stats.pixel_format));
  pthread_mutex_unlock(&r->lock);
}

void ring_count_corrupt(ring *r) {
  pthread_mutex_lock(&r->lock);
  r->stats.corrupt_skipped++;
  pthread_mutex_unlock(&r->lock);
}

void ring_set_disconnected(ring *r, int disconnected) {
  pthread_mutex_lock(&r->lock);
  r->stats.disconnected = disconnected;
  pthread_mutex_unlock(&r->lock);
}

/* Picks the frame to deliver, or -1: LATEST the newest (older ready frames
 * become free and count as dropped), ALL the oldest. Lock held. */
static int ring_pick(ring *r) {
  int best = -1;
  for (int i = 0; i < RING_SLOTS; i++) {
    if (r->slots[i].state != SLOT_READY) continue;
    if (best < 0) {
      best = i;
    } else if (r->delivery == CAPTURE_LATEST ? r->slots[i].seq > r->slots[best].seq
                                             : r->slots[i].seq < r->slots[best].seq) {
      best = i;
    }
  }
  if (best >= 0 && r->delivery == CAPTURE_LATEST) {
    for (int i = 0; i < RING_SLOTS; i++) {
      if (i != best && r->slots[i].state == SLOT_READY) {
        r->slots[i].state = SLOT_FREE;
        r->stats.dropped++;
      }
    }
  }
  return best;
}

int ring_take(ring *r, capture_frame *frame, int timeout_ms) {
  double deadline = ring_now() + (timeout_ms > 0 ? timeout_ms : 0) / 1000.0;
  int rc;
  pthread_mutex_lock(&r->lock);
  /* A frame the caller forgot to release goes back first. */
  for (int i = 0; i < RING_SLOTS; i++)
    if (r->slots[i].state == SLOT_READING) r->slots[i].state = SLOT_FREE;
  for (;;) {
    int slot = ring_pick(r);
    if (slot >= 0) {
      ring_slot *s = &r->slots[slot];
      s->state = SLOT_READING;
      r->stats.delivered++;
      frame->rgb = s->rgb;
      frame->width = s->width;
      frame->height = s->height;
      frame->seq = s->seq;
      frame->pts_s = s->pts_s;
      frame->arrived_s = s->arrived_s;
      rc = CAPTURE_OK;
      break;
    }
    if (r->abort) {
      rc = CAPTURE_ERROR;
      break;
    }
    if (r->status == CAPTURE_DISCONNECTED && (r->status_fresh || r->producer_done)) {
      r->status_fresh = 0;
      rc = CAPTURE_DISCONNECTED;
      break;
    }
    if (r->status == CAPTURE_EOF || r->status == CAPTURE_ERROR) {
      rc = r->status;
      break;
    }
    if (ring_now() >= deadline || ring_wait(r, deadline)) {
      if (ring_pick(r) >= 0) continue; /* arrived together with the timeout */
      rc = r->status == CAPTURE_DISCONNECTED ? CAPTURE_DISCONNECTED : CAPTURE_TIMEOUT;
      break;
    }
  }
  pthread_cond_broadcast(&r->cond);
  pthread_mutex_unlock(&r->lock);
  return rc;
}

void ring_release(ring *r, capture_frame *frame) {
  if (!frame || !frame->rgb) return;
  pthread_mutex_lock(&r->lock);
  for (int i = 0; i < RING_SLOTS; i++)
    if (r->slots[i].rgb == frame->rgb && r->slots[i].state == SLOT_READING)
      r->slots[i].state = SLOT_FREE;
  pthread_cond_broadcast(&r->cond);
  pthread_mutex_unlock(&r->lock);
  frame->rgb = NULL;
}

void ring_abort(ring *r) {
  pthread_mutex_lock(&r->lock);
  r->abort = 1;
  pthread_cond_broadcast(&r->cond);
  pthread_mutex_unlock(&r->lock);
}
