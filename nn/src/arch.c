/* arch: parser of the architecture text, format v1 (see arch.h and
 * assets/arch/README.md). One layer a line; shapes are computed while parsing
 * so an impossible shape is reported at the line that causes it. */
#include "arch.h"
#include "layer_ops.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_TOKENS = 12, MAX_LINE = 1024, MAX_LAYERS = 1024 };
#define MAX_SIDE 4096        /* input height/width */

typedef struct {
  const char *source;
  int line;
  char *err;
  size_t errlen;
  int in_c, in_h, in_w; /* the input line's shape */
} ctx;

static int fail(ctx *c, const char *fmt, ...) {
  int n = snprintf(c->err, c->errlen, "%s:%d: ", c->source, c->line);
  if (n < 0 || (size_t)n >= c->errlen) return -1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
  va_end(ap);
  return -1;
}

/* Whole-token integer in [lo, hi]. */
static int parse_int(ctx *c, const char *word, const char *what, const char *tok, long lo,
                     long hi, int *out) {
  char *end;
  errno = 0;
  long v = strtol(tok, &end, 10);
  if (end == tok || *end != '\0') return fail(c, "%s: %s '%s' is not a whole number", word, what, tok);
  if (errno == ERANGE || v < lo || v > hi)
    return fail(c, "%s: %s %s is out of range, expected %ld..%ld", word, what, tok, lo, hi);
  *out = (int)v;
  return 0;
}

/* Splits a line (already stripped of its comment) into whitespace tokens. */
static int tokenize(char *s, char **tok) {
  int n = 0;
  for (char *p = strtok(s, " \t\r\f\v"); p; p = strtok(NULL, " \t\r\f\v")) {
    if (n == MAX_TOKENS) return MAX_TOKENS + 1;
    tok[n++] = p;
  }
  return n;
}

/* A probability in [0, 1). */
static int parse_prob(ctx *c, const char *word, const char *what, const char *tok, float *out) {
  char *end;
  errno = 0;
  float p = strtof(tok, &end);
  if (end == tok || *end != '\0') return fail(c, "%s: %s '%s' is not a number", word, what, tok);
  if (errno == ERANGE || !(p >= 0.0f && p < 1.0f))
    return fail(c, "%s: %s %s is out of range, expected 0 <= %s < 1", word, what, tok, what);
  *out = p;
  return 0;
}

static int parse_arg(ctx *c, const layer_ops *op, const layer_arg *arg, const char *tok,
                     int num_classes, arch_layer *l) {
  void *field = (char *)l + arg->offset;
  switch (arg->kind) {
  case ARG_PROB: return parse_prob(c, op->word, arg->name, tok, field);
  case ARG_INT_OR_CLASSES:
    if (!strcmp(tok, "classes")) {
      if (num_classes <= 0)
        return fail(c, "%s: 'classes' used but the number of classes is not known here (give a "
                       "number)", op->word);
      *(int *)field = num_classes;
      return 0;
    }
    /* fall through: a number */
  case ARG_INT: break;
  }
  return parse_int(c, op->word, arg->name, tok, arg->lo, arg->hi, field);
}

/* A tensor name: a letter or '_', then letters, digits or '_', at most
 * ARCH_NAME_MAX - 1 characters; `input` is the network's input. */
static int valid_name(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n >= ARCH_NAME_MAX || !(isalpha((unsigned char)s[0]) || s[0] == '_')) return 0;
  for (size_t i = 1; i < n; i++)
    if (!(isalnum((unsigned char)s[i]) || s[i] == '_')) return 0;
  return 1;
}

/* The layer index of the tensor called name among layers[0..n), -1 for
 * `input`, or -2 (after fail) when there is none. */
static int find_name(ctx *c, const arch_layer *layers, int n, const char *word, const char *name) {
  if (!strcmp(name, "input")) return -1;
  for (int i = 0; i < n; i++)
    if (!strcmp(layers[i].name, name)) return i;
  fail(c, "%s: no tensor named '%s' before this line (name one with '@%s' at the end of its "
          "line)", word, name, name);
  return -2;
}

/* Takes the v2 words out of a layer line: `@NAME` (names its output) and
 * `from NAME` (reads NAME instead of the line before); the rest stays in
 * tok. Returns the new token count, or -1 after fail. */
static int take_links(ctx *c, char **tok, int ntok, const arch_layer *layers, int n,
                      arch_layer *l) {
  int kept = 0;
  l->src = n - 1;
  l->src2 = -2;
  l->pad = -1;
  l->name[0] = '\0';
  for (int i = 0; i < ntok; i++) {
    if (i > 0 && tok[i][0] == '@') {
      if (!valid_name(tok[i] + 1) || !strcmp(tok[i] + 1, "input"))
        return fail(c, "%s: '%s' is not a tensor name (a letter or _, then letters, digits or _; "
                       "not 'input')", tok[0], tok[i]);
      if (l->name[0]) return fail(c, "%s: one name per line ('@%s' and '%s')", tok[0], l->name, tok[i]);
      for (int j = 0; j < n; j++)
        if (!strcmp(layers[j].name, tok[i] + 1))
          return fail(c, "%s: the name '%s' is taken (line %d)", tok[0], tok[i] + 1, layers[j].line);
      snprintf(l->name, sizeof l->name, "%s", tok[i] + 1);
    } else if (i > 0 && !strcmp(tok[i], "from")) {
      if (i + 1 >= ntok) return fail(c, "%s: 'from' needs a tensor name after it", tok[0]);
      int src = find_name(c, layers, n, tok[0], tok[++i]);
      if (src == -2) return -1;
      l->src = src;
    } else {
      tok[kept++] = tok[i];
    }
  }
  return kept;
}

/* Parses the arguments of one layer line by its row of the layer table and
 * computes its output shape from the input shape already stored in *l. */
static int parse_layer(ctx *c, char **tok, int ntok, int num_classes, const arch_layer *layers,
                       int n, arch_layer *l) {
  const char *w = tok[0];
  l->kind = layer_kind_of_word(w);
  if (l->kind == L_KINDS) {
    char words[256];
    layer_words(words, sizeof words);
    return fail(c, "unknown layer '%s' (expected input, %s)", w, words);
  }
  const layer_ops *op = layer_ops_of(l->kind);
  int nargs = ntok - 1;
  if (op->merge) { /* add NAME, mul NAME, concat NAME */
    if (nargs != 1) return fail(c, "%s: expected '%s NAME' (a tensor named earlier)", w, w);
    int src2 = find_name(c, layers, n, w, tok[1]);
    if (src2 == -2) return -1;
    l->src2 = src2;
    l->c2 = src2 < 0 ? c->in_c : layers[src2].oc;
    l->h2 = src2 < 0 ? c->in_h : layers[src2].oh;
    l->w2 = src2 < 0 ? c->in_w : layers[src2].ow;
    nargs = 0;
  }
  if (op->nargs == 0 && nargs != 0) return fail(c, "%s: takes no arguments, got %d", w, nargs);
  const layer_arg *args = op->args;
  int alt_min = op->alt_min ? op->alt_min : op->alt_nargs;
  if (op->alt_nargs && nargs >= alt_min && nargs <= op->alt_nargs) { /* the longer form (v2) */
    args = op->alt_args;
  } else if (nargs != op->nargs && op->alt_nargs) {
    return fail(c, "%s: expected '%s %s' or '%s %s', got %d number%s", w, w, op->usage, w,
                op->alt_usage, nargs, nargs == 1 ? "" : "s");
  } else if (nargs != op->nargs)
    return fail(c, "%s: expected '%s %s', got %d number%s", w, w, op->usage, nargs,
                nargs == 1 ? "" : "s");
  if (!op->merge)
    for (int i = 0; i < nargs; i++)
      if (parse_arg(c, op, &args[i], tok[1 + i], num_classes, l)) return -1;
  l->oc = l->c, l->oh = l->h, l->ow = l->w;
  char why[200];
  if (op->shape && op->shape(l, why, sizeof why)) return fail(c, "%s", why);
  if ((long)l->oc * l->oh * l->ow > ARCH_MAX_FEATURES)
    return fail(c, "%s: output %dx%dx%d is too large", w, l->oc, l->oh, l->ow);
  return 0;
}

int arch_parse(arch_spec *out, const char *text, const char *source, int num_classes,
               char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  ctx c = {source ? source : "<arch>", 0, err, errlen, 0, 0, 0};
  if (!text) return fail(&c, "no architecture text");
  arch_layer *layers = calloc(MAX_LAYERS, sizeof *layers);
  if (!layers) return fail(&c, "out of memory");
  int n = 0, have_input = 0, C = 0, H = 0, W = 0, softmax_line = 0;
  const char *p = text;
  while (*p) {
    c.line++;
    const char *eol = strchr(p, '\n');
    size_t len = eol ? (size_t)(eol - p) : strlen(p);
    char buf[MAX_LINE];
    if (len >= sizeof buf) {
      free(layers);
      return fail(&c, "line is longer than %d characters", MAX_LINE - 1);
    }
    memcpy(buf, p, len);
    buf[len] = '\0';
    p = eol ? eol + 1 : p + len;
    char *hash = strchr(buf, '#');
    if (hash) *hash = '\0';
    char *tok[MAX_TOKENS];
    int ntok = tokenize(buf, tok);
    if (ntok == 0) continue;
    if (ntok > MAX_TOKENS) {
      free(layers);
      return fail(&c, "too many words on one line");
    }
    if (!strcmp(tok[0], "input")) {
      if (have_input) {
        free(layers);
        return fail(&c, "input: only one 'input' line is allowed, and it must be the first");
      }
      if (ntok != 4 || parse_int(&c, "input", "H", tok[1], 1, MAX_SIDE, &H) ||
          parse_int(&c, "input", "W", tok[2], 1, MAX_SIDE, &W) ||
          parse_int(&c, "input", "C", tok[3], 1, 3, &C)) {
        if (ntok != 4) fail(&c, "input: expected 'input H W C', got %d numbers", ntok - 1);
        free(layers);
        return -1;
      }
      if (C != 1 && C != 3) {
        free(layers);
        return fail(&c, "input: C must be 1 (grey) or 3 (colour), got %d", C);
      }
      have_input = 1;
      out->in_c = C, out->in_h = H, out->in_w = W;
      c.in_c = C, c.in_h = H, c.in_w = W;
      continue;
    }
    if (!have_input) {
      free(layers);
      return fail(&c, "expected 'input H W C' as the first layer line, got '%s'", tok[0]);
    }
    if (softmax_line) {
      free(layers);
      return fail(&c, "%s: nothing may follow 'softmax' (line %d), it must be the last layer",
                  tok[0], softmax_line);
    }
    if (n == MAX_LAYERS) {
      free(layers);
      return fail(&c, "too many layers (at most %d)", MAX_LAYERS);
    }
    arch_layer *l = &layers[n];
    l->line = c.line;
    ntok = take_links(&c, tok, ntok, layers, n, l);
    if (ntok < 0) {
      free(layers);
      return -1;
    }
    /* the input shape: the tensor read (the line before, unless `from`) */
    if (l->src >= 0) C = layers[l->src].oc, H = layers[l->src].oh, W = layers[l->src].ow;
    else C = out->in_c, H = out->in_h, W = out->in_w;
    l->c = C, l->h = H, l->w = W;
    if (parse_layer(&c, tok, ntok, num_classes, layers, n, l)) {
      free(layers);
      return -1;
    }
    if (l->kind == L_SOFTMAX && l->src != n - 1) {
      free(layers);
      return fail(&c, "softmax: it reads the line before it (no 'from')");
    }
    if (l->kind == L_SOFTMAX) softmax_line = c.line;
    C = l->oc, H = l->oh, W = l->ow;
    n++;
  }
  if (!have_input) {
    free(layers);
    return fail(&c, "no 'input H W C' line");
  }
  if (!softmax_line) {
    free(layers);
    return fail(&c, "the last layer must be 'softmax'");
  }
  if (n < 2) {
    free(layers);
    return fail(&c, "softmax: there is no layer before it to give the class scores");
  }
  int logits = C * H * W;
  if (num_classes > 0 && logits != num_classes) {
    layer_kind k = layers[n - 2].kind;
    c.line = layers[n - 2].line;
    free(layers);
    return fail(&c, "%s: the network ends with %d outputs but the model has %d classes",
                layer_ops_of(k)->word, logits, num_classes);
  }
  out->num_classes = logits;
  out->n = n;
  out->layers = layers;
  return 0;
}

void arch_free(arch_spec *a) {
  if (!a) return;
  free(a->layers);
  memset(a, 0, sizeof *a);
}
