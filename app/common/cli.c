/* cli: message helpers and strict option parsing shared by all subcommands. */
#include "common/cli.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("emocam: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

void cli_warn(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("emocam: warning: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

int cli_option(int argc, char **argv, int *i, const char *name, const char **value) {
  const char *arg = argv[*i];
  size_t n = strlen(name);
  if (strncmp(arg, name, n) != 0) return 0;
  if (arg[n] == '=') {
    *value = arg + n + 1;
    return 1;
  }
  if (arg[n] != '\0') return 0;
  if (*i + 1 >= argc) {
    cli_error("%s needs a value", name);
    *value = NULL;
    return 1;
  }
  *i += 1;
  *value = argv[*i];
  return 1;
}

int cli_parse_int(const char *option, const char *text, long min, long max, int *out) {
  char *end = NULL;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno || end == text || *end != '\0' || v < min || v > max) {
    cli_error("%s: expected an integer from %ld to %ld, got '%s'", option, min, max, text);
    return -1;
  }
  *out = (int)v;
  return 0;
}

int cli_parse_u64(const char *option, const char *text, uint64_t *out) {
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(text, &end, 10);
  if (errno || end == text || *end != '\0' || text[0] == '-') {
    cli_error("%s: expected a non-negative integer, got '%s'", option, text);
    return -1;
  }
  *out = (uint64_t)v;
  return 0;
}

int cli_parse_float(const char *option, const char *text, double min, double max, float *out) {
  char *end = NULL;
  errno = 0;
  double v = strtod(text, &end);
  if (errno || end == text || *end != '\0' || !isfinite(v) || v < min || v > max) {
    cli_error("%s: expected a number from %g to %g, got '%s'", option, min, max, text);
    return -1;
  }
  *out = (float)v;
  return 0;
}

int cli_take(int argc, char **argv, int *i, const cli_spec *specs, int n) {
  for (int k = 0; k < n; k++) {
    const cli_spec *o = &specs[k];
    if (o->type == CLI_FLAG) {
      if (strcmp(argv[*i], o->name) != 0) continue;
      *(int *)o->dst = 1;
      return 1;
    }
    const char *v = NULL;
    if (!cli_option(argc, argv, i, o->name, &v)) continue;
    if (!v) return -1;
    switch (o->type) {
      case CLI_STRING: *(const char **)o->dst = v; return 1;
      case CLI_INT: return cli_parse_int(o->name, v, (long)o->lo, (long)o->hi, o->dst) ? -1 : 1;
      case CLI_FLOAT: return cli_parse_float(o->name, v, o->lo, o->hi, o->dst) ? -1 : 1;
      case CLI_FLAG: break;
    }
  }
  return 0;
}

int cli_parse_options(int argc, char **argv, const cli_spec *specs, int n, const char *help,
                      const char *command, int *first_arg) {
  if (first_arg) *first_arg = argc;
  for (int i = 1; i < argc; i++) {
    if (cli_is_help(argv[i])) {
      fputs(help, stdout);
      return 1;
    }
    int rc = cli_take(argc, argv, &i, specs, n);
    if (rc < 0) return -1;
    if (rc > 0) continue;
    if (first_arg && strcmp(argv[i], "--") == 0) {
      *first_arg = i + 1;
      return 0;
    }
    if (first_arg && (argv[i][0] != '-' || !argv[i][1])) {
      *first_arg = i;
      return 0;
    }
    cli_error("%s: unknown %s '%s' (see emocam %s --help)", command,
              first_arg ? "option" : "argument", argv[i], command);
    return -1;
  }
  return 0;
}

int cli_is_help(const char *arg) { return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0; }
