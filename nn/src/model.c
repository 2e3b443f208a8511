/* model: nn_model_save / nn_model_load, the glue between a network (and its
 * AdamW state) and the `.emo` container of model_file.c. Saving gathers the
 * net's tensors into an image in memory and writes it atomically (temporary
 * file, fsync, rename); loading rebuilds the net from the file's architecture
 * text and accepts the tensors only if they match it exactly. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "model_file.h"
#include "net.h" /* net_is_folded */
#include "nn.h"


/* "[32,1,3,3]" */
static void format_shape(const int *dims, int ndim, char *out, size_t len) {
  size_t o = (size_t)snprintf(out, len, "[");
  for (int d = 0; d < ndim && o < len; d++)
    o += (size_t)snprintf(out + o, len - o, d ? ",%d" : "%d", dims[d]);
  if (o < len) snprintf(out + o, len - o, "]");
}

/* ---- saving ----------------------------------------------------------------- */

/* Writes all of buf to fd, retrying short writes and EINTR. */
static int write_fully(int fd, const unsigned char *buf, size_t size) {
  while (size > 0) {
    ssize_t n = write(fd, buf, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    buf += n;
    size -= (size_t)n;
  }
  return 0;
}

/* Makes a finished rename durable: without syncing the folder, a power cut
 * can lose the new directory entry. Best effort: some filesystems refuse to
 * fsync a directory, and the data itself is already synced. */
static void sync_parent_dir(const char *path) {
  const char *slash = strrchr(path, '/');
  char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
  if (!dir) return;
  int fd = open(dir, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
  free(dir);
}

/* Writes buf to "<path>.tmp.<pid>", syncs it and renames it over path, so a
 * reader (or a crash) sees either the old file or the new one, never a part. */
int nn_write_file_atomic(const char *path, const void *data, size_t size, char *err,
                         size_t errlen) {
  const unsigned char *buf = data;
  size_t tlen = strlen(path) + 32;
  char *tmp = malloc(tlen);
  if (!tmp) {
    set_err(err, errlen, "%s: out of memory", path);
    return -1;
  }
  snprintf(tmp, tlen, "%s.tmp.%ld", path, (long)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    set_err(err, errlen, "%s: cannot create temporary file %s: %s", path, tmp, strerror(errno));
    free(tmp);
    return -1;
  }
  const char *step = NULL;
  if (write_fully(fd, buf, size) < 0) step = "write";
  else if (fsync(fd) < 0) step = "fsync";
  int saved = errno;
  if (close(fd) < 0 && !step) {
    step = "close";
    saved = errno;
  }
  if (!step && rename(tmp, path) < 0) {
    step = "rename";
    saved = errno;
  }
  if (step) {
    set_err(err, errlen, "%s: cannot save (%s of %s failed: %s)", path, step, tmp,
            strerror(saved));
    unlink(tmp);
    free(tmp);
    return -1;
  }
  free(tmp);
  sync_parent_dir(path);
  return 0;
}

int nn_model_save(const char *path, const nn_model *model, const nn_adamw *opt, char *err,
                  size_t errlen) {
  if (!path || !model || !model->net) {
    set_err(err, errlen, "%s: no model to save (NULL net)", path ? path : "(null)");
    return -1;
  }
  const nn_net *net = model->net;
  if (net_is_folded(net)) {
    /* A folded net has its bn scales baked into the conv weights and no
     * longer matches its architecture text; saving it would lose the model. */
    set_err(err, errlen,
            "%s: cannot save a net whose batch norms were folded for inference "
            "(save before nn_net_fold_batchnorm)",
            path);
    return -1;
  }
  if (model->num_classes != nn_net_num_classes(net)) {
    set_err(err, errlen, "%s: the model has %d class names, its net %d classes", path,
            model->num_classes, nn_net_num_classes(net));
    return -1;
  }
  int nt = nn_net_num_tensors(net);
  if (nt < 0 || nt > NN_EMO_MAX_TENSORS) {
    set_err(err, errlen, "%s: the net has %d tensors, a model file holds at most %d", path, nt,
            NN_EMO_MAX_TENSORS);
    return -1;
  }
  nn_emo_file f = {
      .arch_text = (char *)nn_net_arch_text(net),
      .num_classes = model->num_classes,
      .class_names = model->class_names,
      .input_h = nn_net_input_h(net),
      .input_w = nn_net_input_w(net),
      .input_c = nn_net_input_c(net),
      .preprocess = model->preprocess,
      .temperature = nn_net_temperature(net),
      .flip_tta = model->flip_tta,
      .train_state = model->train_state,
      .num_tensors = nt,
      .has_opt = opt != NULL,
      .opt_steps = opt ? nn_adamw_steps(opt) : 0,
  };
  f.tensors = calloc(nt ? (size_t)nt : 1, sizeof *f.tensors);
  if (!f.tensors) {
    set_err(err, errlen, "%s: out of memory", path);
    return -1;
  }
  for (int i = 0; i < nt; i++) {
    nn_tensor t = nn_net_tensor(net, i);
    nn_emo_tensor *x = &f.tensors[i];
    x->name = (char *)t.name;
    x->ndim = t.ndim;
    memcpy(x->dims, t.dims, sizeof x->dims);
    x->count = t.count;
    x->data = t.data;
    if (opt) {
      /* nn_adamw_m/v only read here; they take a non-const optimizer. */
      x->m = nn_adamw_m((nn_adamw *)opt, i);
      x->v = nn_adamw_v((nn_adamw *)opt, i);
    }
  }
  unsigned char *image = NULL;
  size_t size = 0;
  char why[NN_ERR_LEN];
  int rc = nn_emo_encode(&f, &image, &size, why, sizeof why);
  free(f.tensors);
  if (rc < 0) {
    set_err(err, errlen, "%s: cannot save: %s", path, why);
    return -1;
  }
  rc = nn_write_file_atomic(path, image, size, err, errlen);
  free(image);
  return rc;
}

/* ---- loading ---------------------------------------------------------------- */

/* Fills idx[i] with the file tensor holding net tensor i, checking that the
 * file has exactly the net's tensors (by name) with exactly their shapes, and
 * optimizer moments exactly for the trainable ones. */
static int match_tensors(const nn_emo_file *f, const nn_net *net, const char *name, int *idx,
                         char *err, size_t errlen) {
  int nt = nn_net_num_tensors(net);
  for (int i = 0; i < nt; i++) idx[i] = -1;
  for (int j = 0; j < f->num_tensors; j++) {
    const nn_emo_tensor *x = &f->tensors[j];
    int i = 0;
    while (i < nt && strcmp(nn_net_tensor(net, i).name, x->name) != 0) i++;
    if (i == nt) {
      set_err(err, errlen,
              "%s: tensor %s is not in the architecture (the file has %d tensors, the "
              "architecture %d)",
              name, x->name, f->num_tensors, nt);
      return -1;
    }
    if (idx[i] >= 0) {
      set_err(err, errlen, "%s: tensor %s appears twice (entries %d and %d)", name, x->name,
              idx[i], j);
      return -1;
    }
    nn_tensor t = nn_net_tensor(net, i);
    if (t.ndim != x->ndim || memcmp(t.dims, x->dims, sizeof(int) * (size_t)t.ndim) != 0) {
      char found[64], expected[64];
      format_shape(x->dims, x->ndim, found, sizeof found);
      format_shape(t.dims, t.ndim, expected, sizeof expected);
      set_err(err, errlen, "%s: tensor %s has shape %s, the architecture expects %s", name,
              x->name, found, expected);
      return -1;
    }
    idx[i] = j;
  }
  for (int i = 0; i < nt; i++) {
    if (idx[i] < 0) {
      set_err(err, errlen,
              "%s: tensor %s is missing (the architecture has %d tensors, the file %d)", name,
              nn_net_tensor(net, i).name, nt, f->num_tensors);
      return -1;
    }
    int trainable = nn_net_tensor(net, i).grad != NULL;
    int has_moments = f->tensors[idx[i]].m != NULL;
    if (f->has_opt && trainable != has_moments) {
      set_err(err, errlen, "%s: tensor %s is %s but %s optimizer state", name,
              nn_net_tensor(net, i).name, trainable ? "trainable" : "not trainable",
              has_moments ? "has" : "has no");
      return -1;
    }
  }
  return 0;
}

/* Builds the optimizer from the file's moments (idx from match_tensors). */
static int load_optimizer(const nn_emo_file *f, nn_net *net, const int *idx, const char *name,
                          nn_adamw **out, char *err, size_t errlen) {
  char why[NN_ERR_LEN];
  nn_adamw *opt = NULL;
  if (nn_adamw_create(&opt, net, why, sizeof why) < 0) {
    set_err(err, errlen, "%s: %s", name, why);
    return -1;
  }
  for (int i = 0; i < nn_net_num_tensors(net); i++) {
    const nn_emo_tensor *x = &f->tensors[idx[i]];
    float *m = nn_adamw_m(opt, i), *v = nn_adamw_v(opt, i);
    if (!x->m) continue;
    if (!m || !v) {
      set_err(err, errlen, "%s: the optimizer has no moments for trainable tensor %s", name,
              x->name);
      nn_adamw_destroy(opt);
      return -1;
    }
    memcpy(m, x->m, sizeof(float) * x->count);
    memcpy(v, x->v, sizeof(float) * x->count);
  }
  nn_adamw_set_steps(opt, f->opt_steps);
  *out = opt;
  return 0;
}

/* Builds and fills the net of a decoded file; *out_net on success. */
static int build_net(const nn_emo_file *f, const char *name, int max_batch, nn_net **out_net,
                     nn_adamw **opt_out, char *err, size_t errlen) {
  size_t slen = strlen(name) + 32;
  char *source = malloc(slen);
  if (!source) {
    set_err(err, errlen, "%s: out of memory", name);
    return -1;
  }
  /* arch parser messages then read "m.emo (architecture):4: conv: ..." */
  snprintf(source, slen, "%s (architecture)", name);
  nn_net *net = NULL;
  int rc = nn_net_create(&net, f->arch_text, source, f->num_classes, max_batch, 0, err, errlen);
  free(source);
  if (rc < 0) return -1;
  int *idx = NULL;
  if (nn_net_num_classes(net) != f->num_classes) {
    set_err(err, errlen, "%s: the file names %d classes, its architecture has %d", name,
            f->num_classes, nn_net_num_classes(net));
    goto fail;
  }
  if (nn_net_input_h(net) != f->input_h || nn_net_input_w(net) != f->input_w ||
      nn_net_input_c(net) != f->input_c) {
    set_err(err, errlen, "%s: the file says input H W C %d %d %d, its architecture %d %d %d", name,
            f->input_h, f->input_w, f->input_c, nn_net_input_h(net), nn_net_input_w(net),
            nn_net_input_c(net));
    goto fail;
  }
  int nt = nn_net_num_tensors(net);
  idx = malloc(sizeof(int) * (nt ? (size_t)nt : 1));
  if (!idx) {
    set_err(err, errlen, "%s: out of memory", name);
    goto fail;
  }
  if (match_tensors(f, net, name, idx, err, errlen) < 0) goto fail;
  for (int i = 0; i < nt; i++) {
    nn_tensor t = nn_net_tensor(net, i);
    memcpy(t.data, f->tensors[idx[i]].data, sizeof(float) * t.count);
  }
  nn_net_set_temperature(net, f->temperature);
  if (opt_out && f->has_opt && load_optimizer(f, net, idx, name, opt_out, err, errlen) < 0)
    goto fail;
  free(idx);
  *out_net = net;
  return 0;
fail:
  free(idx);
  nn_net_destroy(net);
  return -1;
}

int nn_model_load_buffer(const void *data, size_t size, const char *name, nn_model *model,
                         int max_batch, nn_adamw **opt_out, char *err, size_t errlen) {
  memset(model, 0, sizeof *model);
  if (opt_out) *opt_out = NULL;
  if (!name) name = "(model)";
  nn_emo_file f;
  if (nn_emo_decode(data, size, name, &f, err, errlen) < 0) return -1;
  nn_net *net = NULL;
  if (build_net(&f, name, max_batch, &net, opt_out, err, errlen) < 0) {
    nn_emo_free(&f);
    return -1;
  }
  /* The model takes the decoded strings over; the rest of f is freed. */
  model->net = net;
  model->num_classes = f.num_classes;
  model->class_names = f.class_names;
  model->preprocess = f.preprocess;
  model->flip_tta = f.flip_tta;
  model->train_state = f.train_state;
  f.class_names = NULL;
  f.num_classes = 0;
  f.preprocess = NULL;
  f.train_state = NULL;
  nn_emo_free(&f);
  return 0;
}

/* Reads a whole regular file of at most NN_EMO_MAX_FILE bytes. */
static int read_file(const char *path, unsigned char **out, size_t *out_size, char *err,
                     size_t errlen) {
  *out = NULL;
  *out_size = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    set_err(err, errlen, "%s: cannot open model: %s", path, strerror(errno));
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) < 0) {
    set_err(err, errlen, "%s: cannot stat model: %s", path, strerror(errno));
    close(fd);
    return -1;
  }
  if (S_ISDIR(st.st_mode) || !S_ISREG(st.st_mode)) {
    set_err(err, errlen, "%s: is %s, expected a model file", path,
            S_ISDIR(st.st_mode) ? "a directory" : "not a regular file");
    close(fd);
    return -1;
  }
  if (st.st_size > (off_t)NN_EMO_MAX_FILE) {
    set_err(err, errlen, "%s: %lld bytes, over the %u byte limit of .emo files", path,
            (long long)st.st_size, NN_EMO_MAX_FILE);
    close(fd);
    return -1;
  }
  size_t size = (size_t)st.st_size;
  unsigned char *buf = malloc(size ? size : 1);
  if (!buf) {
    set_err(err, errlen, "%s: out of memory for %zu bytes", path, size);
    close(fd);
    return -1;
  }
  size_t got = 0;
  while (got < size) {
    ssize_t n = read(fd, buf + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      set_err(err, errlen, "%s: read %zu of %zu bytes: %s", path, got, size,
              n < 0 ? strerror(errno) : "file shrank while reading");
      free(buf);
      close(fd);
      return -1;
    }
    got += (size_t)n;
  }
  close(fd);
  *out = buf;
  *out_size = size;
  return 0;
}

int nn_model_load(const char *path, nn_model *model, int max_batch, nn_adamw **opt_out,
                  char *err, size_t errlen) {
  memset(model, 0, sizeof *model);
  if (opt_out) *opt_out = NULL;
  unsigned char *buf;
  size_t size;
  if (read_file(path, &buf, &size, err, errlen) < 0) return -1;
  int rc = nn_model_load_buffer(buf, size, path, model, max_batch, opt_out, err, errlen);
  free(buf);
  return rc;
}

void nn_model_free(nn_model *model) {
  if (!model) return;
  nn_net_destroy(model->net);
  if (model->class_names)
    for (int k = 0; k < model->num_classes; k++) free(model->class_names[k]);
  free(model->class_names);
  free(model->preprocess);
  free(model->train_state);
  memset(model, 0, sizeof *model);
}
