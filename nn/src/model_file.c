/* model_file: encodes and decodes the bytes of an `.emo` model file. Every
 * field is written and read byte by byte in little-endian order, so a file is
 * the same on every machine and no struct layout leaks into it. The decoder
 * trusts nothing: it checks the CRC first, then every length, count and shape
 * against a limit and against the bytes left before allocating.
 *
 * ---- .emo format, version 1 ------------------------------------------------
 * Integers are little-endian; u32/u64 unsigned, i64 two's complement; f32 is
 * an IEEE-754 binary32 stored as its u32 bit pattern. `str` is a u32 byte
 * length n followed by n bytes of text (no terminator, no NUL byte inside).
 *
 *   offset  size        field
 *   0       4           magic "EMOC" (45 4D 4F 43)
 *   4       4           u32 format version, 1
 *   8       8           u64 size of the whole file in bytes, trailer included
 *   16      4+n         str architecture text (n <= 65536), see assets/arch/README.md
 *           4           u32 class count K (1..1000)
 *           K x (4+n)   str class name, in class-index order (1..256 bytes each)
 *           4 x 3       u32 input H, W, C (1..4096 each)
 *           4+n         str preprocessing description (n <= 4096, may be 0)
 *           4           f32 softmax temperature (finite, > 0)
 *           4           u32 flip_tta, 0 or 1
 *           4+n         str training state, "key=value\n" lines (n <= 1 MiB;
 *                       n = 0: a plain model, no training state)
 *           4           u32 tensor count T (0..4096)
 *           T x         tensor:
 *             4+n         str name, e.g. "3.conv.weight" (1..256 bytes)
 *             4           u32 ndim (1..4)
 *             4 x ndim    u32 dims, outermost first (each >= 1)
 *             4 x count   f32 data, row-major; count = product of dims
 *           4           u32 optimizer flag: 0 none, 1 AdamW state follows
 *           (flag 1:)
 *           8           i64 AdamW step count (>= 0)
 *           4           u32 moment count M (<= T)
 *           M x         moments of one trainable tensor:
 *             4           u32 tensor index (< T, strictly increasing)
 *             4 x count   f32 first moment m
 *             4 x count   f32 second moment v
 *   size-4  4           u32 CRC-32 (IEEE, as zlib crc32) of bytes [0, size-4)
 *
 * Nothing may follow the optimizer section but the CRC. A decoder checks, in
 * order: magic, version (newer ones are refused, not guessed at), that the
 * declared size equals the file size (so truncation is named as such), the
 * CRC, then each field as it is read. Files are at most 1 GiB.
 */
#include "model_file.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "nn.h"

_Static_assert(sizeof(float) == 4, "f32 fields need a 4-byte float");

static const unsigned char kMagic[4] = {'E', 'M', 'O', 'C'};
enum { HEADER_SIZE = 16, TRAILER_SIZE = 4 };


/* ---- writing ---------------------------------------------------------------
 * A writer with p == NULL only counts bytes, so the encoder runs once to size
 * the buffer and once to fill it, with no reallocation. */
typedef struct {
  unsigned char *p;
  size_t off;
} writer;

static void put_u32(writer *w, uint32_t x) {
  if (w->p)
    for (int i = 0; i < 4; i++) w->p[w->off + i] = (unsigned char)(x >> (8 * i));
  w->off += 4;
}

static void put_u64(writer *w, uint64_t x) {
  if (w->p)
    for (int i = 0; i < 8; i++) w->p[w->off + i] = (unsigned char)(x >> (8 * i));
  w->off += 8;
}

static void put_f32s(writer *w, const float *x, size_t n) {
  if (w->p)
    for (size_t i = 0; i < n; i++) {
      uint32_t bits;
      memcpy(&bits, &x[i], 4);
      for (int b = 0; b < 4; b++) w->p[w->off + 4 * i + b] = (unsigned char)(bits >> (8 * b));
    }
  w->off += 4 * n;
}

static void put_str(writer *w, const char *s) {
  size_t n = s ? strlen(s) : 0;
  put_u32(w, (uint32_t)n);
  if (w->p && n) memcpy(w->p + w->off, s, n);
  w->off += n;
}

/* Checks tensor t of f against the decoder's limits. */
static int check_tensor_for_encode(const nn_emo_file *f, int t, char *err, size_t errlen) {
  const nn_emo_tensor *x = &f->tensors[t];
  size_t n = x->name ? strlen(x->name) : 0;
  if (n < 1 || n > NN_EMO_MAX_NAME) {
    set_err(err, errlen, "tensor %d name is %zu bytes long, expected 1..%u", t, n,
            NN_EMO_MAX_NAME);
    return -1;
  }
  size_t count = 1;
  if (x->ndim < 1 || x->ndim > NN_EMO_MAX_NDIM) {
    set_err(err, errlen, "tensor %s has %d dims, expected 1..%d", x->name, x->ndim,
            NN_EMO_MAX_NDIM);
    return -1;
  }
  for (int d = 0; d < x->ndim; d++) {
    if (x->dims[d] < 1 || (size_t)x->dims[d] > NN_EMO_MAX_FILE / 4 / count) {
      set_err(err, errlen, "tensor %s dim %d is %d, expected >= 1 and a size under 1 GiB",
              x->name, d, x->dims[d]);
      return -1;
    }
    count *= (size_t)x->dims[d];
  }
  if (count != x->count || !x->data || (f->has_opt && !x->m != !x->v)) {
    set_err(err, errlen, "tensor %s: count %zu, data or moments inconsistent with dims", x->name,
            x->count);
    return -1;
  }
  return 0;
}

/* Checks that f satisfies every limit the decoder enforces. */
static int check_for_encode(const nn_emo_file *f, char *err, size_t errlen) {
  if (!f->arch_text || strlen(f->arch_text) > NN_EMO_MAX_ARCH) {
    set_err(err, errlen, "architecture text is %s, expected at most %u bytes",
            f->arch_text ? "too long" : "missing", NN_EMO_MAX_ARCH);
    return -1;
  }
  if (f->num_classes < 1 || f->num_classes > NN_EMO_MAX_CLASSES || !f->class_names) {
    set_err(err, errlen, "%d classes, expected 1..%d with names", f->num_classes,
            NN_EMO_MAX_CLASSES);
    return -1;
  }
  for (int k = 0; k < f->num_classes; k++) {
    size_t n = f->class_names[k] ? strlen(f->class_names[k]) : 0;
    if (n < 1 || n > NN_EMO_MAX_NAME) {
      set_err(err, errlen, "class %d name is %zu bytes long, expected 1..%u", k, n,
              NN_EMO_MAX_NAME);
      return -1;
    }
  }
  const int in[3] = {f->input_h, f->input_w, f->input_c};
  for (int i = 0; i < 3; i++)
    if (in[i] < 1 || in[i] > NN_EMO_MAX_INPUT) {
      set_err(err, errlen, "input %c is %d, expected 1..%d", "HWC"[i], in[i], NN_EMO_MAX_INPUT);
      return -1;
    }
  if (f->preprocess && strlen(f->preprocess) > NN_EMO_MAX_PREPROCESS) {
    set_err(err, errlen, "preprocessing text is %zu bytes, expected at most %u",
            strlen(f->preprocess), NN_EMO_MAX_PREPROCESS);
    return -1;
  }
  if (!isfinite(f->temperature) || f->temperature <= 0.0f) {
    set_err(err, errlen, "temperature is %g, expected a finite value > 0", (double)f->temperature);
    return -1;
  }
  if (f->flip_tta != 0 && f->flip_tta != 1) {
    set_err(err, errlen, "flip_tta is %d, expected 0 or 1", f->flip_tta);
    return -1;
  }
  if (f->train_state && strlen(f->train_state) > NN_EMO_MAX_TRAIN_STATE) {
    set_err(err, errlen, "training state is %zu bytes, expected at most %u",
            strlen(f->train_state), NN_EMO_MAX_TRAIN_STATE);
    return -1;
  }
  if (f->num_tensors < 0 || f->num_tensors > NN_EMO_MAX_TENSORS ||
      (f->num_tensors > 0 && !f->tensors)) {
    set_err(err, errlen, "%d tensors, expected 0..%d", f->num_tensors, NN_EMO_MAX_TENSORS);
    return -1;
  }
  if (f->has_opt && f->opt_steps < 0) {
    set_err(err, errlen, "optimizer step count is %" PRId64 ", expected >= 0", f->opt_steps);
    return -1;
  }
  for (int t = 0; t < f->num_tensors; t++)
    if (check_tensor_for_encode(f, t, err, errlen)) return -1;
  return 0;
}

/* Writes the whole file through w (counting or filling). */
static void write_all(writer *w, const nn_emo_file *f, uint64_t total) {
  if (w->p) memcpy(w->p, kMagic, 4);
  w->off = 4;
  put_u32(w, NN_EMO_VERSION);
  put_u64(w, total);
  put_str(w, f->arch_text);
  put_u32(w, (uint32_t)f->num_classes);
  for (int k = 0; k < f->num_classes; k++) put_str(w, f->class_names[k]);
  put_u32(w, (uint32_t)f->input_h);
  put_u32(w, (uint32_t)f->input_w);
  put_u32(w, (uint32_t)f->input_c);
  put_str(w, f->preprocess);
  put_f32s(w, &f->temperature, 1);
  put_u32(w, (uint32_t)f->flip_tta);
  put_str(w, f->train_state);
  put_u32(w, (uint32_t)f->num_tensors);
  for (int t = 0; t < f->num_tensors; t++) {
    const nn_emo_tensor *x = &f->tensors[t];
    put_str(w, x->name);
    put_u32(w, (uint32_t)x->ndim);
    for (int d = 0; d < x->ndim; d++) put_u32(w, (uint32_t)x->dims[d]);
    put_f32s(w, x->data, x->count);
  }
  put_u32(w, f->has_opt ? 1u : 0u);
  if (f->has_opt) {
    uint32_t moments = 0;
    for (int t = 0; t < f->num_tensors; t++) moments += f->tensors[t].m != NULL;
    put_u64(w, (uint64_t)f->opt_steps);
    put_u32(w, moments);
    for (int t = 0; t < f->num_tensors; t++) {
      const nn_emo_tensor *x = &f->tensors[t];
      if (!x->m) continue;
      put_u32(w, (uint32_t)t);
      put_f32s(w, x->m, x->count);
      put_f32s(w, x->v, x->count);
    }
  }
  if (w->p) put_u32(w, nn_crc32(0, w->p, w->off));
  else w->off += TRAILER_SIZE;
}

int nn_emo_encode(const nn_emo_file *f, unsigned char **out, size_t *out_size, char *err,
                  size_t errlen) {
  *out = NULL;
  *out_size = 0;
  if (check_for_encode(f, err, errlen) < 0) return -1;
  writer w = {NULL, 0};
  write_all(&w, f, 0);
  size_t total = w.off;
  if (total > NN_EMO_MAX_FILE) {
    set_err(err, errlen, "model is %zu bytes, over the %u byte limit of .emo files", total,
            NN_EMO_MAX_FILE);
    return -1;
  }
  w.p = malloc(total);
  if (!w.p) {
    set_err(err, errlen, "out of memory for a %zu byte model image", total);
    return -1;
  }
  write_all(&w, f, total);
  *out = w.p;
  *out_size = total;
  return 0;
}

/* ---- reading ---------------------------------------------------------------
 * end is where the CRC trailer starts: no field may reach into it. */
typedef struct {
  const unsigned char *p;
  size_t off, end;
  const char *name;
  char *err;
  size_t errlen;
} reader;

static uint32_t le32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p) {
  return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* Checks that n more bytes exist; `what` names the field for the message. */
static int need(reader *r, size_t n, const char *what) {
  if (r->end - r->off >= n) return 0;
  set_err(r->err, r->errlen, "%s: truncated: needs %zu bytes at offset %zu for %s, data ends at %zu",
          r->name, n, r->off, what, r->end);
  return -1;
}

static int get_u32(reader *r, uint32_t *x, const char *what) {
  if (need(r, 4, what) < 0) return -1;
  *x = le32(r->p + r->off);
  r->off += 4;
  return 0;
}

/* Reads a u32 that must lie in [lo, hi]. */
static int get_u32_in(reader *r, uint32_t lo, uint32_t hi, uint32_t *x, const char *what) {
  size_t at = r->off;
  if (get_u32(r, x, what) < 0) return -1;
  if (*x >= lo && *x <= hi) return 0;
  set_err(r->err, r->errlen, "%s: %s is %" PRIu32 " at offset %zu, expected %" PRIu32 "..%" PRIu32,
          r->name, what, *x, at, lo, hi);
  return -1;
}

/* Copies n f32 values into dst (its room checked by the caller via need()). */
static void get_f32s(reader *r, float *dst, size_t n) {
  for (size_t i = 0; i < n; i++) {
    uint32_t bits = le32(r->p + r->off + 4 * i);
    memcpy(&dst[i], &bits, 4);
  }
  r->off += 4 * n;
}

/* Reads a str of lo..hi bytes into a new NUL-terminated string. lo == 0 and
 * an empty text with `empty_is_null` gives *out = NULL. */
static int get_str(reader *r, uint32_t lo, uint32_t hi, int empty_is_null, char **out,
                   const char *what) {
  *out = NULL;
  char field[96];
  snprintf(field, sizeof field, "%s length", what);
  uint32_t n;
  if (get_u32_in(r, lo, hi, &n, field) < 0) return -1;
  if (need(r, n, what) < 0) return -1;
  if (memchr(r->p + r->off, 0, n)) {
    set_err(r->err, r->errlen, "%s: %s at offset %zu contains a NUL byte, expected text", r->name,
            what, r->off);
    return -1;
  }
  if (n == 0 && empty_is_null) return 0;
  char *s = malloc((size_t)n + 1);
  if (!s) {
    set_err(r->err, r->errlen, "%s: out of memory for %s (%" PRIu32 " bytes)", r->name, what, n);
    return -1;
  }
  memcpy(s, r->p + r->off, n);
  s[n] = '\0';
  r->off += n;
  *out = s;
  return 0;
}

/* Allocates an array of count elements of elem bytes after checking that the
 * file still holds at least count * min_bytes bytes (each element's smallest
 * encoding), so a forged count cannot make us allocate more than the file. */
static void *alloc_counted(reader *r, size_t count, size_t elem, size_t min_bytes,
                           const char *what) {
  if (count > (r->end - r->off) / min_bytes) {
    set_err(r->err, r->errlen,
            "%s: %zu %s need at least %zu bytes at offset %zu, only %zu remain", r->name, count,
            what, count * min_bytes, r->off, r->end - r->off);
    return NULL;
  }
  void *p = calloc(count ? count : 1, elem);
  if (!p) set_err(r->err, r->errlen, "%s: out of memory for %zu %s", r->name, count, what);
  return p;
}

/* Escapes up to 4 magic bytes for a message: printable ASCII as is, the rest
 * as C octal escapes ("PK\3\4"). */
static void escape_magic(const unsigned char *p, size_t n, char *out, size_t outlen) {
  size_t o = 0;
  out[0] = '\0';
  for (size_t i = 0; i < n && i < 4 && o + 5 < outlen; i++) {
    unsigned char c = p[i];
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') out[o++] = (char)c;
    else o += (size_t)snprintf(out + o, outlen - o, "\\%o", c);
  }
  out[o] = '\0';
}

/* Checks magic, version, declared size and CRC; sets r->end. */
static int check_envelope(reader *r, size_t size) {
  if (size == 0) {
    set_err(r->err, r->errlen, "%s: empty file, expected an emocam model (magic \"EMOC\")", r->name);
    return -1;
  }
  if (size < 4 && memcmp(r->p, kMagic, size) == 0) {
    set_err(r->err, r->errlen, "%s: truncated: %zu bytes, an emocam model has at least %d",
            r->name, size, HEADER_SIZE + TRAILER_SIZE);
    return -1;
  }
  if (size < 4 || memcmp(r->p, kMagic, 4) != 0) {
    char found[24];
    escape_magic(r->p, size, found, sizeof found);
    set_err(r->err, r->errlen, "%s: bad magic \"%s\", expected \"EMOC\" (not an emocam model?)",
            r->name, found);
    return -1;
  }
  if (size < HEADER_SIZE + TRAILER_SIZE) {
    set_err(r->err, r->errlen, "%s: truncated: %zu bytes, an emocam model has at least %d",
            r->name, size, HEADER_SIZE + TRAILER_SIZE);
    return -1;
  }
  uint32_t version = le32(r->p + 4);
  if (version > NN_EMO_VERSION) {
    set_err(r->err, r->errlen,
            "%s: format version %" PRIu32 " is newer than this emocam understands (%u); "
            "update emocam",
            r->name, version, NN_EMO_VERSION);
    return -1;
  }
  if (version < 1) {
    set_err(r->err, r->errlen, "%s: format version 0 is invalid, expected %u", r->name,
            NN_EMO_VERSION);
    return -1;
  }
  uint64_t declared = le64(r->p + 8);
  if (declared > size) {
    set_err(r->err, r->errlen, "%s: truncated: the header says %" PRIu64 " bytes, the file has %zu",
            r->name, declared, size);
    return -1;
  }
  if (declared < size) {
    set_err(r->err, r->errlen,
            "%s: %zu unexpected bytes after the end of the model (the header says %" PRIu64
            " bytes, the file has %zu)",
            r->name, size - (size_t)declared, declared, size);
    return -1;
  }
  if (size > NN_EMO_MAX_FILE) {
    set_err(r->err, r->errlen, "%s: %zu bytes, over the %u byte limit of .emo files", r->name, size,
            NN_EMO_MAX_FILE);
    return -1;
  }
  uint32_t stored = le32(r->p + size - TRAILER_SIZE);
  uint32_t computed = nn_crc32(0, r->p, size - TRAILER_SIZE);
  if (stored != computed) {
    set_err(r->err, r->errlen,
            "%s: CRC mismatch: stored 0x%08" PRIx32 ", computed 0x%08" PRIx32 " (file corrupted?)",
            r->name, stored, computed);
    return -1;
  }
  r->off = HEADER_SIZE;
  r->end = size - TRAILER_SIZE;
  return 0;
}

static int get_tensor(reader *r, int t, nn_emo_tensor *x) {
  char what[NN_EMO_MAX_NAME + 64];
  snprintf(what, sizeof what, "tensor %d name", t);
  if (get_str(r, 1, NN_EMO_MAX_NAME, 0, &x->name, what) < 0) return -1;
  snprintf(what, sizeof what, "tensor %s ndim", x->name);
  uint32_t ndim;
  if (get_u32_in(r, 1, NN_EMO_MAX_NDIM, &ndim, what) < 0) return -1;
  x->ndim = (int)ndim;
  size_t count = 1;
  for (int d = 0; d < x->ndim; d++) {
    snprintf(what, sizeof what, "tensor %s dim %d", x->name, d);
    size_t at = r->off;
    uint32_t dim;
    if (get_u32(r, &dim, what) < 0) return -1;
    /* Every element takes 4 bytes, so count can never exceed the bytes left. */
    if (dim < 1 || dim > (r->end - r->off) / 4 / count) {
      set_err(r->err, r->errlen,
              "%s: %s is %" PRIu32 " at offset %zu: expected >= 1 and at most the %zu bytes left",
              r->name, what, dim, at, r->end - r->off);
      return -1;
    }
    x->dims[d] = (int)dim;
    count *= dim;
  }
  x->count = count;
  snprintf(what, sizeof what, "tensor %s data", x->name);
  if (need(r, 4 * count, what) < 0) return -1;
  x->data = malloc(4 * count);
  if (!x->data) {
    set_err(r->err, r->errlen, "%s: out of memory for %s (%zu floats)", r->name, what, count);
    return -1;
  }
  get_f32s(r, x->data, count);
  return 0;
}

static int get_optimizer(reader *r, nn_emo_file *f) {
  uint32_t flag;
  if (get_u32_in(r, 0, 1, &flag, "optimizer flag") < 0) return -1;
  f->has_opt = (int)flag;
  if (!flag) return 0;
  if (need(r, 8, "optimizer step count") < 0) return -1;
  uint64_t steps = le64(r->p + r->off);
  if (steps > (uint64_t)INT64_MAX) {
    set_err(r->err, r->errlen, "%s: optimizer step count at offset %zu is negative", r->name,
            r->off);
    return -1;
  }
  r->off += 8;
  f->opt_steps = (int64_t)steps;
  uint32_t moments;
  if (get_u32_in(r, 0, (uint32_t)f->num_tensors, &moments, "optimizer moment count") < 0) return -1;
  int next = 0; /* the lowest tensor index the next entry may name */
  for (uint32_t e = 0; e < moments; e++) {
    uint32_t index;
    char what[NN_EMO_MAX_NAME + 64];
    snprintf(what, sizeof what, "optimizer entry %" PRIu32 " tensor index", e);
    if (get_u32_in(r, (uint32_t)next, (uint32_t)f->num_tensors - 1, &index, what) < 0) return -1;
    next = (int)index + 1;
    nn_emo_tensor *x = &f->tensors[index];
    snprintf(what, sizeof what, "tensor %s moments", x->name);
    if (need(r, 8 * x->count, what) < 0) return -1;
    x->m = malloc(4 * x->count);
    x->v = malloc(4 * x->count);
    if (!x->m || !x->v) {
      set_err(r->err, r->errlen, "%s: out of memory for %s", r->name, what);
      return -1;
    }
    get_f32s(r, x->m, x->count);
    get_f32s(r, x->v, x->count);
  }
  return 0;
}

static int get_body(reader *r, nn_emo_file *f) {
  if (get_str(r, 0, NN_EMO_MAX_ARCH, 0, &f->arch_text, "architecture text") < 0) return -1;
  uint32_t k;
  if (get_u32_in(r, 1, NN_EMO_MAX_CLASSES, &k, "class count") < 0) return -1;
  f->class_names = alloc_counted(r, k, sizeof(char *), 4 + 1, "class names");
  if (!f->class_names) return -1;
  f->num_classes = (int)k;
  for (uint32_t i = 0; i < k; i++) {
    char what[48];
    snprintf(what, sizeof what, "class %" PRIu32 " name", i);
    if (get_str(r, 1, NN_EMO_MAX_NAME, 0, &f->class_names[i], what) < 0) return -1;
  }
  uint32_t in[3];
  static const char *const kInput[3] = {"input height", "input width", "input channels"};
  for (int i = 0; i < 3; i++)
    if (get_u32_in(r, 1, NN_EMO_MAX_INPUT, &in[i], kInput[i]) < 0) return -1;
  f->input_h = (int)in[0];
  f->input_w = (int)in[1];
  f->input_c = (int)in[2];
  if (get_str(r, 0, NN_EMO_MAX_PREPROCESS, 0, &f->preprocess, "preprocessing text") < 0) return -1;
  size_t at = r->off;
  if (need(r, 4, "temperature") < 0) return -1;
  get_f32s(r, &f->temperature, 1);
  if (!isfinite(f->temperature) || f->temperature <= 0.0f) {
    set_err(r->err, r->errlen, "%s: temperature is %g at offset %zu, expected a finite value > 0",
            r->name, (double)f->temperature, at);
    return -1;
  }
  uint32_t flip;
  if (get_u32_in(r, 0, 1, &flip, "flip_tta") < 0) return -1;
  f->flip_tta = (int)flip;
  if (get_str(r, 0, NN_EMO_MAX_TRAIN_STATE, 1, &f->train_state, "training state") < 0) return -1;
  uint32_t t;
  if (get_u32_in(r, 0, NN_EMO_MAX_TENSORS, &t, "tensor count") < 0) return -1;
  /* smallest tensor: name length, 1-byte name, ndim, one dim, one float */
  f->tensors = alloc_counted(r, t, sizeof(nn_emo_tensor), 4 + 1 + 4 + 4 + 4, "tensors");
  if (!f->tensors) return -1;
  f->num_tensors = (int)t;
  for (uint32_t i = 0; i < t; i++)
    if (get_tensor(r, (int)i, &f->tensors[i]) < 0) return -1;
  if (get_optimizer(r, f) < 0) return -1;
  if (r->off != r->end) {
    set_err(r->err, r->errlen,
            "%s: %zu unexpected bytes at offset %zu after the optimizer section, expected the CRC",
            r->name, r->end - r->off, r->off);
    return -1;
  }
  return 0;
}

int nn_emo_decode(const void *data, size_t size, const char *name, nn_emo_file *f, char *err,
                  size_t errlen) {
  memset(f, 0, sizeof *f);
  reader r = {data, 0, 0, name ? name : "(model)", err, errlen};
  if (check_envelope(&r, size) < 0) return -1;
  if (get_body(&r, f) < 0) {
    nn_emo_free(f);
    return -1;
  }
  return 0;
}

void nn_emo_free(nn_emo_file *f) {
  if (!f) return;
  free(f->arch_text);
  if (f->class_names)
    for (int k = 0; k < f->num_classes; k++) free(f->class_names[k]);
  free(f->class_names);
  free(f->preprocess);
  free(f->train_state);
  if (f->tensors)
    for (int t = 0; t < f->num_tensors; t++) {
      free(f->tensors[t].name);
      free(f->tensors[t].data);
      free(f->tensors[t].m);
      free(f->tensors[t].v);
    }
  free(f->tensors);
  memset(f, 0, sizeof *f);
}
