/* test_session: the training library as its drivers use it. A session on an
 * in-memory data set reports its events in order, learns a pattern it can
 * learn, gives the same model stepped as run, stops on request leaving a
 * checkpoint that resumes to the same model as an uninterrupted run, keeps
 * a given model's classes when the data has only some of them, learns
 * from a teacher (distillation, kept across a resume), and its state text
 * round-trips. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "training/session.h"
#include "training/state.h"

#define SIDE 48
#define PER_CLASS 24
#define EPOCHS 8 /* of 4 batches: 54 images trained, 18 held out */

static char tmpdir[] = "/tmp/emocam-session-XXXXXX";
static char arch_path[512];

/* Class k: a bright horizontal band in the k-th third of the face, on noise.
 * Learnable in a couple of epochs, not in zero. */
static void make_data(dataset *d, int classes, const char *const *names) {
  memset(d, 0, sizeof *d);
  d->num_classes = classes;
  d->c = 1, d->h = SIDE, d->w = SIDE;
  d->n = classes * PER_CLASS;
  d->x = malloc(sizeof(float) * d->n * SIDE * SIDE);
  d->labels = malloc(sizeof(int) * d->n);
  d->paths = calloc(d->n, sizeof(char *));
  d->class_names = calloc(classes, sizeof(char *));
  d->class_counts = calloc(classes, sizeof(int));
  unsigned r = 12345;
  for (int k = 0; k < classes; k++) d->class_names[k] = strdup(names[k]);
  for (int i = 0; i < d->n; i++) {
    int k = i % classes;
    d->labels[i] = k;
    d->class_counts[k]++;
    char p[64];
    snprintf(p, sizeof p, "mem/%s/%d.png", names[k], i);
    d->paths[i] = strdup(p);
    float *img = d->x + (size_t)i * SIDE * SIDE;
    for (int y = 0; y < SIDE; y++)
      for (int x = 0; x < SIDE; x++) {
        r = r * 1103515245u + 12345u;
        float noise = (float)((r >> 16) & 0xff) / 255.0f * 0.3f;
        int band = y * classes / SIDE == k;
        img[y * SIDE + x] = noise + (band ? 0.6f : 0.1f);
      }
  }
}

typedef struct {
  int begins, ends, batches;
  int order_ok;     /* every BATCH inside a BEGIN..END of the same epoch */
  int open_epoch;   /* the epoch begun and not yet ended, 0 = none */
  long last_done, last_total;
  int stop_after_epoch; /* > 0: ask to stop at the first batch of the epoch after it */
} events;

static int on_progress(void *user, const train_progress *p) {
  events *e = user;
  if (getenv("TEST_SESSION_VERBOSE"))
    printf("event %d epoch %d done %ld/%ld loss %.3f acc %.3f\n", p->event, p->epoch, p->done,
           p->total, p->loss, p->acc);
  switch (p->event) {
  case TRAIN_EPOCH_BEGIN:
    if (e->open_epoch) e->order_ok = 0;
    e->open_epoch = p->epoch;
    e->begins++;
    e->last_done = 0;
    break;
  case TRAIN_BATCH:
    if (e->open_epoch != p->epoch || p->done <= e->last_done || p->done > p->total)
      e->order_ok = 0;
    e->last_done = p->done;
    e->last_total = p->total;
    e->batches++;
    if (e->stop_after_epoch && p->epoch == e->stop_after_epoch + 1) return 1;
    break;
  case TRAIN_EPOCH_END:
    if (e->open_epoch != p->epoch || e->last_done != e->last_total || !p->record ||
        p->record->epoch != p->epoch)
      e->order_ok = 0;
    e->open_epoch = 0;
    e->ends++;
    break;
  }
  return 0;
}

static void config_for(train_config *cfg, const char *out_name, int epochs) {
  train_config_defaults(cfg);
  snprintf(cfg->arch_path, sizeof cfg->arch_path, "%s", arch_path);
  snprintf(cfg->out_path, sizeof cfg->out_path, "%s/%s", tmpdir, out_name);
  cfg->epochs = epochs;
  cfg->batch = 16;
  cfg->lr = 3e-3f;
  cfg->seed = 7;
  cfg->threads = 1;
  cfg->val_split = 0.25f;
}

/* Probabilities of the model file at path for the first n images of d. */
static float *predict_file(const char *path, const dataset *d, int n) {
  nn_model m;
  char err[512];
  if (nn_model_load(path, &m, n, NULL, err, sizeof err) != 0) {
    check_fail_at(__FILE__, __LINE__, "load %s: %s", path, err);
    return NULL;
  }
  float *p = malloc(sizeof(float) * n * m.num_classes);
  nn_net_forward(m.net, d->x, n, p);
  nn_model_free(&m);
  return p;
}

static float max_diff(const float *a, const float *b, int n) {
  float d = 0;
  for (int i = 0; i < n; i++) d = fmaxf(d, fabsf(a[i] - b[i]));
  return d;
}

static const char *const NAMES[] = {"angry", "happy", "neutral"};

/* How many images of ref (3 classes) the model at path labels right. */
static int bands_right(const char *path, const dataset *ref) {
  float *p = predict_file(path, ref, ref->n);
  int right = 0;
  for (int i = 0; p && i < ref->n; i++) {
    int best = 0;
    for (int k = 1; k < 3; k++) best = p[i * 3 + k] > p[i * 3 + best] ? k : best;
    right += best == ref->labels[i];
  }
  free(p);
  return right;
}

/* Run to the end; check the events and that it learned. */
static void test_run(void) {
  dataset d, ref;
  make_data(&d, 3, NAMES);
  make_data(&ref, 3, NAMES);
  train_config cfg;
  config_for(&cfg, "run.emo", EPOCHS);
  events e = {.order_ok = 1};
  train_observer obs = {.progress = on_progress, .user = &e};
  train_inputs in = {.train = &d};
  train_session *s;
  char err[512];
  CHECK(train_session_create(&s, &cfg, &in, &obs, err, sizeof err) == 0, "create: %s", err);
  CHECK(d.x == NULL, "the session took the data set over");
  int rc = train_session_run(s, err, sizeof err);
  CHECK(rc == TRAIN_DONE, "run: %d %s", rc, err);
  CHECK(e.begins == EPOCHS && e.ends == EPOCHS && e.order_ok, "events: %d begins, %d ends, order %s",
        e.begins, e.ends, e.order_ok ? "ok" : "wrong");
  CHECK(e.batches == 4 * EPOCHS, "batches: %d, expected %d", e.batches, 4 * EPOCHS);
  const train_state *st = train_session_state(s);
  CHECK(st->num_records == EPOCHS && st->best_epoch >= 1, "records %d best %d", st->num_records,
        st->best_epoch);
  CHECK(access(cfg.out_path, F_OK) == 0, "model written to %s", cfg.out_path);
  char ckpt[1100];
  snprintf(ckpt, sizeof ckpt, "%s.ckpt", cfg.out_path);
  CHECK(access(ckpt, F_OK) != 0, "the checkpoint is removed when finished");
  train_session_destroy(s);

  int right = bands_right(cfg.out_path, &ref);
  printf("run: %d of %d right after %d epochs\n", right, ref.n, EPOCHS);
  CHECK(right >= ref.n * 9 / 10, "learned the bands: %d of %d", right, ref.n);
  dataset_free(&ref);
}

/* Stepping a batch at a time gives the run's model bit for bit. */
static void test_step_equals_run(void) {
  dataset d, ref;
  make_data(&d, 3, NAMES);
  make_data(&ref, 3, NAMES);
  train_config cfg;
  config_for(&cfg, "step.emo", EPOCHS);
  train_inputs in = {.train = &d};
  train_session *s;
  char err[512];
  CHECK(train_session_create(&s, &cfg, &in, NULL, err, sizeof err) == 0, "create: %s", err);
  int rc, steps = 0;
  while ((rc = train_session_step(s, err, sizeof err)) == TRAIN_MORE) steps++;
  CHECK(rc == TRAIN_DONE, "step: %d %s", rc, err);
  CHECK(steps == 4 * EPOCHS - 1, "steps before done: %d, expected %d", steps, 4 * EPOCHS - 1);
  train_session_destroy(s);
  char run_path[1100];
  snprintf(run_path, sizeof run_path, "%s/run.emo", tmpdir);
  float *a = predict_file(run_path, &ref, ref.n), *b = predict_file(cfg.out_path, &ref, ref.n);
  CHECK(a && b && max_diff(a, b, ref.n * 3) == 0.0f, "stepped model differs from the run's: %g",
        a && b ? max_diff(a, b, ref.n * 3) : -1.0f);
  free(a);
  free(b);
  dataset_free(&ref);
}

/* Stop during epoch 2 of a run on a folder: a checkpoint stands and no
 * model; resuming it finishes the run, and since the interrupted epoch
 * starts again from epoch 1's checkpoint and every epoch's shuffle depends
 * only on (seed, epoch), the model equals an uninterrupted run's. */
static void test_stop_resume(void) {
  char err[512];
  train_config cfg, whole;
  config_for(&cfg, "stopped.emo", 3);
  snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s/faces", EMOCAM_FIXTURES);
  whole = cfg;
  snprintf(whole.out_path, sizeof whole.out_path, "%s/whole.emo", tmpdir);
  train_session *s;
  CHECK(train_session_create(&s, &whole, NULL, NULL, err, sizeof err) == 0, "create: %s", err);
  CHECK(train_session_run(s, err, sizeof err) == TRAIN_DONE, "whole run: %s", err);
  train_session_destroy(s);
  dataset faces = {0};
  int n = 0;

  events e = {.order_ok = 1, .stop_after_epoch = 1};
  train_observer obs = {.progress = on_progress, .user = &e};
  CHECK(train_session_create(&s, &cfg, NULL, &obs, err, sizeof err) == 0, "create: %s", err);
  int rc = train_session_run(s, err, sizeof err);
  CHECK(rc == TRAIN_STOPPED, "stop: rc %d %s", rc, err);
  CHECK(e.ends == 1, "stopped in epoch 2 after %d finished epochs", e.ends);
  char ckpt[1100];
  snprintf(ckpt, sizeof ckpt, "%s", train_session_checkpoint_path(s));
  train_session_destroy(s);
  CHECK(access(ckpt, F_OK) == 0, "checkpoint %s left", ckpt);
  nn_model best;
  CHECK(nn_model_load(cfg.out_path, &best, 1, NULL, err, sizeof err) == 0,
        "the best model so far stands at %s: %s", cfg.out_path, err);
  nn_model_free(&best);

  CHECK(train_session_resume(&s, ckpt, 0, NULL, err, sizeof err) == 0, "resume: %s", err);
  CHECK(train_session_state(s)->next_epoch == 1, "resumes at epoch %d, expected 2",
        train_session_state(s)->next_epoch + 1);
  rc = train_session_run(s, err, sizeof err);
  train_session_destroy(s);
  CHECK(rc == TRAIN_DONE, "resumed run: %d %s", rc, err);
  CHECK(access(ckpt, F_OK) != 0, "checkpoint removed after the resumed run finished");

  char ferr[512];
  if (dataset_load(&faces, cfg.data_dir, 1, SIDE, SIDE, 1.0f, NULL, 0, ferr, sizeof ferr) != 0) {
    check_fail_at(__FILE__, __LINE__, "fixtures: %s", ferr);
    return;
  }
  n = faces.n;
  float *a = predict_file(whole.out_path, &faces, n), *b = predict_file(cfg.out_path, &faces, n);
  int k = faces.num_classes;
  CHECK(a && b && max_diff(a, b, n * k) == 0.0f,
        "resumed model differs from the uninterrupted run's by %g",
        a && b ? max_diff(a, b, n * k) : -1.0f);
  free(a);
  free(b);
  dataset_free(&faces);
}

/* No batch given: 16 for a small set, 64 for a large one. */
static void test_auto_batch(void) {
  train_config cfg;
  train_config_defaults(&cfg);
  CHECK(cfg.batch == 0, "the default batch is auto, not %d", cfg.batch);
  CHECK(train_config_auto_batch(2100) == 16 && train_config_auto_batch(TRAIN_SMALL_SET - 1) == 16 &&
            train_config_auto_batch(TRAIN_SMALL_SET) == 64 && train_config_auto_batch(28709) == 64,
        "auto batch: 2100 -> %d, 28709 -> %d", train_config_auto_batch(2100),
        train_config_auto_batch(28709));
  dataset d;
  make_data(&d, 3, NAMES);
  config_for(&cfg, "auto.emo", 1);
  cfg.batch = 0;
  train_inputs in = {.train = &d};
  train_session *s;
  char err[512];
  CHECK(train_session_create(&s, &cfg, &in, NULL, err, sizeof err) == 0, "create: %s", err);
  CHECK(train_session_state(s)->cfg.batch == 16, "a 54-image run resolved batch %d",
        train_session_state(s)->cfg.batch);
  train_session_destroy(s);
}

/* Distillation: with the whole target from the teacher (run.emo, which has
 * learned the bands), a student whose labels are all wrong still learns the
 * bands; without the teacher it learns the wrong labels. */
static void test_teacher_only(void) {
  char err[512];
  float acc[2] = {0, 0};
  for (int with = 0; with < 2; with++) {
    dataset d, ref;
    make_data(&d, 3, NAMES);
    make_data(&ref, 3, NAMES);
    for (int i = 0; i < d.n; i++) d.labels[i] = (d.labels[i] + 1) % 3; /* every label wrong */
    train_config cfg;
    config_for(&cfg, with ? "taught.emo" : "untaught.emo", EPOCHS);
    cfg.val_split = 0; /* val labels would be as wrong: keep the last epoch */
    if (with) {
      snprintf(cfg.teacher_path, sizeof cfg.teacher_path, "%s/run.emo", tmpdir);
      cfg.teacher_weight = 1.0f;
    }
    train_inputs in = {.train = &d};
    train_session *s;
    CHECK(train_session_create(&s, &cfg, &in, NULL, err, sizeof err) == 0, "create: %s", err);
    CHECK(train_session_run(s, err, sizeof err) == TRAIN_DONE, "run: %s", err);
    train_session_destroy(s);
    acc[with] = (float)bands_right(cfg.out_path, &ref) / ref.n;
    dataset_free(&ref);
  }
  CHECK(acc[1] >= 0.9f, "taught by the teacher alone: %.2f of the bands right", acc[1]);
  CHECK(acc[0] <= 0.2f, "untaught, the wrong labels were learned: %.2f of the bands right",
        acc[0]);
}

/* A teacher named in the config is kept by the checkpoint: a stopped and
 * resumed distillation run gives the uninterrupted run's model. A teacher of
 * other classes is refused, naming its file. */
static void test_teacher_resume(void) {
  char err[512];
  train_config cfg, whole;
  config_for(&cfg, "distilled.emo", 2);
  snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s/faces", EMOCAM_FIXTURES);
  snprintf(cfg.teacher_path, sizeof cfg.teacher_path, "%s/assets/fer2013.emo", EMOCAM_SOURCE_DIR);
  whole = cfg;
  snprintf(whole.out_path, sizeof whole.out_path, "%s/distilled-whole.emo", tmpdir);
  train_session *s;
  CHECK(train_session_create(&s, &whole, NULL, NULL, err, sizeof err) == 0, "create: %s", err);
  CHECK(train_session_run(s, err, sizeof err) == TRAIN_DONE, "whole run: %s", err);
  train_session_destroy(s);

  events e = {.order_ok = 1, .stop_after_epoch = 1};
  train_observer obs = {.progress = on_progress, .user = &e};
  CHECK(train_session_create(&s, &cfg, NULL, &obs, err, sizeof err) == 0, "create: %s", err);
  CHECK(train_session_run(s, err, sizeof err) == TRAIN_STOPPED, "stop: %s", err);
  char ckpt[1100];
  snprintf(ckpt, sizeof ckpt, "%s", train_session_checkpoint_path(s));
  train_session_destroy(s);
  CHECK(train_session_resume(&s, ckpt, 0, NULL, err, sizeof err) == 0, "resume: %s", err);
  CHECK(strcmp(train_session_state(s)->cfg.teacher_path, cfg.teacher_path) == 0,
        "the checkpoint keeps the teacher: '%s'", train_session_state(s)->cfg.teacher_path);
  CHECK(train_session_run(s, err, sizeof err) == TRAIN_DONE, "resumed run: %s", err);
  train_session_destroy(s);

  dataset faces = {0};
  if (dataset_load(&faces, cfg.data_dir, 1, SIDE, SIDE, 1.0f, NULL, 0, err, sizeof err) != 0) {
    check_fail_at(__FILE__, __LINE__, "fixtures: %s", err);
    return;
  }
  int n = faces.n, k = faces.num_classes;
  float *a = predict_file(whole.out_path, &faces, n), *b = predict_file(cfg.out_path, &faces, n);
  CHECK(a && b && max_diff(a, b, n * k) == 0.0f,
        "resumed distillation differs from the uninterrupted run's by %g",
        a && b ? max_diff(a, b, n * k) : -1.0f);
  free(a);
  free(b);
  dataset_free(&faces);

  snprintf(cfg.teacher_path, sizeof cfg.teacher_path, "%s/run.emo", tmpdir);
  CHECK(train_session_create(&s, &cfg, NULL, NULL, err, sizeof err) != 0 &&
            strstr(err, "run.emo") && strstr(err, "3 classes"),
        "a teacher of 3 classes for 7 is refused: '%s'", err);
}

/* A model given in memory keeps its class list: adapting on two of three
 * classes gives a three-class model. */
static void test_keeps_classes(void) {
  char run_path[1100];
  snprintf(run_path, sizeof run_path, "%s/run.emo", tmpdir);
  nn_model init;
  char err[512];
  CHECK(nn_model_load(run_path, &init, 16, NULL, err, sizeof err) == 0, "load: %s", err);
  static const char *const TWO[] = {"angry", "neutral"};
  dataset d;
  make_data(&d, 2, TWO);
  /* labels must index the model's classes: neutral is class 2 there */
  free(d.class_names[1]);
  free(d.class_names[0]);
  free(d.class_names);
  free(d.class_counts);
  d.num_classes = 3;
  d.class_names = calloc(3, sizeof(char *));
  d.class_counts = calloc(3, sizeof(int));
  for (int k = 0; k < 3; k++) d.class_names[k] = strdup(NAMES[k]);
  for (int i = 0; i < d.n; i++) {
    d.labels[i] = d.labels[i] == 1 ? 2 : 0;
    d.class_counts[d.labels[i]]++;
  }
  train_config cfg;
  config_for(&cfg, "adapted.emo", 1);
  cfg.val_split = 0;
  train_inputs in = {.train = &d, .init = &init};
  train_session *s;
  CHECK(train_session_create(&s, &cfg, &in, NULL, err, sizeof err) == 0, "create: %s", err);
  int rc = train_session_run(s, err, sizeof err);
  CHECK(rc == TRAIN_DONE, "adapt: %d %s", rc, err);
  const nn_model *m = train_session_model(s);
  CHECK(m->num_classes == 3 && strcmp(m->class_names[1], "happy") == 0,
        "classes kept: %d, [1] %s", m->num_classes, m->num_classes > 1 ? m->class_names[1] : "-");
  train_session_destroy(s);
  nn_model_free(&init);
}

static void test_state_round_trip(void) {
  train_state st = {0}, back = {0};
  train_config_defaults(&st.cfg);
  snprintf(st.cfg.data_dir, sizeof st.cfg.data_dir, "/data/faces with space");
  snprintf(st.cfg.out_path, sizeof st.cfg.out_path, "/models/out.emo");
  st.cfg.lr = 0.00123456789f;
  st.cfg.epochs = 17;
  st.cfg.batch = 48; /* a checkpoint holds the batch the run resolved */
  st.cfg.seed = 0xFFFFFFFFFFFFull;
  st.next_epoch = 5;
  st.best_val_acc = 0.6789f;
  st.best_epoch = 4;
  st.epochs_since_best = 1;
  for (int i = 0; i < 5; i++) {
    epoch_record r = {.epoch = i + 1, .lr = 0.001f / (i + 1), .train_loss = 1.5f - i * 0.1f,
                      .train_acc = 0.3f + i * 0.05f, .val_loss = NAN, .val_acc = 0.25f * i,
                      .val_macro_f1 = 0.2f, .seconds = 1.25f};
    CHECK(train_state_add(&st, &r) == 0);
  }
  char *text = train_state_format(&st), err[256];
  CHECK(text != NULL);
  CHECK(text && train_state_parse(&back, text, "state", err, sizeof err) == 0, "parse: %s", err);
  CHECK(strcmp(back.cfg.data_dir, st.cfg.data_dir) == 0 && back.cfg.lr == st.cfg.lr &&
            back.cfg.epochs == 17 && back.cfg.seed == st.cfg.seed && back.next_epoch == 5 &&
            back.best_val_acc == st.best_val_acc && back.best_epoch == 4 &&
            back.num_records == 5,
        "round trip differs:\n%s", text ? text : "");
  for (int i = 0; i < back.num_records && i < 5; i++)
    CHECK(back.records[i].lr == st.records[i].lr && isnan(back.records[i].val_loss) &&
              back.records[i].val_acc == st.records[i].val_acc,
          "record %d differs", i);
  train_state bad = {0};
  CHECK(train_state_parse(&bad, "next_epoch=banana\n", "ckpt.emo", err, sizeof err) != 0 &&
            strstr(err, "ckpt.emo") && strstr(err, "next_epoch"),
        "bad value names the file and key: '%s'", err);
  train_state_free(&bad);
  free(text);
  train_state_free(&st);
  train_state_free(&back);
}

int main(void) {
  if (!mkdtemp(tmpdir)) return 1;
  snprintf(arch_path, sizeof arch_path, "%s/assets/arch/small.arch", EMOCAM_SOURCE_DIR);
  nn_set_threads(1);
  test_state_round_trip();
  test_run();
  test_step_equals_run();
  test_stop_resume();
  test_auto_batch();
  test_teacher_only();
  test_teacher_resume();
  test_keeps_classes();
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  return check_finish("test_session");
}
