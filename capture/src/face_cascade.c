/* face_cascade: a strict reader for exactly one XML schema, OpenCV 4's
 * "opencv-cascade-classifier" with stageType BOOST, featureType HAAR and
 * stump weak classifiers (what opencv_traincascade writes and opencv-data
 * ships), without an XML library. Anything else is rejected with a message
 * naming the file, the line, the element path and what was expected.
 *
 * Schema (element order inside a parent is free, as in OpenCV's reader):
 *   <opencv_storage><cascade type_id="opencv-cascade-classifier">
 *     <stageType>BOOST</stageType> <featureType>HAAR</featureType>
 *     <height>24</height> <width>24</width>
 *     <stageParams>..</stageParams> <featureParams>..</featureParams> (optional)
 *     <stageNum>N</stageNum>
 *     <stages> N x <_> <maxWeakCount>K</maxWeakCount> <stageThreshold>t</stageThreshold>
 *                      <weakClassifiers> K x <_> <internalNodes>0 -1 featureIdx thr</internalNodes>
 *                                               <leafValues>left right</leafValues> </_>
 *     <features> <_> <rects> 1..3 x <_>x y w h weight</_> </rects> [<tilted>0</tilted>] </_> ...
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "face_cascade.h"
#include "util.h"

/* Limits checked before anything is allocated or grown (the frontal-face
 * cascade has 25 stages, 2913 stumps and 2913 features). */
#define XR_MAX_FILE (64L << 20)
#define XR_MAX_STAGES 1000
#define XR_MAX_WEAK 100000 /* per stage and in total */
#define XR_MAX_FEATURES 100000
#define XR_MAX_DEPTH 16
/* Numbers in one text element: 5 in a rectangle, 4 per node in
 * <internalNodes> (read up to 16 nodes, to say "a tree" rather than "too many"). */
#define XR_MAX_NUMS 64
/* OpenCV lowers every stage threshold by this much when it loads one. */
#define XR_THRESHOLD_EPS 1e-5f

typedef struct {
  const char *name; /* into the buffer, not NUL-terminated */
  int len;
  int index; /* position among its parent's children named "_", else -1 */
} xr_frame;

/* Reader state: the whole file, NUL-terminated, and the element path. */
typedef struct {
  const char *path;
  const char *s;
  size_t n, pos;
  char *err;
  size_t errlen;
  int failed;
  xr_frame stack[XR_MAX_DEPTH];
  int depth;
} xr;

typedef struct {
  int closing;      /* </name> */
  int self_closing; /* <name/> */
  const char *name;
  int len;
  char type_id[64]; /* value of a type_id attribute, "" if none */
} xr_tag;

/* Growable array that never passes `limit` elements. */
typedef struct {
  void *p;
  int n, cap;
} xr_vec;

__attribute__((format(printf, 2, 3))) static int xr_fail(xr *x, const char *fmt, ...) {
  if (x->failed) return -1; /* keep the first, most specific message */
  x->failed = 1;
  char what[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof(what), fmt, ap);
  va_end(ap);
  int line = 1;
  for (size_t i = 0; i < x->pos && i < x->n; i++) line += x->s[i] == '\n';
  char where[200] = "";
  size_t w = 0;
  for (int d = 0; d < x->depth && w < sizeof(where); d++) {
    const xr_frame *f = &x->stack[d];
    int k = snprintf(where + w, sizeof(where) - w, "%s%.*s", d ? "/" : "",
                     f->len > 40 ? 40 : f->len, f->name);
    if (k < 0) break;
    w += (size_t)k;
    if (f->index >= 0 && w < sizeof(where)) {
      k = snprintf(where + w, sizeof(where) - w, "[%d]", f->index);
      if (k < 0) break;
      w += (size_t)k;
    }
  }
  if (where[0])
    cap_msg(x->err, x->errlen, "%s: line %d, in <%s>: %s", x->path, line, where, what);
  else
    cap_msg(x->err, x->errlen, "%s: line %d: %s", x->path, line, what);
  return -1;
}

/* Replaces bytes that would garble a message (control, non-ASCII) by '?'. */
static void xr_printable(char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 32 || (unsigned char)*s > 126) *s = '?';
}

static int xr_is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static int xr_is_name(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.' || c == ':';
}

static int xr_starts(const xr *x, const char *lit) {
  size_t k = strlen(lit);
  return x->n - x->pos >= k && memcmp(x->s + x->pos, lit, k) == 0;
}

/* Moves past the next occurrence of lit; 0, or -1 if there is none. */
static int xr_skip_past(xr *x, const char *lit) {
  size_t k = strlen(lit);
  for (size_t i = x->pos; i + k <= x->n; i++)
    if (memcmp(x->s + i, lit, k) == 0) {
      x->pos = i + k;
      return 0;
    }
  return -1;
}

/* Whitespace, comments and (prolog only) <?...?> between elements. */
static int xr_skip_misc(xr *x, int allow_pi) {
  for (;;) {
    while (x->pos < x->n && xr_is_space(x->s[x->pos])) x->pos++;
    if (xr_starts(x, "<!--")) {
      if (xr_skip_past(x, "-->") < 0) return xr_fail(x, "unterminated comment <!--");
    } else if (allow_pi && xr_starts(x, "<?")) {
      if (xr_skip_past(x, "?>") < 0) return xr_fail(x, "unterminated <?...?>");
    } else {
      return 0;
    }
  }
}

static int xr_name_is(const char *name, int len, const char *lit) {
  return (size_t)len == strlen(lit) && memcmp(name, lit, (size_t)len) == 0;
}

/* Reads the next tag; only whitespace and comments may come before it. */
static int xr_next_tag(xr *x, xr_tag *t) {
  memset(t, 0, sizeof(*t));
  if (xr_skip_misc(x, 0) < 0) return -1;
  if (x->pos >= x->n) return xr_fail(x, "unexpected end of file (truncated?)");
  if (x->s[x->pos] != '<') {
    char c = x->s[x->pos];
    return xr_fail(x, "unexpected text starting with '%c', expected an element",
                   c >= 32 && c < 127 ? c : '?');
  }
  x->pos++;
  if (x->pos < x->n && x->s[x->pos] == '/') {
    t->closing = 1;
    x->pos++;
  }
  t->name = x->s + x->pos;
  while (x->pos < x->n && xr_is_name(x->s[x->pos])) x->pos++;
  t->len = (int)(x->s + x->pos - t->name);
  if (t->len == 0) return xr_fail(x, "malformed tag: no element name after '<'");
  if (t->len > 64) return xr_fail(x, "element name longer than 64 characters");
  for (;;) { /* attributes: name="value" */
    while (x->pos < x->n && xr_is_space(x->s[x->pos])) x->pos++;
    if (x->pos >= x->n)
      return xr_fail(x, "unexpected end of file inside <%.*s> (truncated?)", t->len, t->name);
    char c = x->s[x->pos];
    if (c == '>') {
      x->pos++;
      return 0;
    }
    if (c == '/' && !t->closing && x->pos + 1 < x->n && x->s[x->pos + 1] == '>') {
      x->pos += 2;
      t->self_closing = 1;
      return 0;
    }
    if (t->closing || !xr_is_name(c))
      return xr_fail(x, "malformed tag <%s%.*s>", t->closing ? "/" : "", t->len, t->name);
    const char *an = x->s + x->pos;
    while (x->pos < x->n && xr_is_name(x->s[x->pos])) x->pos++;
    int alen = (int)(x->s + x->pos - an);
    while (x->pos < x->n && xr_is_space(x->s[x->pos])) x->pos++;
    if (x->pos + 1 >= x->n || x->s[x->pos] != '=' ||
        (x->s[x->pos + 1] != '"' && x->s[x->pos + 1] != '\''))
      return xr_fail(x, "malformed attribute in <%.*s>: expected name=\"value\"", t->len, t->name);
    char q = x->s[x->pos + 1];
    x->pos += 2;
    const char *v = x->s + x->pos;
    while (x->pos < x->n && x->s[x->pos] != q && x->s[x->pos] != '<') x->pos++;
    if (x->pos >= x->n || x->s[x->pos] != q)
      return xr_fail(x, "unterminated attribute value in <%.*s>", t->len, t->name);
    int vlen = (int)(x->s + x->pos - v);
    x->pos++;
    if (xr_name_is(an, alen, "type_id")) {
      snprintf(t->type_id, sizeof(t->type_id), "%.*s", vlen > 63 ? 63 : vlen, v);
      xr_printable(t->type_id);
    }
  }
}

static int xr_push(xr *x, const xr_tag *t, int index) {
  if (x->depth >= XR_MAX_DEPTH) return xr_fail(x, "elements nested deeper than %d", XR_MAX_DEPTH);
  x->stack[x->depth++] = (xr_frame){t->name, t->len, index};
  return 0;
}

static void xr_pop(xr *x) {
  if (x->depth > 0) x->depth--;
}

/* After an open tag: the text up to the matching close tag, which is consumed.
 * The text must not contain markup. */
static int xr_text(xr *x, const xr_tag *open, const char **text, size_t *len) {
  if (open->self_closing) return xr_fail(x, "empty element, expected a value");
  *text = x->s + x->pos;
  while (x->pos < x->n && x->s[x->pos] != '<') x->pos++;
  *len = (size_t)(x->s + x->pos - *text);
  xr_tag close;
  if (xr_next_tag(x, &close) < 0) return -1;
  if (!close.closing || close.len != open->len || memcmp(close.name, open->name, (size_t)open->len))
    return xr_fail(x, "expected </%.*s>, found <%s%.*s>", open->len, open->name,
                   close.closing ? "/" : "", close.len, close.name);
  return 0;
}

/* Parses the whitespace-separated numbers of a text element into v[0..*count).
 * Only plain decimal notation is accepted (no hex, inf or nan). */
static int xr_numbers(xr *x, const xr_tag *open, double *v, int min, int max, int *count) {
  const char *t;
  size_t len;
  if (xr_text(x, open, &t, &len) < 0) return -1;
  size_t i = 0;
  int k = 0;
  for (;;) {
    while (i < len && xr_is_space(t[i])) i++;
    if (i >= len) break;
    size_t j = i;
    while (j < len && !xr_is_space(t[j])) j++;
    char tok[64];
    size_t tl = j - i;
    if (tl >= sizeof(tok)) return xr_fail(x, "number longer than 63 characters");
    memcpy(tok, t + i, tl);
    tok[tl] = '\0';
    int plain = 1;
    for (size_t c = 0; c < tl; c++)
      plain &= tok[c] != '\0' && strchr("0123456789+-.eE", tok[c]) != NULL;
    char *end = tok;
    errno = 0;
    double d = plain ? strtod(tok, &end) : 0;
    if (!plain || end == tok || *end != '\0' || errno == ERANGE || !isfinite(d)) {
      xr_printable(tok);
      return xr_fail(x, "bad number \"%s\"", tok);
    }
    if (k >= max) return xr_fail(x, "too many numbers: expected at most %d", max);
    v[k++] = d;
    i = j;
  }
  if (k < min) return xr_fail(x, "%d number%s, expected %d", k, k == 1 ? "" : "s", min);
  *count = k;
  return 0;
}

static int xr_int(xr *x, const xr_tag *open, int lo, int hi, int *out) {
  double v;
  int k;
  if (xr_numbers(x, open, &v, 1, 1, &k) < 0) return -1;
  if (v != floor(v)) return xr_fail(x, "expected an integer, found %g", v);
  if (v < lo || v > hi) return xr_fail(x, "%g out of range %d..%d", v, lo, hi);
  *out = (int)v;
  return 0;
}

static int xr_float(xr *x, const xr_tag *open, float *out) {
  double v;
  int k;
  if (xr_numbers(x, open, &v, 1, 1, &k) < 0) return -1;
  if (fabs(v) > 3e38) return xr_fail(x, "%g out of float range", v);
  *out = (float)v;
  return 0;
}

/* The text of an element that must be one word, e.g. BOOST. */
static int xr_word(xr *x, const xr_tag *open, const char *want) {
  const char *t;
  size_t len;
  if (xr_text(x, open, &t, &len) < 0) return -1;
  while (len && xr_is_space(*t)) t++, len--;
  while (len && xr_is_space(t[len - 1])) len--;
  if (len != strlen(want) || memcmp(t, want, len) != 0) {
    char found[48];
    snprintf(found, sizeof(found), "%.*s", len > 40 ? 40 : (int)len, t);
    xr_printable(found);
    return xr_fail(x, "found \"%s\", expected \"%s\"", found, want);
  }
  return 0;
}

/* Skips an element's content and its close tag (parameters we do not use). */
static int xr_skip_element(xr *x, const xr_tag *open) {
  if (open->self_closing) return 0;
  for (;;) {
    while (x->pos < x->n && x->s[x->pos] != '<') x->pos++;
    xr_tag t;
    if (xr_next_tag(x, &t) < 0) return -1;
    if (t.closing) {
      if (t.len != open->len || memcmp(t.name, open->name, (size_t)open->len))
        return xr_fail(x, "expected </%.*s>, found </%.*s>", open->len, open->name, t.len, t.name);
      return 0;
    }
    if (xr_push(x, &t, -1) < 0) return -1;
    int rc = xr_skip_element(x, &t);
    xr_pop(x);
    if (rc < 0) return -1;
  }
}

/* Next child of the current element: 1 with *t filled, 0 at the parent's
 * close tag (consumed), -1 on error. */
static int xr_child(xr *x, const xr_tag *parent, xr_tag *t) {
  if (parent->self_closing) return 0;
  if (xr_next_tag(x, t) < 0) return -1;
  if (t->closing) {
    if (t->len != parent->len || memcmp(t->name, parent->name, (size_t)parent->len))
      return xr_fail(x, "expected </%.*s>, found </%.*s>", parent->len, parent->name, t->len,
                     t->name);
    return 0;
  }
  return 1;
}

static int xr_unexpected(xr *x, const xr_tag *t) {
  return xr_fail(x, "unexpected element <%.*s>", t->len, t->name);
}

/* Makes room for one more element, refusing to pass limit. */
static int xr_grow(xr *x, xr_vec *v, size_t elem, int limit, const char *what) {
  if (v->n < v->cap) return 0;
  if (v->n >= limit) return xr_fail(x, "more than %d %s", limit, what);
  int cap = v->cap ? v->cap * 2 : 64;
  if (cap > limit) cap = limit;
  void *p = realloc(v->p, (size_t)cap * elem);
  if (!p) return xr_fail(x, "out of memory for %d %s", cap, what);
  v->p = p;
  v->cap = cap;
  return 0;
}

/* Which once-only children of an element were seen. */
static int xr_once(xr *x, const xr_tag *t, unsigned *seen, unsigned bit) {
  if (*seen & bit) return xr_fail(x, "duplicate <%.*s>", t->len, t->name);
  *seen |= bit;
  return 0;
}

/* <weakClassifiers><_>: one stump. */
static int xr_stump(xr *x, const xr_tag *open, cascade_stump *st) {
  unsigned seen = 0;
  xr_tag t;
  int rc;
  while ((rc = xr_child(x, open, &t)) == 1) {
    if (xr_push(x, &t, -1) < 0) return -1;
    double v[XR_MAX_NUMS];
    int k;
    if (xr_name_is(t.name, t.len, "internalNodes")) {
      if (xr_once(x, &t, &seen, 1) < 0 || xr_numbers(x, &t, v, 4, XR_MAX_NUMS, &k) < 0) return -1;
      if (k != 4 || v[0] != 0 || v[1] != -1)
        return xr_fail(x, "only stumps are supported: expected \"0 -1 featureIdx threshold\" "
                          "(a tree or categorical split has other values)");
      if (v[2] != floor(v[2]) || v[2] < 0 || v[2] >= XR_MAX_FEATURES)
        return xr_fail(x, "bad feature index %g", v[2]);
      st->feature = (int)v[2];
      st->threshold = (float)v[3];
    } else if (xr_name_is(t.name, t.len, "leafValues")) {
      if (xr_once(x, &t, &seen, 2) < 0 || xr_numbers(x, &t, v, 2, 2, &k) < 0) return -1;
      st->left = (float)v[0];
      st->right = (float)v[1];
    } else {
      return xr_unexpected(x, &t);
    }
    xr_pop(x);
  }
  if (rc < 0) return -1;
  if (!(seen & 1)) return xr_fail(x, "missing <internalNodes>");
  if (!(seen & 2)) return xr_fail(x, "missing <leafValues>");
  return 0;
}

/* <stages><_>: one stage; its stumps are appended to stumps. */
static int xr_stage(xr *x, const xr_tag *open, cascade_stage *sg, xr_vec *stumps) {
  unsigned seen = 0;
  int declared = 0;
  sg->first = stumps->n;
  sg->count = 0;
  xr_tag t;
  int rc;
  while ((rc = xr_child(x, open, &t)) == 1) {
    if (xr_push(x, &t, -1) < 0) return -1;
    if (xr_name_is(t.name, t.len, "maxWeakCount")) {
      if (xr_once(x, &t, &seen, 1) < 0 || xr_int(x, &t, 1, XR_MAX_WEAK, &declared) < 0) return -1;
    } else if (xr_name_is(t.name, t.len, "stageThreshold")) {
      if (xr_once(x, &t, &seen, 2) < 0 || xr_float(x, &t, &sg->threshold) < 0) return -1;
      sg->threshold -= XR_THRESHOLD_EPS;
    } else if (xr_name_is(t.name, t.len, "weakClassifiers")) {
      if (xr_once(x, &t, &seen, 4) < 0) return -1;
      xr_tag w;
      while ((rc = xr_child(x, &t, &w)) == 1) {
        if (!xr_name_is(w.name, w.len, "_")) return xr_unexpected(x, &w);
        if (xr_push(x, &w, sg->count) < 0) return -1;
        if (xr_grow(x, stumps, sizeof(cascade_stump), XR_MAX_WEAK, "weak classifiers") < 0)
          return -1;
        cascade_stump *st = (cascade_stump *)stumps->p + stumps->n;
        if (xr_stump(x, &w, st) < 0) return -1;
        stumps->n++;
        sg->count++;
        xr_pop(x);
      }
      if (rc < 0) return -1;
    } else {
      return xr_unexpected(x, &t);
    }
    xr_pop(x);
  }
  if (rc < 0) return -1;
  if (!(seen & 1)) return xr_fail(x, "missing <maxWeakCount>");
  if (!(seen & 2)) return xr_fail(x, "missing <stageThreshold>");
  if (!(seen & 4)) return xr_fail(x, "missing <weakClassifiers>");
  if (sg->count != declared)
    return xr_fail(x, "<weakClassifiers> has %d entries, <maxWeakCount> says %d", sg->count,
                   declared);
  return 0;
}

/* <features><_>: 1..3 rectangles inside the window, upright only. */
static int xr_feature(xr *x, const xr_tag *open, cascade_feature *f, int win_w, int win_h) {
  unsigned seen = 0;
  f->nrects = 0;
  xr_tag t;
  int rc;
  while ((rc = xr_child(x, open, &t)) == 1) {
    if (xr_push(x, &t, -1) < 0) return -1;
    if (xr_name_is(t.name, t.len, "rects")) {
      if (xr_once(x, &t, &seen, 1) < 0) return -1;
      xr_tag r;
      while ((rc = xr_child(x, &t, &r)) == 1) {
        if (!xr_name_is(r.name, r.len, "_")) return xr_unexpected(x, &r);
        if (xr_push(x, &r, f->nrects) < 0) return -1;
        if (f->nrects >= CASCADE_MAX_RECTS)
          return xr_fail(x, "more than %d rectangles in one feature", CASCADE_MAX_RECTS);
        double v[XR_MAX_NUMS];
        int k;
        if (xr_numbers(x, &r, v, 5, 5, &k) < 0) return -1;
        for (int i = 0; i < 4; i++)
          if (v[i] != floor(v[i]))
            return xr_fail(x, "rectangle coordinate %g is not an integer", v[i]);
        if (v[0] < 0 || v[1] < 0 || v[2] < 1 || v[3] < 1 || v[0] + v[2] > win_w ||
            v[1] + v[3] > win_h)
          return xr_fail(x, "rectangle %g %g %g %g is not inside the %dx%d window", v[0], v[1],
                         v[2], v[3], win_w, win_h);
        f->r[f->nrects++] = (cascade_rect){(int)v[0], (int)v[1], (int)v[2], (int)v[3], (float)v[4]};
        xr_pop(x);
      }
      if (rc < 0) return -1;
    } else if (xr_name_is(t.name, t.len, "tilted")) {
      int tilted = 0;
      if (xr_once(x, &t, &seen, 2) < 0 || xr_int(x, &t, 0, 1, &tilted) < 0) return -1;
      if (tilted) return xr_fail(x, "tilted (45 degree) features are not supported");
    } else {
      return xr_unexpected(x, &t);
    }
    xr_pop(x);
  }
  if (rc < 0) return -1;
  if (!(seen & 1)) return xr_fail(x, "missing <rects>");
  if (f->nrects == 0) return xr_fail(x, "<rects> is empty");
  return 0;
}

/* <stageParams> / <featureParams>: only maxCatCount matters (0 = not LBP). */
static int xr_params(xr *x, const xr_tag *open) {
  xr_tag t;
  int rc;
  while ((rc = xr_child(x, open, &t)) == 1) {
    if (xr_push(x, &t, -1) < 0) return -1;
    if (xr_name_is(t.name, t.len, "maxCatCount")) {
      int cats = 0;
      if (xr_int(x, &t, 0, 1 << 20, &cats) < 0) return -1;
      if (cats != 0) return xr_fail(x, "categorical features (maxCatCount %d) are not HAAR", cats);
    } else if (xr_skip_element(x, &t) < 0) {
      return -1;
    }
    xr_pop(x);
  }
  return rc;
}

/* Element bits of <cascade>'s once-only children. */
enum { C_STAGETYPE = 1, C_FEATTYPE = 2, C_H = 4, C_W = 8, C_SP = 16, C_FP = 32, C_NUM = 64,
       C_STAGES = 128, C_FEATS = 256 };

static const char *const xr_cascade_names[] = {"stageType", "featureType", "height",
                                               "width", "stageParams", "featureParams",
                                               "stageNum", "stages", "features"};

static int xr_cascade(xr *x, const xr_tag *open, capture_cascade *c, xr_vec *stages,
                      xr_vec *stumps, xr_vec *feats) {
  unsigned seen = 0;
  int stage_num = 0;
  c->win_w = c->win_h = 0;
  xr_tag t;
  int rc;
  while ((rc = xr_child(x, open, &t)) == 1) {
    if (xr_push(x, &t, -1) < 0) return -1;
    int which = -1;
    for (int i = 0; i < 9; i++)
      if (xr_name_is(t.name, t.len, xr_cascade_names[i])) which = i;
    if (which < 0) return xr_unexpected(x, &t);
    if (xr_once(x, &t, &seen, 1u << which) < 0) return -1;
    switch (1u << which) {
    case C_STAGETYPE: rc = xr_word(x, &t, "BOOST"); break;
    case C_FEATTYPE: rc = xr_word(x, &t, "HAAR"); break;
    case C_H: rc = xr_int(x, &t, 3, CASCADE_MAX_WIN, &c->win_h); break;
    case C_W: rc = xr_int(x, &t, 3, CASCADE_MAX_WIN, &c->win_w); break;
    case C_SP:
    case C_FP: rc = xr_params(x, &t); break;
    case C_NUM: rc = xr_int(x, &t, 1, XR_MAX_STAGES, &stage_num); break;
    case C_STAGES: {
      xr_tag s;
      while ((rc = xr_child(x, &t, &s)) == 1) {
        if (!xr_name_is(s.name, s.len, "_")) return xr_unexpected(x, &s);
        if (xr_push(x, &s, stages->n) < 0 ||
            xr_grow(x, stages, sizeof(cascade_stage), XR_MAX_STAGES, "stages") < 0 ||
            xr_stage(x, &s, (cascade_stage *)stages->p + stages->n, stumps) < 0)
          return -1;
        stages->n++;
        xr_pop(x);
      }
      break;
    }
    default: { /* C_FEATS: rectangles are checked against the window, so it comes first */
      if (!(seen & C_W) || !(seen & C_H))
        return xr_fail(x, "<features> before <width> and <height>");
      xr_tag f;
      while ((rc = xr_child(x, &t, &f)) == 1) {
        if (!xr_name_is(f.name, f.len, "_")) return xr_unexpected(x, &f);
        if (xr_push(x, &f, feats->n) < 0 ||
            xr_grow(x, feats, sizeof(cascade_feature), XR_MAX_FEATURES, "features") < 0 ||
            xr_feature(x, &f, (cascade_feature *)feats->p + feats->n, c->win_w, c->win_h) < 0)
          return -1;
        feats->n++;
        xr_pop(x);
      }
      break;
    }
    }
    if (rc < 0) return -1;
    xr_pop(x);
  }
  if (rc < 0) return -1;
  static const unsigned required[] = {C_STAGETYPE, C_FEATTYPE, C_H, C_W, C_NUM, C_STAGES, C_FEATS};
  for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
    if (!(seen & required[i])) {
      int bit = 0;
      while ((1u << bit) != required[i]) bit++;
      return xr_fail(x, "missing <%s>", xr_cascade_names[bit]);
    }
  if (stages->n != stage_num)
    return xr_fail(x, "<stages> has %d entries, <stageNum> says %d", stages->n, stage_num);
  if (feats->n == 0) return xr_fail(x, "<features> is empty");
  const cascade_stump *st = stumps->p;
  const cascade_stage *sg = stages->p;
  for (int s = 0; s < stages->n; s++)
    for (int k = 0; k < sg[s].count; k++)
      if (st[sg[s].first + k].feature >= feats->n)
        return xr_fail(x, "stage %d weak classifier %d uses feature %d, but <features> has only %d",
                       s, k, st[sg[s].first + k].feature, feats->n);
  return 0;
}

/* The document: prolog, <opencv_storage>, one <cascade>, nothing after. */
static int xr_document(xr *x, capture_cascade *c, xr_vec *stages, xr_vec *stumps, xr_vec *feats) {
  if (xr_skip_misc(x, 1) < 0) return -1;
  xr_tag root;
  if (xr_next_tag(x, &root) < 0) return -1;
  if (root.closing || !xr_name_is(root.name, root.len, "opencv_storage"))
    return xr_fail(x, "expected <opencv_storage>, found <%.*s> (not an OpenCV cascade?)", root.len,
                   root.name);
  if (xr_push(x, &root, -1) < 0) return -1;
  int found = 0, rc;
  xr_tag t;
  while ((rc = xr_child(x, &root, &t)) == 1) {
    if (!xr_name_is(t.name, t.len, "cascade")) {
      if (strcmp(t.type_id, "opencv-haar-classifier") == 0)
        return xr_fail(x, "<%.*s> is an old-style cascade (type_id \"opencv-haar-classifier\"); "
                          "expected <cascade type_id=\"opencv-cascade-classifier\">",
                       t.len, t.name);
      return xr_unexpected(x, &t);
    }
    if (found++) return xr_fail(x, "more than one <cascade>");
    if (xr_push(x, &t, -1) < 0) return -1;
    /* Some of opencv-data's cascades have no type_id: OpenCV goes by name. */
    if (t.type_id[0] && strcmp(t.type_id, "opencv-cascade-classifier") != 0)
      return xr_fail(x, "type_id \"%s\", expected \"opencv-cascade-classifier\"", t.type_id);
    if (xr_cascade(x, &t, c, stages, stumps, feats) < 0) return -1;
    xr_pop(x);
  }
  if (rc < 0) return -1;
  if (!found) return xr_fail(x, "missing <cascade>");
  xr_pop(x);
  if (xr_skip_misc(x, 0) < 0) return -1;
  if (x->pos != x->n) return xr_fail(x, "unexpected content after </opencv_storage>");
  return 0;
}

/* Reads the whole file, NUL-terminated. */
static char *cascade_read_file(const char *path, size_t *len, char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    cap_msg(err, errlen, "%s: cannot open face cascade: %s%s", path, strerror(errno),
            errno == ENOENT ? " (install the Debian package opencv-data?)" : "");
    return NULL;
  }
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    cap_msg(err, errlen, "%s: not a regular file", path);
    fclose(f);
    return NULL;
  }
  if (st.st_size > XR_MAX_FILE) {
    cap_msg(err, errlen, "%s: %lld bytes, larger than the %ld a cascade may have", path,
            (long long)st.st_size, XR_MAX_FILE);
    fclose(f);
    return NULL;
  }
  size_t n = (size_t)st.st_size;
  char *buf = malloc(n + 1);
  if (!buf) {
    cap_msg(err, errlen, "%s: out of memory for %zu bytes", path, n);
    fclose(f);
    return NULL;
  }
  if (fread(buf, 1, n, f) != n) {
    cap_msg(err, errlen, "%s: read error: %s", path, ferror(f) ? strerror(errno) : "short read");
    free(buf);
    fclose(f);
    return NULL;
  }
  fclose(f);
  buf[n] = '\0';
  *len = n;
  return buf;
}

int capture_cascade_load(capture_cascade **out, const char *path, char *err, size_t errlen) {
  if (!out || !path) {
    cap_msg(err, errlen, "capture_cascade_load: no %s", out ? "path" : "output pointer");
    return -1;
  }
  *out = NULL;
  size_t n = 0;
  char *buf = cascade_read_file(path, &n, err, errlen);
  if (!buf) return -1;
  if (n == 0) {
    cap_msg(err, errlen, "%s: empty file, expected an OpenCV cascade XML", path);
    free(buf);
    return -1;
  }
  capture_cascade *c = calloc(1, sizeof(*c));
  xr x = {.path = path, .s = buf, .n = n, .err = err, .errlen = errlen};
  xr_vec stages = {0}, stumps = {0}, feats = {0};
  int rc = c ? xr_document(&x, c, &stages, &stumps, &feats) : -1;
  if (!c) cap_msg(err, errlen, "%s: out of memory", path);
  free(buf);
  if (rc < 0) {
    free(stages.p);
    free(stumps.p);
    free(feats.p);
    free(c);
    return -1;
  }
  c->stages = stages.p;
  c->nstages = stages.n;
  c->stumps = stumps.p;
  c->nstumps = stumps.n;
  c->features = feats.p;
  c->nfeatures = feats.n;
  *out = c;
  return 0;
}

void capture_cascade_destroy(capture_cascade *c) {
  if (!c) return;
  free(c->stages);
  free(c->stumps);
  free(c->features);
  free(c);
}
