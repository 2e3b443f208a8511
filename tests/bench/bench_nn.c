/* bench_nn: prints nn_bench's speed figures of an .arch file as JSON, to set
 * side by side with tests/bench/torch_twin.py.
 * usage: bench_nn FILE.arch [--threads N] [--classes K] [--repeats R] */
#include "nn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *read_text(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = NULL;
  size_t len = 0, cap = 0, got;
  char chunk[4096];
  while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
    if (len + got + 1 > cap) {
      cap = 2 * (len + got + 1);
      char *nb = realloc(buf, cap);
      if (!nb) {
        free(buf);
        fclose(f);
        return NULL;
      }
      buf = nb;
    }
    memcpy(buf + len, chunk, got);
    len += got;
  }
  fclose(f);
  if (!buf) buf = calloc(1, 1);
  else buf[len] = '\0';
  return buf;
}

static int parse_int(const char *s, int *out) {
  char *end;
  long v = strtol(s, &end, 10);
  if (end == s || *end || v < 0 || v > 1000) return -1;
  *out = (int)v;
  return 0;
}

int main(int argc, char **argv) {
  const char *path = NULL;
  int threads = 0, classes = 7, repeats = 7;
  for (int i = 1; i < argc; i++) {
    int *dst = !strcmp(argv[i], "--threads") ? &threads
               : !strcmp(argv[i], "--classes") ? &classes
               : !strcmp(argv[i], "--repeats") ? &repeats
                                               : NULL;
    if (dst) {
      if (i + 1 >= argc || parse_int(argv[++i], dst)) {
        fprintf(stderr, "bench_nn: %s needs a number 0..1000\n", argv[i - 1]);
        return 2;
      }
    } else if (!path && argv[i][0] != '-') {
      path = argv[i];
    } else {
      fprintf(stderr, "usage: bench_nn FILE.arch [--threads N] [--classes K] [--repeats R]\n");
      return 2;
    }
  }
  if (!path) {
    fprintf(stderr, "usage: bench_nn FILE.arch [--threads N] [--classes K] [--repeats R]\n");
    return 2;
  }
  char *text = read_text(path);
  if (!text) {
    fprintf(stderr, "bench_nn: cannot read %s\n", path);
    return 1;
  }
  nn_set_threads(threads);
  char err[NN_ERR_LEN];
  nn_net *net;
  if (nn_net_create(&net, text, path, classes, 1, 1, err, sizeof err)) {
    fprintf(stderr, "bench_nn: %s\n", err);
    free(text);
    return 1;
  }
  double macs = nn_net_macs_per_image(net);
  size_t params = nn_net_param_count(net);
  nn_net_destroy(net);
  nn_bench_result r;
  if (nn_bench(text, path, classes, repeats, &r, err, sizeof err)) {
    fprintf(stderr, "bench_nn: %s\n", err);
    free(text);
    return 1;
  }
  printf("{\"impl\": \"emocam-nn\", \"arch\": \"%s\", \"threads\": %d, \"params\": %zu, "
         "\"mmacs\": %.2f, \"infer_b1_ms\": %.3f, \"infer_b256_images_per_s\": %.1f, "
         "\"train_b64_images_per_s\": %.1f}\n",
         path, nn_get_threads(), params, macs / 1e6, r.infer_b1_ms, r.infer_b256_images_per_s,
         r.train_b64_images_per_s);
  free(text);
  return 0;
}
