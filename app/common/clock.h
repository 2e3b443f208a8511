/* clock: the monotonic clock in seconds, for stage timings, rates and
 * deadlines across the app. */
#ifndef APP_COMMON_CLOCK_H
#define APP_COMMON_CLOCK_H

#include <time.h>

static inline double clock_now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

#endif
