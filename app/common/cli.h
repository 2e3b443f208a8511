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

/* "--help" or "-h" */
int cli_is_help(const char *arg);

#endif
