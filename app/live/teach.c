/* teach: adapt_run on a background thread, its progress under a lock. */
#include "live/teach.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct teach {
  pthread_t thread;
  pthread_mutex_t mu;
  atomic_int stop;
  char model[1024], dir[1024], out[1100];
  adapt_config cfg;
  teach_status st; /* guarded by mu */
};

static int on_progress(void *user, const train_progress *p) {
  teach *t = user;
  pthread_mutex_lock(&t->mu);
  t->st.epoch = p->epoch;
  t->st.epochs = p->epochs;
  double in_epoch = p->event == TRAIN_EPOCH_END ? 1.0 : p->total > 0 ? (double)p->done / p->total : 0.0;
  t->st.fraction = p->epochs > 0 ? ((p->epoch - 1) + in_epoch) / p->epochs : 0.0;
  pthread_mutex_unlock(&t->mu);
  return atomic_load(&t->stop);
}

static void *run(void *arg) {
  teach *t = arg;
  train_observer obs = {NULL, NULL, on_progress, t};
  adapt_result res;
  char err[512] = "";
  int rc = adapt_run(t->model, &t->cfg, &obs, &res, err, sizeof err);
  pthread_mutex_lock(&t->mu);
  t->st.result = res;
  t->st.state = rc == TRAIN_DONE ? TEACH_DONE : rc == TRAIN_STOPPED ? TEACH_STOPPED : TEACH_FAILED;
  snprintf(t->st.message, sizeof t->st.message, "%s", err);
  pthread_mutex_unlock(&t->mu);
  return NULL;
}

int teach_start(teach **out, const char *model_path, const char *dir, const char *out_path,
                char *err, size_t errlen) {
  *out = NULL;
  teach *t = calloc(1, sizeof *t);
  if (!t) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  snprintf(t->model, sizeof t->model, "%s", model_path);
  snprintf(t->dir, sizeof t->dir, "%s", dir);
  snprintf(t->out, sizeof t->out, "%s", out_path);
  adapt_defaults(&t->cfg);
  t->cfg.data_dir = t->dir;
  t->cfg.out_path = t->out;
  t->cfg.holdout = 0; /* live, every crop teaches; `emocam adapt` measures */
  t->cfg.threads = nn_get_threads();
  t->st.state = TEACH_RUNNING;
  pthread_mutex_init(&t->mu, NULL);
  atomic_init(&t->stop, 0);
  if (pthread_create(&t->thread, NULL, run, t) != 0) {
    snprintf(err, errlen, "cannot start the adaptation thread");
    pthread_mutex_destroy(&t->mu);
    free(t);
    return -1;
  }
  *out = t;
  return 0;
}

void teach_poll(teach *t, teach_status *st) {
  pthread_mutex_lock(&t->mu);
  *st = t->st;
  pthread_mutex_unlock(&t->mu);
}

void teach_destroy(teach *t) {
  if (!t) return;
  atomic_store(&t->stop, 1);
  pthread_join(t->thread, NULL);
  pthread_mutex_destroy(&t->mu);
  free(t);
}
