/* train: the epoch loop of `emocam train`, with validation, best-model
 * keeping, early stopping, checkpoints (also on Ctrl-C), a CSV log, learning
 * curves and temperature calibration at the end.
 */
#include "train.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "assets.h"
#include "augment.h"
#include "classifier.h"
#include "cli.h"
#include "dataset.h"
#include "json_out.h"
#include "metrics.h"
#include "nn.h"
#include "progress.h"
#include "report.h"
#include "text_file.h"
#include "train_state.h"

#define PREPROCESS_FMT "colour=%s crop=center crop_scale=%g resize=area range=0,1"

void train_config_defaults(train_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->val_split = 0.1f;
  cfg->epochs = 30;
  cfg->batch = 64;
  cfg->lr = 2e-3f;
  cfg->weight_decay = 0.01f;
  cfg->label_smoothing = 0.1f;
  cfg->warmup_epochs = 1.0f;
  cfg->clip_norm = 5.0f;
  cfg->seed = 1;
  cfg->patience = 10;
  cfg->augment = 1;
  cfg->weights = WEIGHTS_AUTO;
  cfg->crop_scale = 1.0f;
}

/* Set by SIGINT/SIGTERM; the loop checks it after every batch. */
static volatile sig_atomic_t interrupted;
static void on_signal(int sig) {
  (void)sig;
  interrupted = 1;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Everything a run owns, so one function can release it. */
typedef struct {
  train_state st;
  dataset train, val_own; /* val_own: a --val folder */
  const float *val_x;     /* borrowed: val_own.x or the split-off part */
  const int *val_y;
  int val_n;
  float *split_x; /* owned when val comes from --val-split */
  int *split_y;
  nn_model model;
  char *arch;      /* owned: architecture text of a fresh run (--arch or --init) */
  nn_model init;   /* owned: the --init model, until its weights are copied */
  nn_adamw *opt;
  float *class_weights; /* [K] or NULL */
  float *batch_x, *batch_probs, *val_probs, *val_logits;
  int *batch_y, *order;
  float **best; /* copy of every tensor at the best epoch */
  float **swa;  /* --swa: every tensor's mean over the averaged epochs so far */
  char ckpt_path[1100];
  char swa_path[1110]; /* where the checkpoint keeps that mean: CHECKPOINT.swa */
  int swa_kept;        /* the mean beat the best epoch and is the result */
  float swa_val_acc;   /* the mean's val accuracy; NAN until measured */
} run;

static void run_free(run *r) {
  train_state_free(&r->st);
  dataset_free(&r->train);
  dataset_free(&r->val_own);
  free(r->split_x);
  free(r->split_y);
  int tensors = r->model.net ? nn_net_num_tensors(r->model.net) : 0;
  for (int i = 0; r->best && i < tensors; i++) free(r->best[i]);
  free(r->best);
  for (int i = 0; r->swa && i < tensors; i++) free(r->swa[i]);
  free(r->swa);
  nn_model_free(&r->model);
  free(r->arch);
  nn_model_free(&r->init);
  nn_adamw_destroy(r->opt);
  free(r->class_weights);
  free(r->batch_x);
  free(r->batch_probs);
  free(r->val_probs);
  free(r->val_logits);
  free(r->batch_y);
  free(r->order);
}

/* Fisher-Yates: v in a random order drawn from *rng, which moves on. */
static void shuffle(int *v, int n, uint64_t *rng) {
  for (int i = n - 1; i > 0; i--) {
    int j = (int)(augment_rand64(rng) % (uint64_t)(i + 1));
    int t = v[i];
    v[i] = v[j];
    v[j] = t;
  }
}

/* "input H W C" from the first layer line of architecture text. The nn
 * parser validates the whole text later; this only sizes the data set. */
static int arch_input_shape(const char *text, const char *source, int *c, int *h, int *w,
                            char *err, size_t errlen) {
  for (const char *p = text; *p;) {
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) : strlen(p);
    char line[256];
    snprintf(line, sizeof line, "%.*s", (int)(n < 255 ? n : 255), p);
    char *hash = strchr(line, '#');
    if (hash) *hash = '\0';
    char word[16];
    if (sscanf(line, "%15s", word) == 1) {
      if (strcmp(word, "input") == 0 && sscanf(line, "input %d %d %d", h, w, c) == 3 && *h > 0 &&
          *w > 0 && (*c == 1 || *c == 3))
        return 0;
      break;
    }
    p += n + (nl ? 1 : 0);
  }
  snprintf(err, errlen, "%.400s: the first layer line must be 'input H W C' (C = 1 or 3)", source);
  return -1;
}

/* Stratified split: per class, a seeded share of samples goes to val. */
static int split_val(run *r, float share, uint64_t seed, char *err, size_t errlen) {
  dataset *d = &r->train;
  const size_t sample = (size_t)d->c * d->h * d->w;
  char *to_val = calloc(d->n, 1);
  int *idx = malloc(sizeof(int) * d->n);
  if (!to_val || !idx) goto oom;
  int nval = 0;
  for (int k = 0; k < d->num_classes; k++) {
    int m = 0;
    for (int i = 0; i < d->n; i++)
      if (d->labels[i] == k) idx[m++] = i;
    uint64_t rng = seed * 1000003u + (uint64_t)k;
    shuffle(idx, m, &rng);
    int take = (int)lroundf(share * m);
    if (take == 0 && m >= 2 && share > 0) take = 1; /* every class is validated */
    if (take >= m) take = m - 1;                    /* and trained on */
    for (int i = 0; i < take; i++) to_val[idx[i]] = 1;
    nval += take;
  }
  r->split_x = malloc(sizeof(float) * sample * (nval ? nval : 1));
  r->split_y = malloc(sizeof(int) * (nval ? nval : 1));
  if (!r->split_x || !r->split_y) goto oom;
  /* Compact in place: training samples stay in d, in order. */
  int kept = 0, v = 0;
  for (int i = 0; i < d->n; i++) {
    if (to_val[i]) {
      memcpy(r->split_x + sample * v, d->x + sample * i, sizeof(float) * sample);
      r->split_y[v++] = d->labels[i];
      d->class_counts[d->labels[i]]--;
      free(d->paths[i]);
    } else {
      if (kept != i) {
        memcpy(d->x + sample * kept, d->x + sample * i, sizeof(float) * sample);
        d->labels[kept] = d->labels[i];
        d->paths[kept] = d->paths[i];
      }
      kept++;
    }
  }
  d->n = kept;
  r->val_x = r->split_x;
  r->val_y = r->split_y;
  r->val_n = nval;
  free(to_val);
  free(idx);
  return 0;
oom:
  free(to_val);
  free(idx);
  snprintf(err, errlen, "out of memory splitting the validation set");
  return -1;
}

/* Class weights for the loss: on by default when the largest class is more
 * than 3x the smallest, because the seed's model collapsed onto its majority
 * class. sqrt(n / (K n_k)) softens the inverse frequency, which otherwise
 * trades too much overall accuracy for the rare classes. Normalised to a
 * sample-weighted mean of 1. */
static int make_class_weights(run *r, class_weight_mode mode) {
  const dataset *d = &r->train;
  int lo = d->n, hi = 0;
  for (int k = 0; k < d->num_classes; k++) {
    if (d->class_counts[k] < lo) lo = d->class_counts[k];
    if (d->class_counts[k] > hi) hi = d->class_counts[k];
  }
  if (mode == WEIGHTS_AUTO) mode = (hi > 3 * (lo > 0 ? lo : 1)) ? WEIGHTS_SQRT : WEIGHTS_OFF;
  if (mode == WEIGHTS_OFF) return 0;
  r->class_weights = malloc(sizeof(float) * d->num_classes);
  if (!r->class_weights) return -1;
  double mean = 0;
  for (int k = 0; k < d->num_classes; k++) {
    double inv = d->class_counts[k] ? (double)d->n / (d->num_classes * d->class_counts[k]) : 0;
    r->class_weights[k] = (float)(mode == WEIGHTS_SQRT ? sqrt(inv) : inv);
    mean += r->class_weights[k] * (double)d->class_counts[k] / d->n;
  }
  printf("class weights (%s):", mode == WEIGHTS_SQRT ? "sqrt inverse frequency" : "inverse frequency");
  for (int k = 0; k < d->num_classes; k++) {
    r->class_weights[k] = (float)(r->class_weights[k] / mean);
    printf(" %s %.2f", d->class_names[k], r->class_weights[k]);
  }
  printf("\n");
  return 0;
}

/* Copies every tensor of src into dst with the same name and shape, except
 * the last dense layer's when the class lists differ: that head starts fresh
 * for the new classes (transfer learning). Returns tensors copied. */
static int copy_pretrained(nn_net *dst, const nn_net *src, int same_classes) {
  int last_dense = -1;
  for (int i = 0; i < nn_net_num_tensors(dst); i++) {
    nn_tensor t = nn_net_tensor(dst, i);
    if (strstr(t.name, ".dense.") && t.layer > last_dense) last_dense = t.layer;
  }
  int copied = 0;
  for (int i = 0; i < nn_net_num_tensors(dst); i++) {
    nn_tensor t = nn_net_tensor(dst, i);
    if (!same_classes && t.layer == last_dense) continue;
    for (int j = 0; j < nn_net_num_tensors(src); j++) {
      nn_tensor s = nn_net_tensor(src, j);
      if (strcmp(s.name, t.name) == 0 && s.count == t.count &&
          memcmp(s.dims, t.dims, sizeof t.dims) == 0) {
        memcpy(t.data, s.data, sizeof(float) * t.count);
        copied++;
        break;
      }
    }
  }
  return copied;
}

static int same_class_lists(const nn_model *m, const dataset *d) {
  if (m->num_classes != d->num_classes) return 0;
  for (int k = 0; k < d->num_classes; k++)
    if (strcmp(m->class_names[k], d->class_names[k]) != 0) return 0;
  return 1;
}

/* The architecture of a fresh run, read once: the --init model's (loaded
 * here, its weights are copied in setup_model) or the --arch file's. */
static int load_architecture(run *r, char *err, size_t errlen) {
  train_config *cfg = &r->st.cfg;
  if (cfg->init_path[0]) {
    if (nn_model_load(cfg->init_path, &r->init, 1, NULL, err, errlen) != 0) return -1;
    r->arch = strdup(nn_net_arch_text(r->init.net));
    if (!r->arch) snprintf(err, errlen, "out of memory");
  } else {
    r->arch = text_file_read(cfg->arch_path, TEXT_FILE_ARCH_MAX, err, errlen);
  }
  return r->arch ? 0 : -1;
}

/* A fresh net for the data's classes, from --init's weights when given. */
static int setup_model(run *r, char *err, size_t errlen) {
  train_config *cfg = &r->st.cfg;
  const dataset *d = &r->train;
  const char *source = cfg->init_path[0] ? cfg->init_path : cfg->arch_path;
  if (nn_net_create(&r->model.net, r->arch, source, d->num_classes, cfg->batch, cfg->seed, err,
                    errlen) != 0)
    return -1;
  if (r->init.net) {
    int same = same_class_lists(&r->init, d);
    int copied = copy_pretrained(r->model.net, r->init.net, same);
    printf("initialised %d of %d tensors from %s%s\n", copied, nn_net_num_tensors(r->model.net),
           cfg->init_path, same ? "" : " (new classifier head for the new classes)");
    nn_model_free(&r->init);
  }
  r->model.num_classes = d->num_classes;
  r->model.class_names = calloc(d->num_classes, sizeof(char *));
  if (!r->model.class_names) goto oom;
  for (int k = 0; k < d->num_classes; k++)
    if (!(r->model.class_names[k] = strdup(d->class_names[k]))) goto oom;
  char pre[160];
  snprintf(pre, sizeof pre, PREPROCESS_FMT, d->c == 1 ? "grey" : "rgb", cfg->crop_scale);
  if (!(r->model.preprocess = strdup(pre))) goto oom;
  r->model.flip_tta = cfg->flip_tta;
  return nn_adamw_create(&r->opt, r->model.net, err, errlen);
oom:
  snprintf(err, errlen, "out of memory");
  return -1;
}

/* Validation pass in inference mode: loss, accuracy, macro-F1, and the
 * logits kept for temperature fitting. Returns 0 or -1. */
static int validate(run *r, epoch_record *rec) {
  nn_net *net = r->model.net;
  const int K = r->model.num_classes, B = r->st.cfg.batch;
  const size_t sample = (size_t)nn_net_input_c(net) * nn_net_input_h(net) * nn_net_input_w(net);
  nn_net_set_training(net, 0);
  double loss = 0;
  for (int s = 0; s < r->val_n; s += B) {
    int m = r->val_n - s < B ? r->val_n - s : B;
    if (nn_net_forward(net, r->val_x + sample * s, m, r->val_probs + (size_t)s * K) != 0) return -1;
    memcpy(r->val_logits + (size_t)s * K, nn_net_logits(net), sizeof(float) * m * K);
  }
  for (int i = 0; i < r->val_n; i++) loss -= log(fmax(r->val_probs[(size_t)i * K + r->val_y[i]], 1e-12));
  metrics_report mr;
  if (metrics_compute(&mr, K, r->val_n, r->val_y, r->val_probs) != METRICS_OK) return -1;
  rec->val_loss = (float)(loss / r->val_n);
  rec->val_acc = (float)mr.accuracy;
  rec->val_macro_f1 = (float)mr.macro_f1;
  metrics_free(&mr);
  return 0;
}

/* Writes the per-epoch CSV log and the learning-curve PNG beside the model. */
static void write_logs(const run *r) {
  const train_config *cfg = &r->st.cfg;
  char base[1100], path[1200], err[NN_ERR_LEN];
  snprintf(base, sizeof base, "%s", cfg->out_path);
  char *dot = strrchr(base, '.');
  if (dot && strcmp(dot, ".emo") == 0) *dot = '\0';
  snprintf(path, sizeof path, "%s.log.csv", base);
  json_file f;
  if (json_file_open(&f, path, err, sizeof err) != 0) {
    cli_warn("%s", err);
    return;
  }
  fprintf(f.f, "epoch,lr,train_loss,train_acc,val_loss,val_acc,val_macro_f1,seconds\n");
  for (int i = 0; i < r->st.num_records; i++) {
    const epoch_record *e = &r->st.records[i];
    fprintf(f.f, "%d,%.6g,%.5f,%.5f,%.5f,%.5f,%.5f,%.1f\n", e->epoch, e->lr, e->train_loss,
            e->train_acc, e->val_loss, e->val_acc, e->val_macro_f1, e->seconds);
  }
  if (json_file_close(&f, 1, err, sizeof err) != 0) cli_warn("%s", err);

  int n = r->st.num_records;
  float *series = malloc(sizeof(float) * 4 * (n ? n : 1));
  if (!series) return;
  for (int i = 0; i < n; i++) {
    series[i] = r->st.records[i].train_loss;
    series[n + i] = r->st.records[i].val_loss;
    series[2 * n + i] = r->st.records[i].train_acc;
    series[3 * n + i] = r->st.records[i].val_acc;
  }
  char note[160] = "";
  if (isfinite(r->swa_val_acc))
    snprintf(note, sizeof note, "the mean of epochs %d-%d (--swa): %.1f%%, %s",
             r->st.next_epoch - r->st.swa_count + 1, r->st.next_epoch, 100 * r->swa_val_acc,
             r->swa_kept ? "kept" : "not kept");
  snprintf(path, sizeof path, "%s.curves.png", base);
  if (report_curves_png(path, n, series, series + n, series + 2 * n, series + 3 * n,
                        note[0] ? note : NULL, err, sizeof err) != 0)
    cli_warn("%s", err);
  free(series);
}

static int save_checkpoint(run *r, char *err, size_t errlen) {
  char *state = train_state_format(&r->st);
  if (!state) {
    snprintf(err, errlen, "out of memory formatting the training state");
    return -1;
  }
  r->model.train_state = state;
  int rc = nn_model_save(r->ckpt_path, &r->model, r->opt, err, errlen);
  r->model.train_state = NULL;
  free(state);
  return rc;
}

/* Copies every tensor of net (the run's own net or one of the same
 * architecture) as the best weights so far. */
static int keep_best(run *r, const nn_net *net) {
  int n = nn_net_num_tensors(net);
  if (!r->best && !(r->best = calloc(n, sizeof(float *)))) return -1;
  for (int i = 0; i < n; i++) {
    nn_tensor t = nn_net_tensor(net, i);
    if (!r->best[i] && !(r->best[i] = malloc(sizeof(float) * t.count))) return -1;
    memcpy(r->best[i], t.data, sizeof(float) * t.count);
  }
  return 0;
}

static void restore_best(run *r) {
  if (!r->best) return;
  for (int i = 0; i < nn_net_num_tensors(r->model.net); i++) {
    nn_tensor t = nn_net_tensor(r->model.net, i);
    memcpy(t.data, r->best[i], sizeof(float) * t.count);
  }
}

/* Mean negative log-likelihood of the validation logits at temperature t. */
static double val_nll(const run *r, double t) {
  const int K = r->model.num_classes;
  double total = 0;
  for (int i = 0; i < r->val_n; i++) {
    const float *z = r->val_logits + (size_t)i * K;
    double mx = z[0];
    for (int k = 1; k < K; k++) mx = fmax(mx, z[k]);
    double s = 0;
    for (int k = 0; k < K; k++) s += exp((z[k] - mx) / t);
    total += log(s) - (z[r->val_y[i]] - mx) / t;
  }
  return total / r->val_n;
}

/* When the validation ECE is above 0.05, fits the softmax temperature on the
 * validation set (golden-section search of the NLL over log t), so the bars'
 * probabilities mean what they say, and keeps it if it lowers the ECE. */
static void calibrate(run *r) {
  if (r->val_n == 0) return;
  epoch_record rec;
  if (validate(r, &rec) != 0) return;
  const int K = r->model.num_classes;
  metrics_report before, after;
  if (metrics_compute(&before, K, r->val_n, r->val_y, r->val_probs) != METRICS_OK) return;
  if (before.ece <= 0.05) {
    printf("calibration: val ECE %.4f <= 0.05, temperature stays 1\n", before.ece);
    metrics_free(&before);
    return;
  }
  double a = log(0.25), b = log(8.0);
  const double g = (sqrt(5.0) - 1) / 2;
  for (int it = 0; it < 60; it++) {
    double c = b - g * (b - a), d = a + g * (b - a);
    if (val_nll(r, exp(c)) < val_nll(r, exp(d))) b = d;
    else a = c;
  }
  const float t = (float)exp((a + b) / 2);
  nn_net_set_temperature(r->model.net, t);
  if (validate(r, &rec) == 0 &&
      metrics_compute(&after, K, r->val_n, r->val_y, r->val_probs) == METRICS_OK) {
    if (after.ece >= before.ece) nn_net_set_temperature(r->model.net, 1.0f);
    printf("calibration: fitted temperature %.3f, val ECE %.4f -> %.4f, %s\n", t, before.ece,
           after.ece, after.ece < before.ece ? "kept" : "not kept");
    metrics_free(&after);
  } else {
    nn_net_set_temperature(r->model.net, 1.0f);
  }
  metrics_free(&before);
}

/* Loads --resume's checkpoint: config, history, weights, optimizer. */
static int load_resume(run *r, const char *path, char *err, size_t errlen) {
  nn_adamw *opt = NULL;
  if (nn_model_load(path, &r->model, 1, &opt, err, errlen) != 0) return -1;
  if (!r->model.train_state || !opt) {
    snprintf(err, errlen, "%s: a model, not a checkpoint (no training state to resume)", path);
    nn_adamw_destroy(opt);
    return -1;
  }
  r->opt = opt;
  return train_state_parse(&r->st, r->model.train_state, path, err, errlen);
}

/* The model was loaded with buffers for one sample; training needs a batch. */
static int resize_resumed_net(run *r, char *err, size_t errlen) {
  nn_net *small = r->model.net, *big = NULL;
  if (nn_net_create(&big, nn_net_arch_text(small), r->ckpt_path, r->model.num_classes,
                    r->st.cfg.batch, r->st.cfg.seed, err, errlen) != 0)
    return -1;
  nn_net_copy_matching(big, small);
  nn_net_set_temperature(big, nn_net_temperature(small));
  nn_net_destroy(small);
  r->model.net = big;
  return 0;
}

/* ---- stochastic weight averaging (--swa N) -------------------------------
 * The weights at the end of each of the last N epochs are averaged, with the
 * learning rate held where those epochs begin (Izmailov et al. 2018): the
 * mean lies nearer the middle of the region the late epochs wander in, which
 * tends to generalise better than any single epoch. */

/* The first averaged epoch, 0-based. */
static int swa_begin(const train_config *cfg) { return cfg->epochs - cfg->swa_epochs; }

/* Adds the net's weights to the running mean. */
static int swa_add(run *r) {
  nn_net *net = r->model.net;
  int n = nn_net_num_tensors(net);
  if (!r->swa && !(r->swa = calloc(n, sizeof(float *)))) return -1;
  float k = 1.0f / (float)(r->st.swa_count + 1);
  for (int i = 0; i < n; i++) {
    nn_tensor t = nn_net_tensor(net, i);
    if (!r->swa[i] && !(r->swa[i] = calloc(t.count, sizeof(float)))) return -1;
    for (size_t j = 0; j < t.count; j++) r->swa[i][j] += (t.data[j] - r->swa[i][j]) * k;
  }
  r->st.swa_count++;
  return 0;
}

/* Exchanges the net's weights with the mean (twice restores both). */
static void swa_swap(run *r) {
  for (int i = 0; i < nn_net_num_tensors(r->model.net); i++) {
    nn_tensor t = nn_net_tensor(r->model.net, i);
    for (size_t j = 0; j < t.count; j++) {
      float v = t.data[j];
      t.data[j] = r->swa[i][j];
      r->swa[i][j] = v;
    }
  }
}

/* Writes the mean beside the checkpoint, as a model file whose state text
 * says how many epochs it holds, so a resume can tell it matches. */
static int swa_save(run *r, char *err, size_t errlen) {
  char state[64];
  snprintf(state, sizeof state, "swa_count=%d\n", r->st.swa_count);
  swa_swap(r);
  r->model.train_state = state;
  int rc = nn_model_save(r->swa_path, &r->model, NULL, err, errlen);
  r->model.train_state = NULL;
  swa_swap(r);
  return rc;
}

/* Whether a and b hold tensors of the same sizes in the same order. */
static int same_tensors(const nn_net *a, const nn_net *b) {
  if (nn_net_num_tensors(a) != nn_net_num_tensors(b)) return 0;
  for (int i = 0; i < nn_net_num_tensors(a); i++)
    if (nn_net_tensor(a, i).count != nn_net_tensor(b, i).count) return 0;
  return 1;
}

/* On --resume: the mean the checkpoint's run had built, or a fresh start
 * (with a warning) when it is missing, does not match, or no longer covers
 * the last --swa epochs because --epochs moved them. */
static int swa_resume(run *r) {
  train_state *st = &r->st;
  if (st->swa_count == 0) return 0;
  int first = st->next_epoch - st->swa_count;
  nn_model m = {0};
  char err[NN_ERR_LEN];
  int count = -1, ok = 0;
  if (first < swa_begin(&st->cfg)) {
    cli_warn("--swa: the run now ends at epoch %d, so the average restarts at epoch %d",
             st->cfg.epochs, swa_begin(&st->cfg) + 1);
  } else if (nn_model_load(r->swa_path, &m, 1, NULL, err, sizeof err) != 0) {
    cli_warn("%s; the weight average restarts", err);
  } else if (!m.train_state || sscanf(m.train_state, "swa_count=%d", &count) != 1 ||
             count != st->swa_count || !same_tensors(m.net, r->model.net)) {
    cli_warn("%s does not match the checkpoint; the weight average restarts", r->swa_path);
  } else {
    ok = 1;
  }
  if (ok) {
    int n = nn_net_num_tensors(m.net);
    if (!(r->swa = calloc(n, sizeof(float *)))) ok = 0;
    for (int i = 0; ok && i < n; i++) {
      nn_tensor t = nn_net_tensor(m.net, i);
      if (!(r->swa[i] = malloc(sizeof(float) * t.count))) ok = 0;
      else memcpy(r->swa[i], t.data, sizeof(float) * t.count);
    }
    if (!ok) {
      nn_model_free(&m);
      return -1;
    }
  } else {
    st->swa_count = 0;
  }
  nn_model_free(&m);
  return 0;
}

/* After the last epoch: the mean in the net, batch norm's running statistics
 * re-estimated for it (they belong to no single epoch's weights) over the
 * training set in a seeded order, then kept in place of the best epoch if it
 * scores better on val, or always without val. */
static int swa_finish(run *r, char *err, size_t errlen) {
  const train_config *cfg = &r->st.cfg;
  nn_net *net = r->model.net;
  const dataset *d = &r->train;
  const size_t sample = (size_t)d->c * d->h * d->w;
  const int B = cfg->batch;
  swa_swap(r);
  uint64_t rng = cfg->seed ^ 0x5A5A5A5A12345678ull;
  for (int i = 0; i < d->n; i++) r->order[i] = i;
  shuffle(r->order, d->n, &rng);
  nn_net_set_training(net, 1);
  /* whole batches only (a last small one would weigh as much as a full one
   * in the running statistics), unless the set is smaller than a batch */
  for (int s = 0; s == 0 || s + B <= d->n; s += B) {
    int m = d->n - s < B ? d->n - s : B;
    for (int i = 0; i < m; i++)
      memcpy(r->batch_x + sample * i, d->x + sample * r->order[s + i], sizeof(float) * sample);
    if (nn_net_forward(net, r->batch_x, m, r->batch_probs) != 0) {
      snprintf(err, errlen, "--swa: batch norm re-estimation failed");
      return -1;
    }
  }
  nn_net_set_training(net, 0);
  int first = r->st.next_epoch - r->st.swa_count + 1, last = r->st.next_epoch;
  int keep = 1;
  printf("swa: mean of the weights of epochs %d-%d (%d), batch norm re-estimated", first, last,
         r->st.swa_count);
  if (r->val_n > 0) {
    epoch_record rec;
    if (validate(r, &rec) != 0) {
      snprintf(err, errlen, "validation failed");
      return -1;
    }
    keep = rec.val_acc > r->st.best_val_acc;
    r->swa_val_acc = rec.val_acc;
    printf(": val loss %.4f acc %.2f%% macro-F1 %.4f against %.2f%% at epoch %d: %s", rec.val_loss,
           100 * rec.val_acc, rec.val_macro_f1, 100 * r->st.best_val_acc, r->st.best_epoch,
           keep ? "kept" : "the best epoch kept");
    if (keep) r->st.best_val_acc = rec.val_acc;
  }
  printf("\n");
  r->swa_kept = keep;
  if (!keep) {
    restore_best(r);
    return 0;
  }
  if (keep_best(r, net) != 0) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  return 0;
}

static void print_epoch(const epoch_record *e, int epochs, int has_val, int best) {
  printf("epoch %d/%d: train loss %.4f acc %.2f%%", e->epoch, epochs, e->train_loss,
         100 * e->train_acc);
  if (has_val)
    printf(" | val loss %.4f acc %.2f%% macro-F1 %.4f", e->val_loss, 100 * e->val_acc,
           e->val_macro_f1);
  printf(" | lr %.2e | %.1f s%s\n", e->lr, e->seconds, best ? " (best)" : "");
  fflush(stdout);
}

/* One epoch of training. Returns 0, 1 when interrupted, -1 on error. */
static int train_epoch(run *r, int epoch, epoch_record *rec, progress_bar *bar) {
  train_config *cfg = &r->st.cfg;
  nn_net *net = r->model.net;
  const dataset *d = &r->train;
  const int K = r->model.num_classes, B = cfg->batch;
  const size_t sample = (size_t)d->c * d->h * d->w;
  const int64_t steps_per_epoch = (d->n + B - 1) / B;
  const int64_t total = steps_per_epoch * cfg->epochs;
  const int64_t warmup = (int64_t)(cfg->warmup_epochs * steps_per_epoch);
  augment_opts aug;
  augment_defaults(&aug);
  aug.blur_prob = cfg->blur_prob;
  aug.erase_prob = cfg->erase_prob;
  nn_adamw_opts ao;
  nn_adamw_defaults(&ao);
  ao.weight_decay = cfg->weight_decay;
  ao.clip_norm = cfg->clip_norm;
  nn_loss_opts lo = {r->class_weights, cfg->label_smoothing};

  /* The epoch's order depends only on (seed, epoch), so a resumed run
   * replays the same shuffles. */
  uint64_t rng = cfg->seed ^ (0xD1B54A32D192ED03ull * (uint64_t)(epoch + 1));
  for (int i = 0; i < d->n; i++) r->order[i] = i;
  shuffle(r->order, d->n, &rng);
  nn_net_set_training(net, 1);
  double loss_sum = 0, t0 = now_s();
  int64_t correct = 0, seen = 0;
  for (int64_t s = 0; s < steps_per_epoch; s++) {
    int start = (int)(s * B), m = d->n - start < B ? d->n - start : B;
    for (int i = 0; i < m; i++) {
      int idx = r->order[start + i];
      r->batch_y[i] = d->labels[idx];
      if (cfg->augment)
        augment_sample(r->batch_x + sample * i, d->x + sample * idx, d->c, d->h, d->w, &aug,
                       augment_rand64(&rng));
      else
        memcpy(r->batch_x + sample * i, d->x + sample * idx, sizeof(float) * sample);
    }
    /* step + 1: the first update already gets a non-zero warmup rate */
    int64_t step = nn_adamw_steps(r->opt) + 1;
    if (cfg->swa_epochs > 0 && step > steps_per_epoch * swa_begin(cfg) + 1)
      step = steps_per_epoch * swa_begin(cfg) + 1; /* held through the averaged epochs */
    ao.lr = nn_lr_warmup_cosine(cfg->lr, step, warmup, total, 0.01f);
    float loss = nn_net_train_batch(net, r->batch_x, r->batch_y, m, &lo, r->batch_probs);
    if (loss < 0 || !isfinite(loss)) {
      cli_error("training diverged at epoch %d step %lld (loss %g); try a lower --lr", epoch + 1,
                (long long)s, loss);
      return -1;
    }
    nn_adamw_step(r->opt, net, &ao);
    loss_sum += loss * m;
    seen += m;
    for (int i = 0; i < m; i++)
      correct += classifier_argmax(r->batch_probs + (size_t)i * K, K) == r->batch_y[i];
    progress_update(bar, seen, d->n, now_s() - t0, loss_sum / seen, (double)correct / seen);
    if (interrupted) return 1;
  }
  rec->epoch = epoch + 1;
  rec->lr = ao.lr;
  rec->train_loss = (float)(loss_sum / seen);
  rec->train_acc = (float)correct / seen;
  rec->seconds = (float)(now_s() - t0);
  return 0;
}

static int load_data(run *r, char *err, size_t errlen) {
  train_config *cfg = &r->st.cfg;
  int c, h, w;
  if (r->model.net) {
    c = nn_net_input_c(r->model.net);
    h = nn_net_input_h(r->model.net);
    w = nn_net_input_w(r->model.net);
  } else if (r->init.net) {
    c = nn_net_input_c(r->init.net);
    h = nn_net_input_h(r->init.net);
    w = nn_net_input_w(r->init.net);
  } else if (arch_input_shape(r->arch, cfg->arch_path, &c, &h, &w, err, errlen) != 0) {
    return -1;
  }
  double t0 = now_s();
  const char *const *known = r->model.net ? (const char *const *)r->model.class_names : NULL;
  if (dataset_load(&r->train, cfg->data_dir, c, h, w, cfg->crop_scale, known,
                   known ? r->model.num_classes : 0, err, errlen) != 0)
    return -1;
  if (cfg->val_dir[0]) {
    if (dataset_load(&r->val_own, cfg->val_dir, c, h, w, cfg->crop_scale,
                     (const char *const *)r->train.class_names, r->train.num_classes, err,
                     errlen) != 0)
      return -1;
    r->val_x = r->val_own.x;
    r->val_y = r->val_own.labels;
    r->val_n = r->val_own.n;
  } else if (cfg->val_split > 0 && split_val(r, cfg->val_split, cfg->seed, err, errlen) != 0) {
    return -1;
  }
  printf("data: %d training images, %d validation images, %d classes, %dx%dx%d, decoded in %.1f s\n",
         r->train.n, r->val_n, r->train.num_classes, h, w, c, now_s() - t0);
  for (int k = 0; k < r->train.num_classes; k++)
    printf("  %-12s %6d\n", r->train.class_names[k], r->train.class_counts[k]);
  return 0;
}

static int allocate_buffers(run *r) {
  const int K = r->model.num_classes, B = r->st.cfg.batch;
  const size_t sample = (size_t)r->train.c * r->train.h * r->train.w;
  r->batch_x = malloc(sizeof(float) * sample * B);
  r->batch_probs = malloc(sizeof(float) * (size_t)B * K);
  r->batch_y = malloc(sizeof(int) * B);
  r->order = malloc(sizeof(int) * r->train.n);
  r->val_probs = malloc(sizeof(float) * (size_t)(r->val_n + 1) * K);
  r->val_logits = malloc(sizeof(float) * (size_t)(r->val_n + 1) * K);
  return (r->batch_x && r->batch_probs && r->batch_y && r->order && r->val_probs && r->val_logits)
             ? 0
             : -1;
}

int train_run(train_config *cfg, const char *resume_path) {
  run r;
  memset(&r, 0, sizeof r);
  r.swa_val_acc = NAN;
  char err[NN_ERR_LEN];
  int exit_code = EXIT_RUNTIME;
  /* Epoch lines and progress go to different streams; line buffering keeps
   * them in order in a log file. */
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (resume_path) {
    if (load_resume(&r, resume_path, err, sizeof err) != 0) goto fail;
    if (cfg->epochs > 0) r.st.cfg.epochs = cfg->epochs; /* --epochs may extend a run */
    snprintf(r.ckpt_path, sizeof r.ckpt_path, "%s", resume_path);
  } else {
    r.st.cfg = *cfg;
    r.st.best_val_acc = -1;
    snprintf(r.ckpt_path, sizeof r.ckpt_path, "%s.ckpt", cfg->out_path);
  }
  snprintf(r.swa_path, sizeof r.swa_path, "%s.swa", r.ckpt_path);
  cfg = &r.st.cfg;
  nn_set_threads(cfg->threads);
  if (!resume_path && load_architecture(&r, err, sizeof err) != 0) goto fail;
  if (load_data(&r, err, sizeof err) != 0) goto fail;
  if (resume_path) {
    if (resize_resumed_net(&r, err, sizeof err) != 0) goto fail;
  } else if (setup_model(&r, err, sizeof err) != 0) {
    goto fail;
  }
  if (make_class_weights(&r, cfg->weights) != 0 || allocate_buffers(&r) != 0) {
    snprintf(err, sizeof err, "out of memory");
    goto fail;
  }
  nn_net_set_frozen(r.model.net, cfg->freeze);
  {
    char summary[8192];
    nn_net_summary(r.model.net, summary, sizeof summary);
    printf("%s", summary);
    printf("%zu parameters, %.1f M multiply-adds per image, %d thread%s%s\n",
           nn_net_param_count(r.model.net), nn_net_macs_per_image(r.model.net) / 1e6,
           nn_get_threads(), nn_get_threads() == 1 ? "" : "s",
           cfg->freeze ? ", first layers frozen" : "");
  }
  if (resume_path && r.st.best_epoch > 0) {
    /* The best weights so far are in the model file; keep them so early
     * stopping after a resume still returns the best epoch. */
    nn_model best = {0};
    if (nn_model_load(cfg->out_path, &best, 1, NULL, err, sizeof err) != 0 ||
        keep_best(&r, best.net) != 0) {
      nn_model_free(&best);
      goto fail;
    }
    nn_model_free(&best);
  }
  if (resume_path && swa_resume(&r) != 0) {
    snprintf(err, sizeof err, "out of memory");
    goto fail;
  }

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  progress_bar bar;
  progress_init(&bar, isatty(STDERR_FILENO));

  for (int epoch = r.st.next_epoch; epoch < cfg->epochs; epoch++) {
    epoch_record rec = {.val_loss = NAN, .val_acc = NAN, .val_macro_f1 = NAN};
    progress_begin(&bar, epoch + 1, cfg->epochs);
    int rc = train_epoch(&r, epoch, &rec, &bar);
    progress_end(&bar);
    if (rc < 0) goto done;
    if (rc == 1) {
      r.st.next_epoch = epoch; /* the interrupted epoch runs again */
      if (save_checkpoint(&r, err, sizeof err) != 0) goto fail;
      fprintf(stderr, "emocam: interrupted: checkpoint saved to %s; continue with: emocam train --resume %s\n",
              r.ckpt_path, r.ckpt_path);
      exit_code = 130;
      goto done;
    }
    int best = 0;
    if (r.val_n > 0) {
      if (validate(&r, &rec) != 0) {
        snprintf(err, sizeof err, "validation failed");
        goto fail;
      }
      best = rec.val_acc > r.st.best_val_acc;
    } else {
      best = 1; /* without validation the latest model is the one kept */
    }
    if (best) {
      r.st.best_val_acc = r.val_n > 0 ? rec.val_acc : 0;
      r.st.best_epoch = epoch + 1;
      r.st.epochs_since_best = 0;
      if (keep_best(&r, r.model.net) != 0 || nn_model_save(cfg->out_path, &r.model, NULL, err, sizeof err) != 0)
        goto fail;
    } else {
      r.st.epochs_since_best++;
    }
    r.st.next_epoch = epoch + 1;
    if (train_state_add(&r.st, &rec) != 0) goto fail;
    print_epoch(&rec, cfg->epochs, r.val_n > 0, best);
    write_logs(&r);
    if (cfg->swa_epochs > 0 && epoch >= swa_begin(cfg)) {
      if (swa_add(&r) != 0) {
        snprintf(err, sizeof err, "out of memory");
        goto fail;
      }
      if (swa_save(&r, err, sizeof err) != 0) goto fail;
    }
    if (save_checkpoint(&r, err, sizeof err) != 0) goto fail;
    if (interrupted) {
      fprintf(stderr, "emocam: interrupted: checkpoint saved to %s; continue with: emocam train --resume %s\n",
              r.ckpt_path, r.ckpt_path);
      exit_code = 130;
      goto done;
    }
    if (cfg->patience > 0 && r.st.epochs_since_best >= cfg->patience) {
      printf("early stop: no better val accuracy for %d epochs\n", cfg->patience);
      break;
    }
  }
  if (r.st.swa_count == 0) {
    restore_best(&r);
  } else {
    if (swa_finish(&r, err, sizeof err) != 0) goto fail;
    write_logs(&r); /* the curves say what became of the mean */
  }
  calibrate(&r);
  if (nn_model_save(cfg->out_path, &r.model, NULL, err, sizeof err) != 0) goto fail;
  if (r.swa_kept) printf("model: %s (mean of the last %d epochs", cfg->out_path, r.st.swa_count);
  else printf("model: %s (best epoch %d", cfg->out_path, r.st.best_epoch);
  if (r.val_n > 0) printf(", val accuracy %.2f%%", 100 * r.st.best_val_acc);
  printf(")\n");
  unlink(r.ckpt_path); /* finished: the model file is the result */
  unlink(r.swa_path);
  exit_code = EXIT_OK;
  goto done;
fail:
  cli_error("%s", err);
done:
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  run_free(&r);
  return exit_code;
}
