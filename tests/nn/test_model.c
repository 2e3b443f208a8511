/* test_model: the .emo model file. Part one drives the byte codec
 * (model_file.h) directly: round trip, and every rejection path, including
 * files whose CRC was recomputed after a field was forged. Part two drives
 * nn_model_save/load on real networks: round trips of tensors, outputs and
 * optimizer state, mismatches against the architecture, file-system errors,
 * atomic replacement, and the golden files in tests/fixtures/model.
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
#include "nn.h"

/* rc must be an error whose message contains substr. */
#define EXPECT_FAIL(rc, err, substr) expect_fail((rc), (err), (substr), __LINE__)
static void expect_fail(int rc, const char *err, const char *substr, int line) {
  if (rc >= 0) {
    check_fail_at(__FILE__, line, "expected failure with \"%s\", got success", substr);
  } else if (!strstr(err, substr)) {
    check_fail_at(__FILE__, line, "expected \"%s\" in message: %s", substr, err);
  }
}

/* splitmix64: fixed-seed test data, independent of nn's own generator. */
static uint64_t rng_next(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
static float rng_float(uint64_t *s) { /* [-1, 1) */
  return (float)((double)(rng_next(s) >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}
static uint64_t hash_name(const char *s, uint64_t seed) { /* FNV-1a */
  uint64_t h = 1469598103934665603ull ^ seed;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

static void put32(unsigned char *p, uint32_t x) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(x >> (8 * i));
}
static uint32_t get32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
/* Rewrites the size field and the CRC so a forged file passes the envelope. */
static void reseal(unsigned char *p, size_t size) {
  for (int i = 0; i < 8; i++) p[8 + i] = (unsigned char)((uint64_t)size >> (8 * i));
  put32(p + size - 4, nn_crc32(0, p, size - 4));
}

/* ---- part one: the codec ------------------------------------------------- */

static void test_crc32(void) {
  CHECK(nn_crc32(0, "123456789", 9) == 0xCBF43926u);
  CHECK(nn_crc32(0, "", 0) == 0);
  CHECK(nn_crc32(0, "The quick brown fox jumps over the lazy dog", 43) == 0x414FA339u);
  CHECK(nn_crc32(nn_crc32(0, "1234", 4), "56789", 5) == 0xCBF43926u);
  unsigned char zeros[32] = {0};
  CHECK(nn_crc32(0, zeros, 32) == 0x190A55ADu);
}

/* A small file exercising every field: 3 tensors, moments on two. */
typedef struct {
  nn_emo_file f;
  nn_emo_tensor t[3];
  char *classes[3];
  float w[24], b[2], mean[2], mw[24], vw[24], mb[2], vb[2];
} sample;

static void sample_init(sample *s) {
  memset(s, 0, sizeof *s);
  uint64_t r = 7;
  for (int i = 0; i < 24; i++) s->w[i] = rng_float(&r), s->mw[i] = rng_float(&r),
                               s->vw[i] = fabsf(rng_float(&r));
  for (int i = 0; i < 2; i++) s->b[i] = rng_float(&r), s->mean[i] = rng_float(&r),
                              s->mb[i] = rng_float(&r), s->vb[i] = fabsf(rng_float(&r));
  s->classes[0] = "angry";
  s->classes[1] = "happy";
  s->classes[2] = "neutral";
  s->t[0] = (nn_emo_tensor){"0.conv.weight", 4, {2, 3, 2, 2}, 24, s->w, s->mw, s->vw};
  s->t[1] = (nn_emo_tensor){"0.conv.bias", 1, {2}, 2, s->b, s->mb, s->vb};
  s->t[2] = (nn_emo_tensor){"1.bn.mean", 1, {2}, 2, s->mean, NULL, NULL};
  s->f = (nn_emo_file){.arch_text = "input 4 4 3\nconv 2 2 1\nbn\ngap\ndense classes\n",
                       .num_classes = 3,
                       .class_names = s->classes,
                       .input_h = 4,
                       .input_w = 4,
                       .input_c = 3,
                       .preprocess = "colour=grey range=0,1",
                       .temperature = 1.5f,
                       .flip_tta = 1,
                       .train_state = "epoch=3\nbest=0.61\n",
                       .num_tensors = 3,
                       .tensors = s->t,
                       .has_opt = 1,
                       .opt_steps = 42};
}

/* Offsets of fields in the encoding of a sample (walks the layout of
 * model_file.c independently of its code). */
typedef struct {
  size_t arch, classes, class0, input, pre, temp, flip, ts, tcount, t0, t0_ndim, t0_dim0, opt,
      opt_steps, opt_count, opt_e0, opt_e1, crc;
} layout;

static layout sample_layout(const sample *s) {
  layout l;
  l.arch = 16;
  l.classes = l.arch + 4 + strlen(s->f.arch_text);
  l.class0 = l.classes + 4;
  size_t o = l.class0;
  for (int k = 0; k < 3; k++) o += 4 + strlen(s->classes[k]);
  l.input = o;
  l.pre = l.input + 12;
  l.temp = l.pre + 4 + strlen(s->f.preprocess);
  l.flip = l.temp + 4;
  l.ts = l.flip + 4;
  l.tcount = l.ts + 4 + strlen(s->f.train_state);
  l.t0 = l.tcount + 4;
  l.t0_ndim = l.t0 + 4 + strlen(s->t[0].name);
  l.t0_dim0 = l.t0_ndim + 4;
  o = l.t0;
  for (int t = 0; t < 3; t++) o += 4 + strlen(s->t[t].name) + 4 + 4 * (size_t)s->t[t].ndim +
                                   4 * s->t[t].count;
  l.opt = o;
  l.opt_steps = o + 4;
  l.opt_count = l.opt_steps + 8;
  l.opt_e0 = l.opt_count + 4;
  l.opt_e1 = l.opt_e0 + 4 + 8 * s->t[0].count;
  l.crc = l.opt_e1 + 4 + 8 * s->t[1].count;
  return l;
}

static void test_codec_round_trip(void) {
  sample s;
  sample_init(&s);
  unsigned char *img;
  size_t size;
  char err[NN_ERR_LEN];
  CHECK(nn_emo_encode(&s.f, &img, &size, err, sizeof err) == 0);
  layout l = sample_layout(&s);
  CHECK(size == l.crc + 4);
  CHECK(memcmp(img, "EMOC", 4) == 0 && get32(img + 4) == 1 && get32(img + 8) == size);
  CHECK(get32(img + size - 4) == nn_crc32(0, img, size - 4));
  nn_emo_file d;
  CHECK(nn_emo_decode(img, size, "s.emo", &d, err, sizeof err) == 0);
  CHECK(!strcmp(d.arch_text, s.f.arch_text) && d.num_classes == 3);
  for (int k = 0; k < 3; k++) CHECK(!strcmp(d.class_names[k], s.classes[k]));
  CHECK(d.input_h == 4 && d.input_w == 4 && d.input_c == 3);
  CHECK(!strcmp(d.preprocess, s.f.preprocess) && d.temperature == 1.5f && d.flip_tta == 1);
  CHECK(!strcmp(d.train_state, s.f.train_state));
  CHECK(d.has_opt == 1 && d.opt_steps == 42 && d.num_tensors == 3);
  for (int t = 0; t < 3 && d.num_tensors == 3; t++) {
    CHECK(!strcmp(d.tensors[t].name, s.t[t].name) && d.tensors[t].ndim == s.t[t].ndim);
    CHECK(!memcmp(d.tensors[t].dims, s.t[t].dims, sizeof s.t[t].dims));
    CHECK(d.tensors[t].count == s.t[t].count);
    CHECK(!memcmp(d.tensors[t].data, s.t[t].data, 4 * s.t[t].count));
    CHECK(!d.tensors[t].m == !s.t[t].m);
    if (s.t[t].m) CHECK(!memcmp(d.tensors[t].m, s.t[t].m, 4 * s.t[t].count) &&
                        !memcmp(d.tensors[t].v, s.t[t].v, 4 * s.t[t].count));
  }
  nn_emo_free(&d);
  CHECK(d.tensors == NULL && d.arch_text == NULL);
  free(img);

  /* No optimizer, no training state, no preprocessing: all optional. */
  s.f.has_opt = 0;
  s.f.train_state = NULL;
  s.f.preprocess = NULL;
  CHECK(nn_emo_encode(&s.f, &img, &size, err, sizeof err) == 0);
  CHECK(nn_emo_decode(img, size, "s.emo", &d, err, sizeof err) == 0);
  CHECK(d.has_opt == 0 && d.train_state == NULL && !strcmp(d.preprocess, ""));
  CHECK(d.num_tensors == 3 && d.tensors[0].m == NULL);
  nn_emo_free(&d);
  free(img);

  /* The encoder refuses what the decoder would refuse. */
  s.f.temperature = 0.0f;
  EXPECT_FAIL(nn_emo_encode(&s.f, &img, &size, err, sizeof err), err, "temperature");
  s.f.temperature = 1.0f;
  s.t[1].dims[0] = 3;
  EXPECT_FAIL(nn_emo_encode(&s.f, &img, &size, err, sizeof err), err, "inconsistent");
  s.t[1].dims[0] = 2;
  s.classes[1] = "";
  EXPECT_FAIL(nn_emo_encode(&s.f, &img, &size, err, sizeof err), err, "class 1 name");
}

static void test_envelope(void) {
  sample s;
  sample_init(&s);
  unsigned char *img;
  size_t size;
  char err[NN_ERR_LEN];
  nn_emo_file d;
  CHECK(nn_emo_encode(&s.f, &img, &size, err, sizeof err) == 0);
  unsigned char *buf = malloc(size + 16);

  EXPECT_FAIL(nn_emo_decode(img, 0, "e.emo", &d, err, sizeof err), err, "e.emo: empty file");
  EXPECT_FAIL(nn_emo_decode("PK\3\4 rest of a zip", 19, "happy.emo", &d, err, sizeof err), err,
              "happy.emo: bad magic \"PK\\3\\4\", expected \"EMOC\" (not an emocam model?)");
  EXPECT_FAIL(nn_emo_decode("EM", 2, "m.emo", &d, err, sizeof err), err, "m.emo: truncated");
  memcpy(buf, img, size);
  put32(buf + 4, 7);
  EXPECT_FAIL(nn_emo_decode(buf, size, "m.emo", &d, err, sizeof err), err,
              "m.emo: format version 7 is newer than this emocam understands (1)");
  put32(buf + 4, 0);
  EXPECT_FAIL(nn_emo_decode(buf, size, "m.emo", &d, err, sizeof err), err, "format version 0");

  /* Cut anywhere: named as truncation, whatever field the cut falls in. */
  for (size_t n = 1; n < size; n++)
    EXPECT_FAIL(nn_emo_decode(img, n, "m.emo", &d, err, sizeof err), err, "m.emo: truncated");
  memcpy(buf, img, size);
  memset(buf + size, 0, 16);
  EXPECT_FAIL(nn_emo_decode(buf, size + 16, "m.emo", &d, err, sizeof err), err,
              "16 unexpected bytes after the end");

  /* Any single flipped bit is caught; in the body, by the CRC. */
  for (size_t pos = 0; pos < size; pos++) {
    memcpy(buf, img, size);
    buf[pos] ^= (unsigned char)(1u << (pos % 8));
    int rc = nn_emo_decode(buf, size, "m.emo", &d, err, sizeof err);
    if (pos >= 16) EXPECT_FAIL(rc, err, "m.emo: CRC mismatch");
    else CHECK(rc < 0);
  }
  CHECK(d.tensors == NULL && d.class_names == NULL); /* left empty on failure */
  free(buf);
  free(img);
}

/* Forged fields behind a valid CRC: each is refused with a message naming it. */
static void test_forged_fields(void) {
  sample s;
  sample_init(&s);
  layout l = sample_layout(&s);
  unsigned char *img;
  size_t size;
  char err[NN_ERR_LEN];
  nn_emo_file d;
  CHECK(nn_emo_encode(&s.f, &img, &size, err, sizeof err) == 0);
  unsigned char *buf = malloc(size + 8);
  struct {
    size_t off;
    uint32_t value;
    const char *expect;
  } cases[] = {
      {l.arch, 0x7fffffffu, "architecture text length is 2147483647 at offset 16, expected 0..65536"},
      {l.arch, 60000, "truncated: needs 60000 bytes at offset 20 for architecture text"},
      {l.classes, 0xffffffffu, "class count is 4294967295"},
      {l.classes, 0, "class count is 0"},
      {l.classes, 1000, "1000 class names need at least 5000 bytes"},
      {l.class0, 0, "class 0 name length is 0"},
      {l.class0, 257, "class 0 name length is 257"},
      {l.class0 + 4, 0x00676e61u, "class 0 name at offset"}, /* "ang\0": a NUL inside */
      {l.input, 0, "input height is 0"},
      {l.input + 4, 5000, "input width is 5000"},
      {l.input + 8, 0xffffffffu, "input channels is 4294967295"},
      {l.pre, 4097, "preprocessing text length is 4097"},
      {l.temp, 0x7fc00000u, "temperature is nan"},
      {l.temp, 0xbf800000u, "temperature is -1"},
      {l.temp, 0x7f800000u, "temperature is inf"},
      {l.flip, 2, "flip_tta is 2"},
      {l.ts, 0x80000000u, "training state length is 2147483648"},
      {l.tcount, 5000, "tensor count is 5000"},
      {l.tcount, 4000, "4000 tensors need at least"},
      {l.tcount, 2, "optimizer flag is 9"}, /* the 3rd tensor's name length read as the flag */
      {l.t0, 0, "tensor 0 name length is 0"},
      {l.t0_ndim, 0, "tensor 0.conv.weight ndim is 0"},
      {l.t0_ndim, 5, "tensor 0.conv.weight ndim is 5"},
      {l.t0_dim0, 0, "tensor 0.conv.weight dim 0 is 0"},
      {l.t0_dim0, 0x40000000u, "tensor 0.conv.weight dim 0 is 1073741824"},
      {l.t0_dim0 + 4, 0xffffffffu, "tensor 0.conv.weight dim 1 is 4294967295"},
      {l.opt, 2, "optimizer flag is 2"},
      {l.opt_steps + 4, 0x80000000u, "optimizer step count at offset"},
      {l.opt_count, 4, "optimizer moment count is 4"},
      {l.opt_e0, 3, "optimizer entry 0 tensor index is 3"},
      {l.opt_e1, 0, "optimizer entry 1 tensor index is 0 at offset"},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    memcpy(buf, img, size);
    put32(buf + cases[c].off, cases[c].value);
    reseal(buf, size);
    int rc = nn_emo_decode(buf, size, "f.emo", &d, err, sizeof err);
    if (rc >= 0 || !strstr(err, cases[c].expect) || strncmp(err, "f.emo: ", 7) != 0) {
      check_fail_at(__FILE__, __LINE__,
                    "forged case %zu (offset %zu = %" PRIu32 "): expected \"%s\", got %s", c,
                    cases[c].off, cases[c].value, cases[c].expect, rc >= 0 ? "success" : err);
    }
    if (rc >= 0) nn_emo_free(&d);
  }

  /* Extra bytes between the optimizer section and the CRC. */
  memcpy(buf, img, size - 4);
  memset(buf + size - 4, 0, 4);
  reseal(buf, size + 4);
  EXPECT_FAIL(nn_emo_decode(buf, size + 4, "f.emo", &d, err, sizeof err), err,
              "4 unexpected bytes at offset");

  /* Body cut at every offset and resealed: the parser's own bounds checks. */
  int truncated = 0;
  for (size_t n = 16; n < size - 4; n++) {
    memcpy(buf, img, n);
    reseal(buf, n + 4);
    int rc = nn_emo_decode(buf, n + 4, "f.emo", &d, err, sizeof err);
    CHECK(rc < 0 && strncmp(err, "f.emo: ", 7) == 0);
    truncated += strstr(err, "truncated") != NULL;
  }
  printf("codec: %d of %zu resealed cuts reported as truncated, the rest by a count limit\n",
         truncated, size - 20);
  CHECK(truncated > (int)(size - 20) / 2);

  /* Random resealed mutations: never a crash, and a message on every failure. */
  uint64_t r = 99;
  int accepted = 0;
  for (int iter = 0; iter < 20000; iter++) {
    memcpy(buf, img, size);
    int flips = 1 + (int)(rng_next(&r) % 4);
    for (int i = 0; i < flips; i++) {
      size_t pos = 16 + rng_next(&r) % (size - 20);
      buf[pos] = (rng_next(&r) & 1) ? (unsigned char)rng_next(&r) : buf[pos] ^ 0x80;
    }
    reseal(buf, size);
    err[0] = '\0';
    if (nn_emo_decode(buf, size, "f.emo", &d, err, sizeof err) == 0) {
      accepted++;
      nn_emo_free(&d);
    } else {
      CHECK(strncmp(err, "f.emo: ", 7) == 0 && strlen(err) > 12);
    }
  }
  printf("codec: %d of 20000 resealed random mutations decode (data bytes), the rest are refused\n",
         accepted);
  free(buf);
  free(img);
}

/* ---- part two: models on real networks ----------------------------------- */

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
  test_crc32();
  test_codec_round_trip();
  test_envelope();
  test_forged_fields();
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
