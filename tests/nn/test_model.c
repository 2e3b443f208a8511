/* test_model: nn_model_save/load on real networks: round trips of tensors,
 * outputs and optimizer state, mismatches against the architecture,
 * file-system errors, atomic replacement, and the golden files in
 * tests/fixtures/model. The byte codec itself: test_model_file.c.
 *
 * `test_model --write-fixtures DIR` regenerates those golden files. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "model_file.h"
#include "model_test_data.h"
#include "nn.h"

static const char kArch[] =
    "input 8 8 1\nconv 4 3 1\nbn\nrelu\nmaxpool 2\ngap\ndense classes\nsoftmax\n";
static const char *const kClasses[3] = {"angry", "happy", "neutral"};

static char *dup_str(const char *s) {
  char *d = malloc(strlen(s) + 1);
  if (!d) abort();
  return strcpy(d, s);
}

/* Fills every tensor from a generator seeded by its name, so values do not
 * depend on tensor order; non-trainable ones (running stats) stay positive. */
static void fill_tensors(nn_net *net, uint64_t seed) {
  for (int i = 0; i < nn_net_num_tensors(net); i++) {
    nn_tensor t = nn_net_tensor(net, i);
    uint64_t r = hash_name(t.name, seed);
    for (size_t j = 0; j < t.count; j++)
      t.data[j] = t.grad ? rng_float(&r) : 0.5f + 0.5f * (rng_float(&r) + 1.0f);
  }
}

/* A 3-class model of kArch with deterministic contents. */
static int make_model(nn_model *m, uint64_t seed, int with_state) {
  char err[NN_ERR_LEN];
  memset(m, 0, sizeof *m);
  if (nn_net_create(&m->net, kArch, "test.arch", 3, 2, 1, err, sizeof err) < 0) {
    check_fail_at(__FILE__, __LINE__, "nn_net_create: %s", err);
    return -1;
  }
  fill_tensors(m->net, seed);
  nn_net_set_temperature(m->net, 0.75f);
  m->num_classes = 3;
  m->class_names = malloc(3 * sizeof(char *));
  for (int k = 0; k < 3; k++) m->class_names[k] = dup_str(kClasses[k]);
  m->preprocess = dup_str("colour=grey crop=center crop_scale=1 resize=area range=0,1");
  m->flip_tta = 1;
  m->train_state = with_state ? dup_str("epoch=2\nbest_val_acc=0.5\n") : NULL;
  return 0;
}

/* Optimizer state with deterministic moments and step count. */
static nn_adamw *make_opt(nn_net *net, uint64_t seed) {
  char err[NN_ERR_LEN];
  nn_adamw *opt = NULL;
  if (nn_adamw_create(&opt, net, err, sizeof err) < 0) {
    check_fail_at(__FILE__, __LINE__, "nn_adamw_create: %s", err);
    return NULL;
  }
  for (int i = 0; i < nn_net_num_tensors(net); i++) {
    nn_tensor t = nn_net_tensor(net, i);
    float *mm = nn_adamw_m(opt, i), *vv = nn_adamw_v(opt, i);
    if (!mm) continue;
    uint64_t r = hash_name(t.name, seed ^ 0x55);
    for (size_t j = 0; j < t.count; j++) mm[j] = 0.01f * rng_float(&r);
    for (size_t j = 0; j < t.count; j++) vv[j] = 1e-4f * (rng_float(&r) + 1.0f);
  }
  nn_adamw_set_steps(opt, 1234);
  return opt;
}

static void fixed_input(float *x, int n) {
  uint64_t r = 5;
  for (int i = 0; i < n * 64; i++) x[i] = 0.5f * (rng_float(&r) + 1.0f);
}

/* Same tensors (names, shapes, bits) in the same order. */
static int same_tensors(const nn_net *a, const nn_net *b) {
  if (nn_net_num_tensors(a) != nn_net_num_tensors(b)) return 0;
  for (int i = 0; i < nn_net_num_tensors(a); i++) {
    nn_tensor x = nn_net_tensor(a, i), y = nn_net_tensor(b, i);
    if (strcmp(x.name, y.name) || x.ndim != y.ndim || memcmp(x.dims, y.dims, sizeof x.dims) ||
        x.count != y.count || memcmp(x.data, y.data, 4 * x.count))
      return 0;
  }
  return 1;
}

static int same_moments(const nn_net *net, nn_adamw *a, nn_adamw *b) {
  if (nn_adamw_steps(a) != nn_adamw_steps(b)) return 0;
  for (int i = 0; i < nn_net_num_tensors(net); i++) {
    size_t n = nn_net_tensor(net, i).count;
    if (!nn_adamw_m(a, i) != !nn_adamw_m(b, i)) return 0;
    if (nn_adamw_m(a, i) && (memcmp(nn_adamw_m(a, i), nn_adamw_m(b, i), 4 * n) ||
                             memcmp(nn_adamw_v(a, i), nn_adamw_v(b, i), 4 * n)))
      return 0;
  }
  return 1;
}

static int model_is_empty(const nn_model *m) {
  return !m->net && !m->num_classes && !m->class_names && !m->preprocess && !m->flip_tta &&
         !m->train_state;
}

/* The whole file, or NULL (then *size is 0). Owned by the caller. */
static unsigned char *read_all(const char *path, size_t *size) {
  *size = 0;
  FILE *fp = fopen(path, "rb");
  if (!fp) return NULL;
  unsigned char *buf = NULL;
  long n = -1;
  if (fseek(fp, 0, SEEK_END) == 0) n = ftell(fp);
  if (n > 0 && fseek(fp, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n)) &&
      fread(buf, 1, (size_t)n, fp) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(fp);
  if (buf) *size = (size_t)n;
  return buf;
}

static int write_all(const char *path, const void *p, size_t n) {
  FILE *fp = fopen(path, "wb");
  if (!fp) return -1;
  size_t w = fwrite(p, 1, n, fp);
  return (fclose(fp) == 0 && w == n) ? 0 : -1;
}

/* Number of entries in dir whose name contains ".tmp.". */
static int count_temps(const char *dir) {
  DIR *d = opendir(dir);
  int n = 0;
  if (!d) return -1;
  for (struct dirent *e; (e = readdir(d));) n += strstr(e->d_name, ".tmp.") != NULL;
  closedir(d);
  return n;
}

static void test_round_trip(const char *dir) {
  char path[512], err[NN_ERR_LEN];
  snprintf(path, sizeof path, "%s/rt.emo", dir);
  nn_model a, b;
  if (make_model(&a, 11, 1) < 0) return;
  CHECK(nn_model_save(path, &a, NULL, err, sizeof err) == 0);
  CHECK(count_temps(dir) == 0);
  if (nn_model_load(path, &b, 2, NULL, err, sizeof err) < 0) {
    check_fail_at(__FILE__, __LINE__, "load: %s", err);
    nn_model_free(&a);
    return;
  }
  CHECK(same_tensors(a.net, b.net));
  CHECK(nn_net_num_tensors(b.net) >= 6); /* conv w, b; bn gamma, beta, mean, var; dense ... */
  CHECK(b.num_classes == 3 && b.flip_tta == 1 && nn_net_temperature(b.net) == 0.75f);
  for (int k = 0; k < 3; k++) CHECK(!strcmp(b.class_names[k], kClasses[k]));
  CHECK(!strcmp(b.preprocess, a.preprocess) && !strcmp(b.train_state, a.train_state));
  CHECK(!strcmp(nn_net_arch_text(b.net), nn_net_arch_text(a.net)));
  float x[2 * 64], pa[6], pb[6];
  fixed_input(x, 2);
  CHECK(nn_net_forward(a.net, x, 2, pa) == 0 && nn_net_forward(b.net, x, 2, pb) == 0);
  CHECK(!memcmp(pa, pb, sizeof pa));
  CHECK(fabsf(pa[0] + pa[1] + pa[2] - 1.0f) < 1e-5f && pa[0] != pa[1]);

  /* Optimizer state: saved, restored bit for bit, and training resumes the
   * same: one step on each copy gives identical tensors. */
  nn_adamw *oa = make_opt(a.net, 3), *ob = NULL;
  nn_model_free(&b);
  CHECK(nn_model_save(path, &a, oa, err, sizeof err) == 0);
  CHECK(nn_model_load(path, &b, 2, &ob, err, sizeof err) == 0);
  CHECK(ob != NULL && b.net && same_tensors(a.net, b.net));
  nn_model c; /* the same file without asking for the optimizer */
  CHECK(nn_model_load(path, &c, 1, NULL, err, sizeof err) == 0 && same_tensors(a.net, c.net));
  nn_model_free(&c);
  if (ob && b.net) {
    CHECK(same_moments(a.net, oa, ob) && nn_adamw_steps(ob) == 1234);
    int labels[2] = {0, 2};
    nn_adamw_opts o;
    nn_adamw_defaults(&o);
    nn_net_set_training(a.net, 1);
    nn_net_set_training(b.net, 1);
    float la = nn_net_train_batch(a.net, x, labels, 2, NULL, NULL);
    float lb = nn_net_train_batch(b.net, x, labels, 2, NULL, NULL);
    CHECK(la == lb && la > 0.0f);
    nn_adamw_step(oa, a.net, &o);
    nn_adamw_step(ob, b.net, &o);
    CHECK(same_tensors(a.net, b.net) && same_moments(a.net, oa, ob));
    CHECK(nn_adamw_steps(ob) == 1235);
  }
  nn_adamw_destroy(ob);
  nn_model_free(&b);
  /* A plain file, asking for the optimizer: none. */
  CHECK(nn_model_save(path, &a, NULL, err, sizeof err) == 0);
  ob = (nn_adamw *)&ob; /* must be overwritten with NULL */
  CHECK(nn_model_load(path, &b, 1, &ob, err, sizeof err) == 0 && ob == NULL);
  nn_model_free(&b);
  CHECK(model_is_empty(&b));
  nn_model_free(NULL);

  /* A model without training state or preprocessing text. */
  free(a.train_state);
  a.train_state = NULL;
  free(a.preprocess);
  a.preprocess = NULL;
  CHECK(nn_model_save(path, &a, NULL, err, sizeof err) == 0);
  CHECK(nn_model_load(path, &b, 1, NULL, err, sizeof err) == 0);
  CHECK(b.train_state == NULL && b.preprocess && !strcmp(b.preprocess, ""));
  nn_model_free(&b);
  nn_adamw_destroy(oa);
  nn_model_free(&a);
}

/* Decodes a saved model, lets `edit` change a shallow copy of it (whose
 * tensor array has one spare slot; pointers stay owned by the decoded file),
 * re-encodes the copy and loads that. */
static int load_edited(const unsigned char *img, size_t size, void (*edit)(nn_emo_file *),
                       nn_adamw **opt, char *err, size_t errlen) {
  nn_emo_file f;
  if (nn_emo_decode(img, size, "orig.emo", &f, err, errlen) < 0) return 1;
  nn_emo_file e = f;
  e.tensors = malloc(sizeof *e.tensors * (size_t)(f.num_tensors + 1));
  if (!e.tensors) abort();
  memcpy(e.tensors, f.tensors, sizeof *e.tensors * (size_t)f.num_tensors);
  edit(&e);
  unsigned char *img2;
  size_t size2;
  int rc = nn_emo_encode(&e, &img2, &size2, err, errlen);
  free(e.tensors);
  nn_emo_free(&f);
  if (rc < 0) return 1;
  nn_model m;
  m.net = (nn_net *)&m; /* must be cleared by the loader */
  rc = nn_model_load_buffer(img2, size2, "m.emo", &m, 1, opt, err, errlen);
  CHECK(rc < 0 ? model_is_empty(&m) && (!opt || !*opt) : 1);
  nn_model_free(&m);
  if (opt) {
    nn_adamw_destroy(*opt);
    *opt = NULL;
  }
  free(img2);
  return rc;
}

static void edit_shape(nn_emo_file *f) { /* conv weight [4,1,3,3] -> [2,2,3,3] */
  f->tensors[0].dims[0] = 2;
  f->tensors[0].dims[1] = 2;
}
static void edit_drop_last(nn_emo_file *f) { f->num_tensors--; }
static void edit_duplicate(nn_emo_file *f) { f->tensors[1] = f->tensors[0]; }
static void edit_rename(nn_emo_file *f) { f->tensors[0].name[0] = '7'; }
static void edit_classes(nn_emo_file *f) { f->num_classes = 2; }
static void edit_input(nn_emo_file *f) { f->input_h = 9; }
static void edit_arch(nn_emo_file *f) { f->arch_text[0] = 'X'; }
static void edit_arch_wider(nn_emo_file *f) { f->arch_text[strlen("input 8 8 1\nconv ")] = '5'; }
static void edit_extra(nn_emo_file *f) { /* a copy of tensor 0 under a new name */
  static char name[] = "9.conv.weight";
  f->tensors[f->num_tensors] = f->tensors[0];
  f->tensors[f->num_tensors].name = name;
  f->num_tensors++;
}
static void edit_fixed_classes(nn_emo_file *f) { /* "dense classes" -> "dense 3", 2 classes */
  char *p = strstr(f->arch_text, "dense classes");
  if (p) memcpy(p + 6, "3      ", 7);
  f->num_classes = 2;
}
static void edit_moments_on_stat(nn_emo_file *f) { /* moments on a running statistic */
  for (int i = 0; i < f->num_tensors; i++)
    if (!f->tensors[i].m) {
      f->tensors[i].m = f->tensors[i].data;
      f->tensors[i].v = f->tensors[i].data;
      return;
    }
}
static void edit_no_moments(nn_emo_file *f) { f->tensors[0].m = f->tensors[0].v = NULL; }
static void edit_nothing(nn_emo_file *f) { (void)f; }

static void test_mismatches(const char *dir) {
  char path[512], err[NN_ERR_LEN];
  snprintf(path, sizeof path, "%s/mm.emo", dir);
  nn_model a;
  if (make_model(&a, 12, 1) < 0) return;
  nn_adamw *oa = make_opt(a.net, 4), *ob = NULL;
  size_t size;
  CHECK(nn_model_save(path, &a, oa, err, sizeof err) == 0);
  unsigned char *img = read_all(path, &size);
  CHECK(img != NULL);
  if (!img) {
    nn_adamw_destroy(oa);
    nn_model_free(&a);
    return;
  }

  CHECK(load_edited(img, size, edit_nothing, &ob, err, sizeof err) == 0);
  EXPECT_FAIL(load_edited(img, size, edit_shape, &ob, err, sizeof err), err,
              "m.emo: tensor 0.conv.weight has shape [2,2,3,3], the architecture expects [4,1,3,3]");
  EXPECT_FAIL(load_edited(img, size, edit_drop_last, &ob, err, sizeof err), err,
              "is missing (the architecture has");
  EXPECT_FAIL(load_edited(img, size, edit_extra, &ob, err, sizeof err), err,
              "m.emo: tensor 9.conv.weight is not in the architecture");
  EXPECT_FAIL(load_edited(img, size, edit_duplicate, &ob, err, sizeof err), err,
              "m.emo: tensor 0.conv.weight appears twice");
  EXPECT_FAIL(load_edited(img, size, edit_rename, &ob, err, sizeof err), err,
              "m.emo: tensor 7.conv.weight is not in the architecture");
  /* `dense classes` follows the file's class count, so the dense tensors no
   * longer match what was saved for 3 classes. */
  EXPECT_FAIL(load_edited(img, size, edit_classes, &ob, err, sizeof err), err, "the architecture expects");
  EXPECT_FAIL(load_edited(img, size, edit_input, &ob, err, sizeof err), err,
              "m.emo: the file says input H W C 9 8 1, its architecture 8 8 1");
  EXPECT_FAIL(load_edited(img, size, edit_arch, &ob, err, sizeof err), err, "m.emo (architecture):1");
  EXPECT_FAIL(load_edited(img, size, edit_arch_wider, &ob, err, sizeof err), err,
              "has shape [4,1,3,3], the architecture expects [5,1,3,3]");
  EXPECT_FAIL(load_edited(img, size, edit_moments_on_stat, &ob, err, sizeof err), err,
              "is not trainable but has optimizer state");
  EXPECT_FAIL(load_edited(img, size, edit_no_moments, &ob, err, sizeof err), err,
              "tensor 0.conv.weight is trainable but has no optimizer state");
  /* An architecture with a fixed class count that the file contradicts. */
  EXPECT_FAIL(load_edited(img, size, edit_fixed_classes, &ob, err, sizeof err), err,
              "m.emo (architecture)");
  CHECK(strstr(err, "2 classes") != NULL);
  free(img);
  nn_adamw_destroy(oa);
  nn_model_free(&a);
}

static void test_files(const char *dir) {
  char path[512], err[NN_ERR_LEN];
  nn_model m;
  nn_adamw *opt = (nn_adamw *)&m;
  snprintf(path, sizeof path, "%s/does-not-exist.emo", dir);
  EXPECT_FAIL(nn_model_load(path, &m, 1, &opt, err, sizeof err), err, "does-not-exist.emo: cannot open model: No such file");
  CHECK(model_is_empty(&m) && opt == NULL);
  EXPECT_FAIL(nn_model_load(dir, &m, 1, NULL, err, sizeof err), err, "is a directory, expected a model file");
  snprintf(path, sizeof path, "%s/empty.emo", dir);
  CHECK(write_all(path, "", 0) == 0);
  EXPECT_FAIL(nn_model_load(path, &m, 1, NULL, err, sizeof err), err, "empty.emo: empty file");
  snprintf(path, sizeof path, "%s/zip.emo", dir);
  CHECK(write_all(path, "PK\3\4\24\0\0\0", 8) == 0);
  EXPECT_FAIL(nn_model_load(path, &m, 1, NULL, err, sizeof err), err, "zip.emo: bad magic \"PK\\3\\4\"");

  /* A saved model corrupted on disk, then cut short. */
  nn_model a;
  if (make_model(&a, 13, 0) < 0) return;
  snprintf(path, sizeof path, "%s/c.emo", dir);
  size_t size;
  CHECK(nn_model_save(path, &a, NULL, err, sizeof err) == 0);
  unsigned char *img = read_all(path, &size);
  CHECK(img != NULL && size > 100);
  if (!img || size <= 100) {
    free(img);
    nn_model_free(&a);
    return;
  }
  img[size / 2] ^= 0x10;
  CHECK(write_all(path, img, size) == 0);
  EXPECT_FAIL(nn_model_load(path, &m, 1, NULL, err, sizeof err), err, "c.emo: CRC mismatch");
  CHECK(write_all(path, img, size - 100) == 0);
  EXPECT_FAIL(nn_model_load(path, &m, 1, NULL, err, sizeof err), err, "c.emo: truncated: the header says");
  CHECK(model_is_empty(&m));
  free(img);

  /* max_batch is passed to the net; 0 is refused by nn_net_create. */
  CHECK(nn_model_save(path, &a, NULL, err, sizeof err) == 0);
  CHECK(nn_model_load(path, &m, 3, NULL, err, sizeof err) == 0 && nn_net_max_batch(m.net) == 3);
  nn_model_free(&m);
  CHECK(nn_model_load(path, &m, 0, NULL, err, sizeof err) < 0 && model_is_empty(&m));
  nn_model_free(&a);
}

static void test_atomic_save(const char *dir) {
  char path[512], err[NN_ERR_LEN];
  nn_model a, b, m;
  if (make_model(&a, 21, 0) < 0) return;
  if (make_model(&b, 22, 0) < 0) return;

  /* Replacing an existing file: the new contents, no temporary left. */
  snprintf(path, sizeof path, "%s/at.emo", dir);
  CHECK(nn_model_save(path, &a, NULL, err, sizeof err) == 0);
  CHECK(nn_model_save(path, &b, NULL, err, sizeof err) == 0);
  CHECK(nn_model_load(path, &m, 1, NULL, err, sizeof err) == 0 && same_tensors(m.net, b.net));
  nn_model_free(&m);
  CHECK(count_temps(dir) == 0);

  /* A failing save leaves the old file as it was. */
  size_t nb, na;
  unsigned char *before = read_all(path, &nb), *after;
  CHECK(before != NULL);
  b.num_classes = 2;
  EXPECT_FAIL(nn_model_save(path, &b, NULL, err, sizeof err), err, "at.emo: the model has 2 class names, its net 3");
  b.num_classes = 3;
  free(b.class_names[1]);
  b.class_names[1] = dup_str("");
  EXPECT_FAIL(nn_model_save(path, &b, NULL, err, sizeof err), err, "at.emo: cannot save: class 1 name");
  after = read_all(path, &na);
  CHECK(before && after && na == nb && !memcmp(before, after, nb));
  free(before);
  free(after);
  CHECK(count_temps(dir) == 0);

  /* Into a folder that does not exist; over a directory (rename fails). */
  snprintf(path, sizeof path, "%s/no/such/dir/x.emo", dir);
  EXPECT_FAIL(nn_model_save(path, &a, NULL, err, sizeof err), err, "x.emo: cannot create temporary file");
  snprintf(path, sizeof path, "%s/adir", dir);
  CHECK(mkdir(path, 0755) == 0);
  EXPECT_FAIL(nn_model_save(path, &a, NULL, err, sizeof err), err, "adir: cannot save (rename of");
  CHECK(count_temps(dir) == 0);
  CHECK(rmdir(path) == 0);

  /* A read-only folder (root ignores permissions, so only checked as a user). */
  snprintf(path, sizeof path, "%s/ro", dir);
  CHECK(mkdir(path, 0555) == 0);
  if (geteuid() != 0) {
    char file[600];
    snprintf(file, sizeof file, "%s/x.emo", path);
    EXPECT_FAIL(nn_model_save(file, &a, NULL, err, sizeof err), err, "Permission denied");
    CHECK(count_temps(path) == 0);
  }
  CHECK(rmdir(path) == 0);

  /* A folded net cannot be saved. */
  CHECK(nn_net_fold_batchnorm(a.net, err, sizeof err) == 0);
  snprintf(path, sizeof path, "%s/folded.emo", dir);
  EXPECT_FAIL(nn_model_save(path, &a, NULL, err, sizeof err), err,
              "folded.emo: cannot save a net whose batch norms were folded");
  CHECK(access(path, F_OK) != 0 && count_temps(dir) == 0);
  nn_model_free(&a);
  nn_model_free(&b);
}

/* The golden files were written by --write-fixtures; they must still load to
 * the very same model, and saving that model must give the same bytes. */
static void test_golden(const char *dir) {
  static const char *const names[2] = {"tiny.emo", "tiny_opt.emo"};
  for (int g = 0; g < 2; g++) {
    char path[512], out[512], err[NN_ERR_LEN];
    snprintf(path, sizeof path, "%s/model/%s", EMOCAM_FIXTURES, names[g]);
    snprintf(out, sizeof out, "%s/golden.emo", dir);
    nn_model m, ref;
    nn_adamw *opt = NULL;
    if (nn_model_load(path, &m, 1, &opt, err, sizeof err) < 0) {
      check_fail_at(__FILE__, __LINE__, "golden %s: %s", names[g], err);
      continue;
    }
    CHECK(make_model(&ref, 100, g) == 0 && same_tensors(m.net, ref.net));
    CHECK((opt != NULL) == g);
    if (opt) {
      nn_adamw *ref_opt = make_opt(ref.net, 101);
      CHECK(same_moments(ref.net, opt, ref_opt));
      nn_adamw_destroy(ref_opt);
    }
    CHECK(nn_model_save(out, &m, opt, err, sizeof err) == 0);
    size_t nx, ny;
    unsigned char *x = read_all(path, &nx), *y = read_all(out, &ny);
    CHECK(x && y && nx == ny && !memcmp(x, y, nx));
    free(x);
    free(y);
    unlink(out);
    nn_adamw_destroy(opt);
    nn_model_free(&ref);
    nn_model_free(&m);
  }
}

static int write_fixtures(const char *dir) {
  char path[512], err[NN_ERR_LEN];
  for (int g = 0; g < 2; g++) {
    nn_model m;
    if (make_model(&m, 100, g) < 0) return 1;
    nn_adamw *opt = g ? make_opt(m.net, 101) : NULL;
    snprintf(path, sizeof path, "%s/%s", dir, g ? "tiny_opt.emo" : "tiny.emo");
    int rc = nn_model_save(path, &m, opt, err, sizeof err);
    if (rc < 0) fprintf(stderr, "%s\n", err);
    else printf("wrote %s\n", path);
    nn_adamw_destroy(opt);
    nn_model_free(&m);
    if (rc < 0) return 1;
  }
  return 0;
}

/* Removes the files of the scratch folder (flat) and the folder. */
static void remove_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  char path[600];
  for (struct dirent *e; (e = readdir(d));) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (unlink(path) < 0) rmdir(path);
  }
  closedir(d);
  rmdir(dir);
}

int main(int argc, char **argv) {
  nn_set_threads(1);
  if (argc == 3 && !strcmp(argv[1], "--write-fixtures")) return write_fixtures(argv[2]);
  char dir[] = "/tmp/emocam_test_model_XXXXXX";
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  test_round_trip(dir);
  test_mismatches(dir);
  test_files(dir);
  test_atomic_save(dir);
  test_golden(dir);
  remove_dir(dir);
  return check_finish("test_model");
}
