/* model_test_data: what the model-file tests (test_model_file.c,
 * test_model.c) share: an expected-failure check, and fixed-seed test data
 * independent of nn's own generator. */
#ifndef EMOCAM_MODEL_TEST_DATA_H
#define EMOCAM_MODEL_TEST_DATA_H

#include <stdint.h>
#include <string.h>

#include "check.h"

/* rc must be an error whose message contains substr. */
#define EXPECT_FAIL(rc, err, substr) expect_fail((rc), (err), (substr), __LINE__)
static inline void expect_fail(int rc, const char *err, const char *substr, int line) {
  if (rc >= 0) {
    check_fail_at(__FILE__, line, "expected failure with \"%s\", got success", substr);
  } else if (!strstr(err, substr)) {
    check_fail_at(__FILE__, line, "expected \"%s\" in message: %s", substr, err);
  }
}


/* splitmix64: fixed-seed test data, independent of nn's own generator. */
static inline uint64_t rng_next(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
static inline float rng_float(uint64_t *s) { /* [-1, 1) */
  return (float)((double)(rng_next(s) >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}
static inline uint64_t hash_name(const char *s, uint64_t seed) { /* FNV-1a */
  uint64_t h = 1469598103934665603ull ^ seed;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

#endif
