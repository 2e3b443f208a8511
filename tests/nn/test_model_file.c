/* test_model_file: the .emo byte codec (model_file.h) driven directly:
 * round trip, and every rejection path, including files whose CRC was
 * recomputed after a field was forged. test_model.c drives the same files
 * through nn_model_save/load on real networks. */
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

int main(void) {
  nn_set_threads(1);
  test_crc32();
  test_codec_round_trip();
  test_envelope();
  test_forged_fields();
  return check_finish("test_model_file");
}
