/* pipeline: one inference worker thread between the UI loop and the CNN.
 * Three input buffers rotate: `staging` (main thread writes the next crop),
 * `pending` (handed over, waiting) and `working` (the worker's); handing over
 * is a pointer swap under the lock, so neither side copies a frame while
 * holding it.
 */
#include "live/pipeline.h"

#include "common/clock.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct pipeline {
  classifier *cl; /* borrowed; the worker's alone while it runs */
  pthread_t thread;
  int started;
  int sync_ready; /* mu and cv initialised */
  pthread_mutex_t mu;
  pthread_cond_t cv; /* any change of state below; both sides wait on it */
  int max_samples;
  float *buffers[3]; /* owned storage behind the three roles, [max_samples, c, h, w] */
  crop_tag *tag_store[3]; /* [max_samples] tags, travelling with buffers[i] */
  float *staging, *pending, *working;
  crop_tag *staging_tags, *pending_tags, *working_tags;
  int pending_n;
  int has_pending;
  int64_t pending_seq;
  double pending_pts;
  float *probs_work; /* [max_samples, num_classes] the worker's output */
  float *probs_done; /* [max_samples, num_classes] latest published result (locked) */
  crop_tag *tags_done;    /* [max_samples] its tags */
  pipeline_result done;
  int64_t published, polled; /* results published / taken by poll */
  int64_t skipped;
  int failed, abort;
  int running; /* the worker is in classifier_run with cl */
};

/* Waits on p->cv for at most ms milliseconds (p->mu held). */
static void wait_ms(pipeline *p, int ms) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  ts.tv_sec += ms / 1000;
  ts.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  pthread_cond_timedwait(&p->cv, &p->mu, &ts);
}

static void *worker(void *arg) {
  pipeline *p = arg;
  pthread_mutex_lock(&p->mu);
  while (!p->abort) {
    if (!p->has_pending) {
      wait_ms(p, 100); /* timeout: the abort flag is seen even if a wakeup is lost */
      continue;
    }
    float *t = p->working;
    p->working = p->pending;
    p->pending = t;
    crop_tag *tt = p->working_tags;
    p->working_tags = p->pending_tags;
    p->pending_tags = tt;
    int n = p->pending_n;
    p->has_pending = 0;
    int64_t seq = p->pending_seq;
    double pts = p->pending_pts;
    classifier *cl = p->cl;
    p->running = 1;
    pthread_mutex_unlock(&p->mu);

    double t0 = clock_now_s();
    int rc = classifier_run(cl, p->working, n, p->probs_work);
    double ms = (clock_now_s() - t0) * 1e3;

    pthread_mutex_lock(&p->mu);
    p->running = 0;
    if (rc != 0) {
      p->failed = 1;
    } else {
      memcpy(p->probs_done, p->probs_work, sizeof(float) * (size_t)n * cl->num_classes);
      memcpy(p->tags_done, p->working_tags, sizeof(crop_tag) * (size_t)n);
      p->done = (pipeline_result){seq, n, pts, ms};
      p->published++;
    }
    pthread_cond_broadcast(&p->cv);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

int pipeline_create(pipeline **out, classifier *cl, int max_samples, char *err, size_t errlen) {
  *out = NULL;
  pipeline *p = calloc(1, sizeof *p);
  if (!p) goto oom;
  p->cl = cl;
  p->done.seq = -1;
  p->max_samples = max_samples < 1 ? 1 : max_samples;
  size_t sample = (size_t)cl->c * cl->h * cl->w, m = (size_t)p->max_samples;
  for (int i = 0; i < 3; i++)
    if (!(p->buffers[i] = calloc(sample * m, sizeof(float))) ||
        !(p->tag_store[i] = calloc(m, sizeof(crop_tag))))
      goto oom;
  p->staging = p->buffers[0], p->staging_tags = p->tag_store[0];
  p->pending = p->buffers[1], p->pending_tags = p->tag_store[1];
  p->working = p->buffers[2], p->working_tags = p->tag_store[2];
  p->probs_work = calloc(m * cl->num_classes, sizeof(float));
  p->probs_done = calloc(m * cl->num_classes, sizeof(float));
  p->tags_done = calloc(m, sizeof(crop_tag));
  if (!p->probs_work || !p->probs_done || !p->tags_done) goto oom;

  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv, &attr);
  pthread_condattr_destroy(&attr);
  p->sync_ready = 1;
  int rc = pthread_create(&p->thread, NULL, worker, p);
  if (rc != 0) {
    snprintf(err, errlen, "cannot start the inference thread: %s", strerror(rc));
    pipeline_destroy(p);
    return -1;
  }
  p->started = 1;
  *out = p;
  return 0;
oom:
  snprintf(err, errlen, "out of memory for the inference pipeline");
  pipeline_destroy(p);
  return -1;
}

void pipeline_destroy(pipeline *p) {
  if (!p) return;
  if (p->started) {
    pthread_mutex_lock(&p->mu);
    p->abort = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
  }
  if (p->sync_ready) {
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
  }
  for (int i = 0; i < 3; i++) free(p->buffers[i]), free(p->tag_store[i]);
  free(p->probs_work);
  free(p->probs_done);
  free(p->tags_done);
  free(p);
}

float *pipeline_input(pipeline *p) { return p->staging; }

void pipeline_submit(pipeline *p, int64_t seq, double pts_s, int n, const crop_tag *tags) {
  if (n < 1) n = 1;
  if (n > p->max_samples) n = p->max_samples;
  memcpy(p->staging_tags, tags, sizeof(crop_tag) * (size_t)n);
  pthread_mutex_lock(&p->mu);
  if (p->has_pending) p->skipped++;
  float *t = p->pending;
  p->pending = p->staging;
  p->staging = t;
  crop_tag *tt = p->pending_tags;
  p->pending_tags = p->staging_tags;
  p->staging_tags = tt;
  p->pending_n = n;
  p->pending_seq = seq;
  p->pending_pts = pts_s;
  p->has_pending = 1;
  pthread_cond_broadcast(&p->cv);
  pthread_mutex_unlock(&p->mu);
}

int pipeline_poll(pipeline *p, float *probs, crop_tag *tags, pipeline_result *info) {
  int rc = 0;
  pthread_mutex_lock(&p->mu);
  if (p->failed) {
    rc = -1;
  } else if (p->published != p->polled) {
    memcpy(probs, p->probs_done, sizeof(float) * (size_t)p->done.n * p->cl->num_classes);
    memcpy(tags, p->tags_done, sizeof(crop_tag) * (size_t)p->done.n);
    *info = p->done;
    p->polled = p->published;
    rc = 1;
  }
  pthread_mutex_unlock(&p->mu);
  return rc;
}

int pipeline_wait(pipeline *p, int64_t seq, int timeout_ms) {
  double deadline = clock_now_s() + timeout_ms * 1e-3;
  pthread_mutex_lock(&p->mu);
  while (!p->failed && p->done.seq < seq) {
    double left = deadline - clock_now_s();
    if (left <= 0) break;
    wait_ms(p, left > 0.1 ? 100 : (int)(left * 1e3) + 1);
  }
  int rc = p->failed ? -1 : p->done.seq >= seq ? 1 : 0;
  pthread_mutex_unlock(&p->mu);
  return rc;
}

int64_t pipeline_skipped(pipeline *p) {
  pthread_mutex_lock(&p->mu);
  int64_t n = p->skipped;
  pthread_mutex_unlock(&p->mu);
  return n;
}

void pipeline_set_classifier(pipeline *p, classifier *cl) {
  pthread_mutex_lock(&p->mu);
  /* the one running finishes first: the caller may free it afterwards */
  while (p->running && !p->abort) wait_ms(p, 50);
  p->cl = cl;
  pthread_mutex_unlock(&p->mu);
}
