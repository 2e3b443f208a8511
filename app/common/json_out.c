/* json_out: a streaming JSON writer. It tracks only a comma count per open container, so it needs
 * no allocation; misuse (values without keys, unbalanced ends) is a programmer
 * error reported by json_out_status.
 */
#include "common/json_out.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void json_out_init(json_out *j, FILE *f) {
  memset(j, 0, sizeof *j);
  j->f = f;
}

static void newline_indent(json_out *j) {
  fputc('\n', j->f);
  for (int i = 0; i < j->depth; i++)
    fputs("  ", j->f);
}

/* Writes the separator a value (or key) needs at the current position. */
static void before_value(json_out *j) {
  if (j->after_key) {
    j->after_key = 0;
    return;
  }
  if (j->depth == 0)
    return;
  int d = j->depth - 1;
  if (j->count[d] > 0)
    fputc(',', j->f);
  if (j->inline_[d]) {
    if (j->count[d] > 0)
      fputc(' ', j->f);
  } else {
    newline_indent(j);
  }
  j->count[d]++;
}

static void begin(json_out *j, int inline_, char open) {
  before_value(j);
  fputc(open, j->f);
  if (j->depth >= JSON_OUT_MAX_DEPTH) {
    j->overflow = 1;
    return;
  }
  /* A container inside an inline one stays inline. */
  int parent_inline = j->depth > 0 && j->inline_[j->depth - 1];
  j->count[j->depth] = 0;
  j->inline_[j->depth] = inline_ || parent_inline;
  j->depth++;
}

static void end(json_out *j, char close) {
  if (j->depth == 0) {
    j->overflow = 1;
    return;
  }
  j->depth--;
  if (!j->inline_[j->depth] && j->count[j->depth] > 0)
    newline_indent(j);
  fputc(close, j->f);
  if (j->depth == 0)
    fputc('\n', j->f);
}

void json_begin_object(json_out *j, int inline_) { begin(j, inline_, '{'); }
void json_end_object(json_out *j) { end(j, '}'); }
void json_begin_array(json_out *j, int inline_) { begin(j, inline_, '['); }
void json_end_array(json_out *j) { end(j, ']'); }

static void write_escaped(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
    case '"':
      fputs("\\\"", f);
      break;
    case '\\':
      fputs("\\\\", f);
      break;
    case '\n':
      fputs("\\n", f);
      break;
    case '\r':
      fputs("\\r", f);
      break;
    case '\t':
      fputs("\\t", f);
      break;
    case '\b':
      fputs("\\b", f);
      break;
    case '\f':
      fputs("\\f", f);
      break;
    default:
      if (*p < 0x20)
        fprintf(f, "\\u%04x", *p);
      else
        fputc(*p, f); /* UTF-8 bytes pass through: JSON text is UTF-8 */
    }
  }
  fputc('"', f);
}

void json_key(json_out *j, const char *key) {
  before_value(j);
  write_escaped(j->f, key ? key : "");
  fputs(": ", j->f);
  j->after_key = 1;
}

void json_string(json_out *j, const char *s) {
  if (!s) {
    json_null(j);
    return;
  }
  before_value(j);
  write_escaped(j->f, s);
}

void json_number(json_out *j, double v) {
  if (!isfinite(v)) {
    json_null(j);
    return;
  }
  before_value(j);
  /* %.10g keeps metrics exact to far below what anyone reads, and prints
   * integers (e.g. 0, 1) without a trailing ".0" noise. */
  fprintf(j->f, "%.10g", v);
}

void json_int(json_out *j, long long v) {
  before_value(j);
  fprintf(j->f, "%lld", v);
}

void json_bool(json_out *j, int v) {
  before_value(j);
  fputs(v ? "true" : "false", j->f);
}

void json_null(json_out *j) {
  before_value(j);
  fputs("null", j->f);
}

int json_out_status(const json_out *j) {
  if (j->overflow || j->depth != 0 || j->after_key || ferror(j->f))
    return -1;
  return 0;
}
