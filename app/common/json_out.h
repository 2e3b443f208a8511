/* json_out: a tiny streaming JSON writer (objects, arrays, escaped strings,
 * numbers) with optional pretty printing. Files to write it to atomically:
 * atomic_file.h.
 */
#ifndef APP_JSON_OUT_H
#define APP_JSON_OUT_H

#include <stddef.h>
#include <stdio.h>

#define JSON_OUT_MAX_DEPTH 32

/* Writer state; caller-owned, set up by json_out_init. No allocation. */
typedef struct {
  FILE *f;                         /* borrowed */
  int depth;                       /* open containers */
  int count[JSON_OUT_MAX_DEPTH];   /* values written in each container */
  int inline_[JSON_OUT_MAX_DEPTH]; /* container written on one line */
  int after_key;                   /* a key was written, its value is next */
  int overflow;                    /* nesting went past JSON_OUT_MAX_DEPTH */
} json_out;

/* Starts a writer on f. Containers begun with inline_ != 0 are written on one
 * line (e.g. a row of numbers); others put one member per line, indented by
 * two spaces per level. */
void json_out_init(json_out *j, FILE *f);
void json_begin_object(json_out *j, int inline_);
void json_end_object(json_out *j);
void json_begin_array(json_out *j, int inline_);
void json_end_array(json_out *j);
/* An object member's key (escaped); the next call writes its value. */
void json_key(json_out *j, const char *key);
/* UTF-8 text; quotes, backslashes and control characters are escaped, a NULL
 * string is written as null. */
void json_string(json_out *j, const char *s);
/* A number with up to 10 significant digits; NaN and infinities (which JSON
 * cannot represent) are written as null. */
void json_number(json_out *j, double v);
void json_int(json_out *j, long long v);
void json_bool(json_out *j, int v);
void json_null(json_out *j);
/* 0 when everything was balanced and written (no stream error), else -1. */
int json_out_status(const json_out *j);

#endif
