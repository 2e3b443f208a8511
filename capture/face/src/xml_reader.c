/* xml_reader: tokenizing one XML buffer for the cascade reader (see
 * xml_reader.h). */
#include "xml_reader.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"


int xr_fail(xr *x, const char *fmt, ...) {
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
int xr_skip_misc(xr *x, int allow_pi) {
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

int xr_name_is(const char *name, int len, const char *lit) {
  return (size_t)len == strlen(lit) && memcmp(name, lit, (size_t)len) == 0;
}

/* Reads the next tag; only whitespace and comments may come before it. */
int xr_next_tag(xr *x, xr_tag *t) {
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

int xr_push(xr *x, const xr_tag *t, int index) {
  if (x->depth >= XR_MAX_DEPTH) return xr_fail(x, "elements nested deeper than %d", XR_MAX_DEPTH);
  x->stack[x->depth++] = (xr_frame){t->name, t->len, index};
  return 0;
}

void xr_pop(xr *x) {
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
int xr_numbers(xr *x, const xr_tag *open, double *v, int min, int max, int *count) {
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

int xr_int(xr *x, const xr_tag *open, int lo, int hi, int *out) {
  double v;
  int k;
  if (xr_numbers(x, open, &v, 1, 1, &k) < 0) return -1;
  if (v != floor(v)) return xr_fail(x, "expected an integer, found %g", v);
  if (v < lo || v > hi) return xr_fail(x, "%g out of range %d..%d", v, lo, hi);
  *out = (int)v;
  return 0;
}

int xr_float(xr *x, const xr_tag *open, float *out) {
  double v;
  int k;
  if (xr_numbers(x, open, &v, 1, 1, &k) < 0) return -1;
  if (fabs(v) > 3e38) return xr_fail(x, "%g out of float range", v);
  *out = (float)v;
  return 0;
}

/* The text of an element that must be one word, e.g. BOOST. */
int xr_word(xr *x, const xr_tag *open, const char *want) {
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
int xr_skip_element(xr *x, const xr_tag *open) {
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
int xr_child(xr *x, const xr_tag *parent, xr_tag *t) {
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

int xr_unexpected(xr *x, const xr_tag *t) {
  return xr_fail(x, "unexpected element <%.*s>", t->len, t->name);
}

/* Makes room for one more element, refusing to pass limit. */
int xr_grow(xr *x, xr_vec *v, size_t elem, int limit, const char *what) {
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
int xr_once(xr *x, const xr_tag *t, unsigned *seen, unsigned bit) {
  if (*seen & bit) return xr_fail(x, "duplicate <%.*s>", t->len, t->name);
  *seen |= bit;
  return 0;
}
