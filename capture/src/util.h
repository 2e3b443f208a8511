/* util: small helpers shared by the capture sources. */
#ifndef CAPTURE_UTIL_H
#define CAPTURE_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* snprintf into an error buffer; long paths are cut, never overflow. (A
 * function rather than snprintf so -Wformat-truncation does not flag every
 * message that embeds a path: cutting it is the intended behaviour.) */
__attribute__((format(printf, 3, 4))) static inline int cap_msg(char *buf, size_t len,
                                                                const char *fmt, ...) {
  if (!buf || len == 0) return 0;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, len, fmt, ap);
  va_end(ap);
  return n < 0 ? 0 : ((size_t)n >= len ? (int)len - 1 : n);
}

#endif
