/* test_support: what the live-path test programs (test_live, test_live_keys,
 * test_window) share: the seven class names and a tiny random network or
 * model file to run frames through. Setup only: a failure here prints
 * "FAIL: ..." and exits 1, since no test can run without its model.
 */
#ifndef EMOCAM_TESTS_TEST_SUPPORT_H
#define EMOCAM_TESTS_TEST_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include "nn.h"

#define TEST_CLASSES 7
/* The FER-2013 classes, in the order emocam's models use. */
extern const char *const test_class_names[TEST_CLASSES];

/* Architectures small enough to build and run in milliseconds: one or two
 * strided 3x3 convolutions over a 48x48 grey input, pooled into 7 classes. */
#define TEST_ARCH_ONE_CONV "input 48 48 1\nconv 6 3 2\nrelu\ngap\ndense classes\nsoftmax\n"
#define TEST_ARCH_TWO_CONV \
  "input 48 48 1\nconv 6 3 2\nrelu\nconv 8 3 2\nrelu\ngap\ndense classes\nsoftmax\n"

/* A TEST_CLASSES-class net of arch (batch 1) with weights drawn from seed.
 * The caller destroys it. */
nn_net *test_tiny_net(const char *arch, uint64_t seed);

/* Saves test_tiny_net(arch, seed) as a model file at path, with emocam's
 * grey centre-crop preprocessing, so `emocam --model path` runs it. */
void test_save_tiny_model(const char *path, const char *arch, uint64_t seed);

/* The whole file at path, NUL-terminated (malloc'd; *n its length), or NULL
 * when it cannot be read. */
char *test_read_file(const char *path, size_t *n);

#endif
