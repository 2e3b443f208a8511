/* test_support: the tiny models of the live-path tests (see test_support.h). */
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>

const char *const test_class_names[TEST_CLASSES] = {"angry",   "disgust", "fear",    "happy",
                                                    "neutral", "sad",     "surprise"};

nn_net *test_tiny_net(const char *arch, uint64_t seed) {
  char err[NN_ERR_LEN];
  nn_net *net = NULL;
  if (nn_net_create(&net, arch, "tiny.arch", TEST_CLASSES, 1, seed, err, sizeof err) != 0) {
    fprintf(stderr, "FAIL: nn_net_create: %s\n", err);
    exit(1);
  }
  return net;
}

void test_save_tiny_model(const char *path, const char *arch, uint64_t seed) {
  char err[NN_ERR_LEN];
  /* nn_model's fields are not const, but nn_model_save only reads them. */
  nn_model m = {test_tiny_net(arch, seed), TEST_CLASSES, (char **)test_class_names,
                "colour=grey crop=center crop_scale=1 resize=area range=0,1", 0, NULL};
  if (nn_model_save(path, &m, NULL, err, sizeof err) != 0) {
    fprintf(stderr, "FAIL: nn_model_save: %s\n", err);
    exit(1);
  }
  nn_net_destroy(m.net);
}

char *test_read_file(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = len >= 0 ? malloc((size_t)len + 1) : NULL;
  if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  if (buf) buf[len] = '\0', *n = (size_t)len;
  return buf;
}
