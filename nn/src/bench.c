/* bench: nn_bench, the speed figures of an architecture (nn.h): batch-1
 * inference latency (folded, as the live path runs it), batch-256 inference
 * throughput, and batch-64 training throughput with AdamW; medians of
 * repeated runs on random data. */
#include "nn.h"
#include "rng.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int nn_bench(const char *arch_text, const char *source_name, int num_classes, int repeats,
             nn_bench_result *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  if (repeats < 1) repeats = 1;
  enum { B1_RUNS = 20, BIG = 256, TRAIN = 64 };
  nn_net *net = NULL;
  nn_adamw *opt = NULL;
  int rc = -1, nb1 = repeats * B1_RUNS;
  if (nn_net_create(&net, arch_text, source_name, num_classes, BIG, 1, err, errlen)) return -1;
  int K = nn_net_num_classes(net);
  size_t in = (size_t)nn_net_input_c(net) * nn_net_input_h(net) * nn_net_input_w(net);
  float *x = malloc(sizeof(float) * in * BIG), *probs = malloc(sizeof(float) * K * BIG);
  int *labels = malloc(sizeof(int) * TRAIN);
  double *t = malloc(sizeof(double) * (size_t)(nb1 > repeats ? nb1 : repeats));
  if (!x || !probs || !labels || !t) {
    snprintf(err, errlen, "bench: out of memory");
    goto done;
  }
  nn_rng r;
  rng_seed(&r, 42);
  for (size_t i = 0; i < in * BIG; i++) x[i] = (float)rng_uniform(&r);
  for (int i = 0; i < TRAIN; i++) labels[i] = i % K;

  /* batch 256, inference mode, unfolded */
  nn_net_forward(net, x, BIG, probs);
  for (int i = 0; i < repeats; i++) {
    double t0 = now_s();
    nn_net_forward(net, x, BIG, probs);
    t[i] = now_s() - t0;
  }
  out->infer_b256_images_per_s = BIG / median(t, repeats);

  /* batch 64 training with AdamW, on a net whose training buffers fit 64 */
  nn_net_destroy(net);
  net = NULL;
  if (nn_net_create(&net, arch_text, source_name, num_classes, TRAIN, 1, err, errlen)) goto done;
  if (nn_adamw_create(&opt, net, err, errlen)) goto done;
  nn_adamw_opts o;
  nn_adamw_defaults(&o);
  nn_loss_opts lo = {0};
  for (int i = 0; i < 2; i++) {
    nn_net_train_batch(net, x, labels, TRAIN, &lo, NULL);
    nn_adamw_step(opt, net, &o);
  }
  for (int i = 0; i < repeats; i++) {
    double t0 = now_s();
    nn_net_train_batch(net, x, labels, TRAIN, &lo, NULL);
    nn_adamw_step(opt, net, &o);
    t[i] = now_s() - t0;
  }
  out->train_b64_images_per_s = TRAIN / median(t, repeats);

  /* batch 1, folded, as the live path runs */
  if (nn_net_fold_batchnorm(net, err, errlen)) goto done;
  for (int i = 0; i < 5; i++) nn_net_forward(net, x, 1, probs);
  for (int i = 0; i < nb1; i++) {
    double t0 = now_s();
    nn_net_forward(net, x + (size_t)(i % TRAIN) * in, 1, probs);
    t[i] = now_s() - t0;
  }
  out->infer_b1_ms = 1e3 * median(t, nb1);
  rc = 0;
done:
  free(x);
  free(probs);
  free(labels);
  free(t);
  nn_adamw_destroy(opt);
  nn_net_destroy(net);
  return rc;
}
