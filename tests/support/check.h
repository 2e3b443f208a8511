/* check.h: the assertions every C test program uses. A failed CHECK prints
 * "FAIL file:line: " and its message (or the condition's text) to stderr and
 * is counted; main ends with `return check_finish("name")`, which prints the
 * tally and gives the exit code. Skips (print "skipped: ...", exit 77) stay in
 * each test. Header-only: include it from a test's own .c file only, since
 * the count is one per program (shared helpers report through return codes).
 */
#ifndef EMOCAM_TESTS_CHECK_H
#define EMOCAM_TESTS_CHECK_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

static int check_failures; /* failed checks so far in this program */

/* Counts one failure and prints it as "FAIL file:line: <message>". For
 * helpers that report the caller's line, and failures found without a
 * condition (a child that timed out, a file that would not load). */
__attribute__((format(printf, 3, 4))) static inline void check_fail_at(const char *file,
                                                                       int line,
                                                                       const char *fmt, ...) {
  fflush(stdout); /* so the failure lands after the progress printed before it */
  fprintf(stderr, "FAIL %s:%d: ", file, line);
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  check_failures++;
}

/* CHECK(cond) or CHECK(cond, fmt, args...): fails when cond is false. The
 * message form is picked by counting arguments (up to a format and 22 values),
 * which C11 allows where an empty `...` would not. */
#define CHECK(...)                                                                              \
  CHECK_PICK_(__VA_ARGS__, CHECK_MSG_, CHECK_MSG_, CHECK_MSG_, CHECK_MSG_, CHECK_MSG_,         \
              CHECK_MSG_, CHECK_MSG_, CHECK_MSG_, CHECK_MSG_, CHECK_MSG_, CHECK_MSG_,          \
              CHECK_MSG_, CHECK_MSG_, CHECK_MSG_, CHECK_MSG_, CHECK_MSG_, CHECK_MSG_,          \
              CHECK_MSG_, CHECK_MSG_, CHECK_MSG_, CHECK_MSG_, CHECK_MSG_, CHECK_MSG_,          \
              CHECK_COND_, CHECK_NO_ARGS_)(__VA_ARGS__)
#define CHECK_PICK_(a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, a17, \
                    a18, a19, a20, a21, a22, a23, a24, name, ...)                               \
  name
#define CHECK_COND_(cond)                                          \
  do {                                                             \
    if (!(cond)) check_fail_at(__FILE__, __LINE__, "%s", #cond);   \
  } while (0)
#define CHECK_MSG_(cond, ...)                                        \
  do {                                                               \
    if (!(cond)) check_fail_at(__FILE__, __LINE__, __VA_ARGS__);     \
  } while (0)

/* |a - b| <= tol, in double; false for NaN. */
#define NEAR(a, b, tol) (fabs((double)(a) - (double)(b)) <= (tol))

/* Fails unless NEAR(a, b, tol), printing both values. */
#define CHECK_NEAR(a, b, tol)                                                          \
  do {                                                                                 \
    double check_a_ = (a), check_b_ = (b);                                             \
    if (!NEAR(check_a_, check_b_, (tol)))                                              \
      check_fail_at(__FILE__, __LINE__, "%s = %.9f, expected %.9f", #a, check_a_, check_b_); \
  } while (0)

/* Ends a test program: "<name>: N check(s) failed" on stderr and 1, or
 * "<name>: all checks passed" on stdout and 0. name is a printf format (a
 * scenario program names its scenario). */
__attribute__((format(printf, 1, 2))) static inline int check_finish(const char *name, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, name);
  vsnprintf(buf, sizeof buf, name, ap);
  va_end(ap);
  if (check_failures) {
    fflush(stdout);
    fprintf(stderr, "%s: %d check(s) failed\n", buf, check_failures);
    return 1;
  }
  printf("%s: all checks passed\n", buf);
  return 0;
}

#endif
