/* err: how nn fills the caller's error buffer (private). nn never prints;
 * every failure is a message in the buffer the caller passed. */
#ifndef NN_ERR_H
#define NN_ERR_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* printf into err (NULL or errlen 0: nothing is written). */
static inline void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline void set_err(char *err, size_t errlen, const char *fmt, ...) {
  if (!err || errlen == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

#endif
