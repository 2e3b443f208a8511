/* cli: what every subcommand shares: the "emocam: " message convention, exit
 * codes, and strict parsing of option values (no silent atoi).
 */
#ifndef APP_CLI_H
#define APP_CLI_H

#include <stdarg.h>
#include <stdint.h>

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

/* Prints "emocam: <message>\n" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "emocam: warning: <message>\n" to stderr. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* True when arg is `name` itself; then *value is argv[i+1] (i advanced) or, if
 * missing, a usage error is printed and *value is NULL. `--name=VALUE` is
 * accepted as well. Returns 0 when arg is some other option. */
int cli_option(int argc, char **argv, int *i, const char *name, const char **value);

/* Strict number parsing of an option's value; on failure prints
 * "emocam: OPTION: expected ..., got 'TEXT'" and returns -1. */
int cli_parse_int(const char *option, const char *text, long min, long max, int *out);
int cli_parse_u64(const char *option, const char *text, uint64_t *out);
int cli_parse_float(const char *option, const char *text, double min, double max, float *out);

/* An option table, for the subcommands' parsing loops: each row an option
 * name, the type of its value and where the value goes. */
typedef enum {
  CLI_STRING, /* dst: const char ** (borrowed from argv) */
  CLI_INT,    /* dst: int *, in [lo, hi] */
  CLI_FLOAT,  /* dst: float *, in [lo, hi] */
  CLI_FLAG,   /* dst: int *, set to 1; the option takes no value */
} cli_type;

typedef struct {
  const char *name;
  cli_type type;
  void *dst;
  double lo, hi;
} cli_spec;

/* Matches argv[*i] against the n rows of specs. Returns 1 when one matched
 * (its value stored, *i advanced past it), 0 when none did, -1 after a usage
 * error was printed (missing or bad value). */
int cli_take(int argc, char **argv, int *i, const cli_spec *specs, int n);

/* A subcommand's whole argument list against its table: --help prints help
 * (returns 1); an unknown option is a usage error naming `command` (-1).
 * With first_arg non-NULL, the first argument that is no option (or the one
 * after "--") ends the options and its index goes to *first_arg (argc when
 * there is none); without it, such an argument is an error too. Returns 0 to
 * run. */
int cli_parse_options(int argc, char **argv, const cli_spec *specs, int n, const char *help,
                      const char *command, int *first_arg);

/* "--help" or "-h" */
int cli_is_help(const char *arg);

#endif
