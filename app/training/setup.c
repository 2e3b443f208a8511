/* setup: what a session needs before its first batch. A fresh run reads its
 * architecture (an --init model's or an .arch file's), loads the data at the
 * network's input size, builds the net and its optimizer; a resumed run
 * opens the checkpoint (config, history, weights, optimizer) and loads the
 * data with the checkpoint's classes. Both end with the class weights, the
 * buffers and the frozen layers. */
#include <stdlib.h>
#include <string.h>

#include "common/model_open.h"
#include "common/clock.h"
#include "common/text_file.h"
#include "training/session_internal.h"

#define PREPROCESS_FMT "colour=%s crop=center crop_scale=%g resize=area range=0,1"

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

/* The --val-split share of the training data, held out for validation. */
static int split_val(train_session *s, float share, uint64_t seed, char *err, size_t errlen) {
  int nval = dataset_split(&s->train, share, seed, &s->split_x, &s->split_y);
  if (nval < 0) {
    snprintf(err, errlen, "out of memory splitting the validation set");
    return -1;
  }
  s->val_x = s->split_x;
  s->val_y = s->split_y;
  s->val_n = nval;
  return 0;
}

/* Class weights for the loss: on by default when the largest class is more
 * than 3x the smallest, because the seed's model collapsed onto its majority
 * class. sqrt(n / (K n_k)) softens the inverse frequency, which otherwise
 * trades too much overall accuracy for the rare classes. Normalised to a
 * sample-weighted mean of 1. */
static int make_class_weights(train_session *s, class_weight_mode mode) {
  const dataset *d = &s->train;
  int lo = d->n, hi = 0;
  for (int k = 0; k < d->num_classes; k++) {
    if (d->class_counts[k] < lo) lo = d->class_counts[k];
    if (d->class_counts[k] > hi) hi = d->class_counts[k];
  }
  if (mode == WEIGHTS_AUTO) mode = (hi > 3 * (lo > 0 ? lo : 1)) ? WEIGHTS_SQRT : WEIGHTS_OFF;
  if (mode == WEIGHTS_OFF) return 0;
  s->class_weights = malloc(sizeof(float) * d->num_classes);
  if (!s->class_weights) return -1;
  double mean = 0;
  for (int k = 0; k < d->num_classes; k++) {
    double inv = d->class_counts[k] ? (double)d->n / (d->num_classes * d->class_counts[k]) : 0;
    s->class_weights[k] = (float)(mode == WEIGHTS_SQRT ? sqrt(inv) : inv);
    mean += s->class_weights[k] * (double)d->class_counts[k] / d->n;
  }
  char line[4096];
  size_t used = (size_t)snprintf(line, sizeof line, "class weights (%s):",
                                 mode == WEIGHTS_SQRT ? "sqrt inverse frequency" : "inverse frequency");
  for (int k = 0; k < d->num_classes; k++) {
    s->class_weights[k] = (float)(s->class_weights[k] / mean);
    if (used < sizeof line)
      used += (size_t)snprintf(line + used, sizeof line - used, " %s %.2f", d->class_names[k],
                               s->class_weights[k]);
  }
  session_say(s, "%s", line);
  return 0;
}

static int same_class_lists(const nn_model *m, const dataset *d) {
  if (m->num_classes != d->num_classes) return 0;
  for (int k = 0; k < d->num_classes; k++)
    if (strcmp(m->class_names[k], d->class_names[k]) != 0) return 0;
  return 1;
}

/* The pretrained weights into the fresh net: every tensor of the same name
 * and shape, except the classifier head when the class lists differ (it
 * keeps its fresh weights for the new classes, even where the shapes would
 * match). Returns the tensors taken from init. */
static int take_pretrained(nn_net *net, const nn_net *init, int same_classes) {
  int head = -1, tensors = nn_net_num_tensors(net);
  for (int i = 0; i < tensors; i++) {
    nn_tensor t = nn_net_tensor(net, i);
    if (strstr(t.name, ".dense.") && t.layer > head) head = t.layer;
  }
  float **fresh = calloc(tensors > 0 ? (size_t)tensors : 1, sizeof(float *));
  if (!fresh) return -1;
  int kept = 0;
  for (int i = 0; !same_classes && i < tensors; i++) {
    nn_tensor t = nn_net_tensor(net, i);
    if (t.layer != head) continue;
    if (!(fresh[i] = malloc(sizeof(float) * t.count))) kept = -1;
    else memcpy(fresh[i], t.data, sizeof(float) * t.count);
  }
  int copied = kept < 0 ? -1 : nn_net_copy_matching(net, init);
  for (int i = 0; i < tensors; i++) {
    if (!fresh[i]) continue;
    nn_tensor t = nn_net_tensor(net, i);
    for (int j = 0; copied > 0 && j < nn_net_num_tensors(init); j++) {
      nn_tensor u = nn_net_tensor(init, j);
      copied -= strcmp(u.name, t.name) == 0 && u.count == t.count &&
                memcmp(u.dims, t.dims, sizeof t.dims) == 0;
    }
    memcpy(t.data, fresh[i], sizeof(float) * t.count);
    free(fresh[i]);
  }
  free(fresh);
  return copied;
}

/* The training images at the net's input size (and the val images), with
 * the net's classes when it already has them (a resumed run or a model whose
 * classes are kept). */
static int load_data(train_session *s, int c, int h, int w, const char *const *known,
                     int num_known, char *err, size_t errlen) {
  const train_config *cfg = &s->st.cfg;
  double t0 = clock_now_s();
  if (!s->train.x && dataset_load(&s->train, cfg->data_dir, c, h, w, cfg->crop_scale, known,
                                  num_known, err, errlen) != 0)
    return -1;
  if (s->train.c != c || s->train.h != h || s->train.w != w) {
    snprintf(err, errlen, "training data is %dx%dx%d, the network takes %dx%dx%d", s->train.h,
             s->train.w, s->train.c, h, w, c);
    return -1;
  }
  if (cfg->val_dir[0]) {
    if (dataset_load(&s->val_own, cfg->val_dir, c, h, w, cfg->crop_scale,
                     (const char *const *)s->train.class_names, s->train.num_classes, err,
                     errlen) != 0)
      return -1;
    s->val_x = s->val_own.x;
    s->val_y = s->val_own.labels;
    s->val_n = s->val_own.n;
  } else if (cfg->val_split > 0 && split_val(s, cfg->val_split, cfg->seed, err, errlen) != 0) {
    return -1;
  }
  session_say(s, "data: %d training images, %d validation images, %d classes, %dx%dx%d, decoded in %.1f s",
              s->train.n, s->val_n, s->train.num_classes, h, w, c, clock_now_s() - t0);
  for (int k = 0; k < s->train.num_classes; k++)
    session_say(s, "  %-12s %6d", s->train.class_names[k], s->train.class_counts[k]);
  return 0;
}

/* The model's class names, preprocessing and flip averaging for the data. */
static int describe_model(train_session *s) {
  const dataset *d = &s->train;
  s->model.num_classes = d->num_classes;
  s->model.class_names = calloc(d->num_classes, sizeof(char *));
  if (!s->model.class_names) return -1;
  for (int k = 0; k < d->num_classes; k++)
    if (!(s->model.class_names[k] = strdup(d->class_names[k]))) return -1;
  char pre[160];
  snprintf(pre, sizeof pre, PREPROCESS_FMT, d->c == 1 ? "grey" : "rgb", s->st.cfg.crop_scale);
  if (!(s->model.preprocess = strdup(pre))) return -1;
  s->model.flip_tta = s->st.cfg.flip_tta;
  return 0;
}

/* The architecture and starting weights of a fresh run: inputs->init, the
 * --init model, or the --arch file (fresh weights). */
static int build_net(train_session *s, const nn_model *init, char *err, size_t errlen) {
  const train_config *cfg = &s->st.cfg;
  const char *source = cfg->init_path[0] ? cfg->init_path : cfg->arch_path;
  const char *arch = init ? nn_net_arch_text(init->net) : NULL;
  char *arch_owned = NULL;
  if (!arch && !(arch = arch_owned = text_file_read(cfg->arch_path, TEXT_FILE_ARCH_MAX, err, errlen)))
    return -1;
  int c, h, w, rc = -1;
  if (init) {
    c = nn_net_input_c(init->net), h = nn_net_input_h(init->net), w = nn_net_input_w(init->net);
  } else if (arch_input_shape(arch, cfg->arch_path, &c, &h, &w, err, errlen) != 0) {
    goto done;
  }
  /* A model given in memory keeps its classes (adaptation on some of them). */
  const int keep_classes = init && !cfg->init_path[0];
  if (load_data(s, c, h, w, keep_classes ? (const char *const *)init->class_names : NULL,
                keep_classes ? init->num_classes : 0, err, errlen) != 0)
    goto done;
  if (s->st.cfg.batch == 0) s->st.cfg.batch = train_config_auto_batch(s->train.n);
  if (nn_net_create(&s->model.net, arch, source, s->train.num_classes, cfg->batch, cfg->seed, err,
                    errlen) != 0)
    goto done;
  if (init) {
    int same = same_class_lists(init, &s->train);
    int copied = take_pretrained(s->model.net, init->net, same);
    if (copied < 0) goto oom;
    if (keep_classes) nn_net_set_temperature(s->model.net, nn_net_temperature(init->net));
    session_say(s, "initialised %d of %d tensors from %s%s", copied,
                nn_net_num_tensors(s->model.net), cfg->init_path[0] ? cfg->init_path : "the model",
                same ? "" : " (new classifier head for the new classes)");
  }
  if (describe_model(s) != 0) goto oom;
  rc = nn_adamw_create(&s->opt, s->model.net, err, errlen);
  goto done;
oom:
  snprintf(err, errlen, "out of memory");
done:
  free(arch_owned);
  return rc;
}

static int allocate_buffers(train_session *s) {
  const int K = s->model.num_classes, B = s->st.cfg.batch;
  const size_t sample = (size_t)s->train.c * s->train.h * s->train.w;
  s->batch_x = malloc(sizeof(float) * sample * B);
  s->batch_probs = malloc(sizeof(float) * (size_t)B * K);
  s->batch_y = malloc(sizeof(int) * B);
  s->order = malloc(sizeof(int) * s->train.n);
  s->val_probs = malloc(sizeof(float) * (size_t)(s->val_n + 1) * K);
  s->val_logits = malloc(sizeof(float) * (size_t)(s->val_n + 1) * K);
  return (s->batch_x && s->batch_probs && s->batch_y && s->order && s->val_probs && s->val_logits)
             ? 0
             : -1;
}

/* The teacher's own copy, folded for inference, for batches of the run. */
static int copy_teacher(train_session *s, const nn_model *t, float weight, char *err,
                        size_t errlen) {
  if (t->num_classes != s->model.num_classes) {
    snprintf(err, errlen, "the teacher has %d classes, the model %d", t->num_classes,
             s->model.num_classes);
    return -1;
  }
  for (int k = 0; k < t->num_classes; k++)
    if (strcmp(t->class_names[k], s->model.class_names[k]) != 0) {
      snprintf(err, errlen, "the teacher's class %d is '%s', the model's '%s'", k,
               t->class_names[k], s->model.class_names[k]);
      return -1;
    }
  const nn_net *tn = t->net, *sn = s->model.net;
  if (nn_net_input_c(tn) != nn_net_input_c(sn) || nn_net_input_h(tn) != nn_net_input_h(sn) ||
      nn_net_input_w(tn) != nn_net_input_w(sn)) {
    snprintf(err, errlen, "the teacher reads %dx%dx%d images, the model %dx%dx%d",
             nn_net_input_w(tn), nn_net_input_h(tn), nn_net_input_c(tn), nn_net_input_w(sn),
             nn_net_input_h(sn), nn_net_input_c(sn));
    return -1;
  }
  if (nn_net_create(&s->teacher, nn_net_arch_text(t->net), "teacher", t->num_classes,
                    s->st.cfg.batch, 1, err, errlen) != 0)
    return -1;
  nn_net_copy_matching(s->teacher, t->net);
  nn_net_set_temperature(s->teacher, nn_net_temperature(t->net));
  s->teacher_weight = weight;
  s->teacher_probs = malloc(sizeof(float) * (size_t)s->st.cfg.batch * t->num_classes);
  if (!s->teacher_probs) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  return nn_net_fold_batchnorm(s->teacher, err, errlen);
}

/* The teacher named by the config (--teacher): a checkpoint keeps its path,
 * so a resumed run loads it again. */
static int load_teacher(train_session *s, char *err, size_t errlen) {
  const train_config *cfg = &s->st.cfg;
  nn_model t = {0};
  if (model_open_trainable(cfg->teacher_path, &t, 1, err, errlen) != 0) return -1;
  char why[512] = "";
  int rc = copy_teacher(s, &t, cfg->teacher_weight, why, sizeof why);
  nn_model_free(&t);
  if (rc != 0) {
    snprintf(err, errlen, "%s: %s", cfg->teacher_path, why);
    return -1;
  }
  session_say(s, "teacher: %s (%.0f%% of each target)", cfg->teacher_path,
              100.0 * cfg->teacher_weight);
  return 0;
}

/* Class weights, buffers, frozen layers, the teacher and the net's summary. */
static int finish_setup(train_session *s, char *err, size_t errlen) {
  const train_config *cfg = &s->st.cfg;
  if (make_class_weights(s, cfg->weights) != 0 || allocate_buffers(s) != 0) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  nn_net_set_frozen(s->model.net, cfg->freeze);
  if (!s->teacher && cfg->teacher_path[0] && load_teacher(s, err, errlen) != 0) return -1;
  char settings[2048];
  train_config_log_line(cfg, settings, sizeof settings);
  session_say(s, "settings: %s", settings);
  char summary[8192];
  nn_net_summary(s->model.net, summary, sizeof summary);
  for (char *line = summary, *nl; *line; line = nl + 1) {
    if (!(nl = strchr(line, '\n'))) nl = line + strlen(line) - 1;
    else *nl = '\0';
    session_say(s, "%s", line);
  }
  session_say(s, "%zu parameters, %.1f M multiply-adds per image, %d thread%s%s",
              nn_net_param_count(s->model.net), nn_net_macs_per_image(s->model.net) / 1e6,
              nn_get_threads(), nn_get_threads() == 1 ? "" : "s",
              cfg->freeze ? ", first layers frozen" : "");
  return 0;
}

int session_setup_fresh(train_session *s, const train_inputs *in, char *err, size_t errlen) {
  const train_config *cfg = &s->st.cfg;
  s->st.best_val_acc = -1;
  snprintf(s->ckpt_path, sizeof s->ckpt_path, "%s.ckpt", cfg->out_path);
  snprintf(s->swa_path, sizeof s->swa_path, "%s.swa", s->ckpt_path);
  /* The pool is process-wide: a window adapting in the background keeps the
   * count the live path runs with (restarting the pool under it is unsafe). */
  if (cfg->threads == 0 || cfg->threads != nn_get_threads()) nn_set_threads(cfg->threads);
  if (in && in->metadata && !(s->metadata = strdup(in->metadata))) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  s->ephemeral = in && in->ephemeral;
  if (in && in->train) {
    s->train = *in->train; /* moved */
    memset(in->train, 0, sizeof *in->train);
  }
  nn_model init = {0};
  const nn_model *from = in ? in->init : NULL;
  if (!from && cfg->init_path[0]) {
    if (model_open_trainable(cfg->init_path, &init, 1, err, errlen) != 0) return -1;
    from = &init;
  }
  int rc = build_net(s, from, err, errlen);
  nn_model_free(&init);
  if (rc == 0 && in && in->teacher)
    rc = copy_teacher(s, in->teacher, in->teacher_weight, err, errlen);
  return rc == 0 ? finish_setup(s, err, errlen) : -1;
}

/* The checkpoint's weights, optimizer and state. */
static int open_checkpoint(train_session *s, const char *path, char *err, size_t errlen) {
  if (nn_model_load(path, &s->model, 1, &s->opt, err, errlen) != 0) return -1;
  if (!s->model.train_state || !s->opt) {
    snprintf(err, errlen, "%s: a model, not a checkpoint (no training state to resume)", path);
    return -1;
  }
  int rc = train_state_parse(&s->st, s->model.train_state, path, err, errlen);
  free(s->model.train_state);
  s->model.train_state = NULL;
  return rc;
}

/* The net rebuilt for the run's batch size and thread count (a model loads
 * with buffers for one sample), the loaded weights copied in. */
static int rebuild_for_batch(train_session *s, char *err, size_t errlen) {
  nn_net *small = s->model.net, *big = NULL;
  if (nn_net_create(&big, nn_net_arch_text(small), s->ckpt_path, s->model.num_classes,
                    s->st.cfg.batch, s->st.cfg.seed, err, errlen) != 0)
    return -1;
  nn_net_copy_matching(big, small);
  nn_net_set_temperature(big, nn_net_temperature(small));
  nn_net_destroy(small);
  s->model.net = big;
  return 0;
}

int session_setup_resume(train_session *s, const char *path, int epochs, char *err,
                         size_t errlen) {
  if (open_checkpoint(s, path, err, errlen) != 0) return -1;
  train_config *cfg = &s->st.cfg;
  if (epochs > 0) cfg->epochs = epochs; /* --epochs may extend a run */
  snprintf(s->ckpt_path, sizeof s->ckpt_path, "%s", path);
  snprintf(s->swa_path, sizeof s->swa_path, "%s.swa", s->ckpt_path);
  nn_set_threads(cfg->threads);
  if (rebuild_for_batch(s, err, errlen) != 0) return -1;
  nn_net *net = s->model.net;
  if (load_data(s, nn_net_input_c(net), nn_net_input_h(net), nn_net_input_w(net),
                (const char *const *)s->model.class_names, s->model.num_classes, err,
                errlen) != 0 ||
      finish_setup(s, err, errlen) != 0)
    return -1;
  if (s->st.best_epoch > 0) {
    /* The best weights so far are in the model file; keep them so early
     * stopping after a resume still returns the best epoch. */
    nn_model best = {0};
    int rc = nn_model_load(cfg->out_path, &best, 1, NULL, err, errlen) != 0 ||
             session_keep_best(s, best.net) != 0;
    nn_model_free(&best);
    if (rc) return -1;
  }
  if (swa_resume(s) != 0) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  return 0;
}
