/* test_nn_grad: finite-difference gradient checks of every layer kind and of
 * the loss (class weights, label smoothing), for parameter and input
 * gradients. Central differences in float: each tensor's analytic and
 * numerical gradients, over a sample of elements, must agree to a relative
 * error (norm of difference / norm of sum) below a threshold. */
#include "check.h"
#include "net.h"
#include "nn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t lcg = 12345;
static float frand(void) { /* uniform in [-1, 1) */
  lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
  return (float)((lcg >> 40) / (double)(1ull << 24)) * 2.0f - 1.0f;
}

#define MAX_SAMPLES 24
#define H 3e-3f

typedef struct {
  nn_net *net;
  const float *x;
  const int *labels;
  int n;
  nn_loss_opts loss;
} problem;

static double loss_at(problem *p) {
  return nn_net_train_batch(p->net, p->x, p->labels, p->n, &p->loss, NULL);
}

static double central(problem *p, float *v, size_t k, float h) {
  float keep = v[k];
  v[k] = keep + h;
  double lp = loss_at(p);
  v[k] = keep - h;
  double lm = loss_at(p);
  v[k] = keep;
  return (lp - lm) / (2.0 * h);
}

/* Compares analytic g with central differences of the loss, over a sample
 * of elements of v. A probe whose step straddles a ReLU or max-pool kink
 * shows as disagreement between steps H, H/2 and H/4 and is skipped (at most a
 * three quarters of them may be). */
static double rel_error(problem *p, float *v, const float *g, size_t count, const char *what) {
  double dd = 0.0, ss = 0.0;
  int probes = 0, kinks = 0;
  size_t stride = count > MAX_SAMPLES ? count / MAX_SAMPLES : 1;
  for (size_t k = (size_t)(lcg % stride); k < count; k += stride) {
    double num = central(p, v, k, H), n2 = central(p, v, k, H / 2), n4 = central(p, v, k, H / 4);
    double lo = fmin(num, fmin(n2, n4)), hi = fmax(num, fmax(n2, n4));
    probes++;
    if (hi - lo > 0.01 * fmax(fabs(lo), fabs(hi)) + 1e-4) {
      kinks++;
      continue;
    }
    dd += (num - g[k]) * (num - g[k]);
    ss += (fabs(num) + fabs(g[k])) * (fabs(num) + fabs(g[k]));
  }
  CHECK(kinks * 4 <= probes * 3, "%s: %d of %d probes hit kinks", what, kinks, probes);
  /* a gradient that is zero in exact arithmetic (a conv bias before batch
   * norm) leaves only rounding noise: judge it by absolute size instead */
  if (sqrt(dd) < 1e-4 && sqrt(ss) < 1e-3) return 0.0;
  return ss > 0.0 ? sqrt(dd / ss) : 0.0;
}

/* Builds the net, runs one batch and checks every trainable tensor and the
 * input gradient. */
static void check_net(const char *name, const char *arch, int n, int frozen, double tol) {
  char err[NN_ERR_LEN];
  nn_net *net;
  int K = 3;
  if (nn_net_create(&net, arch, name, K, n, 99, err, sizeof err)) {
    CHECK(0, "%s: create failed: %s", name, err);
    return;
  }
  net_fix_dropout(net, 1, 5);
  nn_net_set_frozen(net, frozen);
  nn_net_want_input_grad(net, 1);
  /* give frozen batch norms non-trivial running statistics */
  for (int i = 0; i < nn_net_num_tensors(net); i++) {
    nn_tensor t = nn_net_tensor(net, i);
    if (strstr(t.name, "running_mean"))
      for (size_t k = 0; k < t.count; k++) t.data[k] = 0.3f * frand();
    if (strstr(t.name, "running_var"))
      for (size_t k = 0; k < t.count; k++) t.data[k] = 0.5f + 0.5f * fabsf(frand());
    if (strstr(t.name, "gamma") || strstr(t.name, "beta") || strstr(t.name, "bias"))
      for (size_t k = 0; k < t.count; k++) t.data[k] += 0.2f * frand();
  }
  size_t in = (size_t)nn_net_input_c(net) * nn_net_input_h(net) * nn_net_input_w(net);
  float *x = malloc(sizeof(float) * in * n);
  int labels[16];
  for (size_t i = 0; i < in * n; i++) x[i] = frand();
  for (int i = 0; i < n; i++) labels[i] = i % K;
  float cw[3] = {1.0f, 2.5f, 0.5f};
  problem p = {net, x, labels, n, {.class_weights = cw, .label_smoothing = 0.1f}};

  double l0 = loss_at(&p);
  CHECK(l0 > 0.0 && isfinite(l0), "%s: loss %g", name, l0);
  /* analytic gradients of this batch, copied before probing changes them */
  size_t np = nn_net_param_count(net);
  float *g = malloc(sizeof(float) * (np + in * n));
  size_t at = 0;
  for (int i = 0; i < nn_net_num_tensors(net); i++) {
    nn_tensor t = nn_net_tensor(net, i);
    if (!t.grad) continue;
    memcpy(g + at, t.grad, sizeof(float) * t.count);
    at += t.count;
  }
  const float *ig = nn_net_input_grad(net);
  CHECK(ig != NULL, "%s: no input gradient", name);
  if (ig) memcpy(g + np, ig, sizeof(float) * in * n);

  at = 0;
  for (int i = 0; i < nn_net_num_tensors(net); i++) {
    nn_tensor t = nn_net_tensor(net, i);
    if (!t.grad) continue;
    if (t.layer < frozen) {
      double mx = 0.0;
      for (size_t k = 0; k < t.count; k++) mx = fmax(mx, fabs(g[at + k]));
      CHECK(mx == 0.0, "%s: frozen %s has gradient %g", name, t.name, mx);
    } else {
      double e = rel_error(&p, t.data, g + at, t.count, t.name);
      CHECK(e < tol, "%s: %s relative error %.3g (tolerance %.3g)", name, t.name, e, tol);
      printf("  %-10s %-22s rel err %.2e\n", name, t.name, e);
    }
    at += t.count;
  }
  double e = rel_error(&p, x, g + np, in * n, "input");
  CHECK(e < tol, "%s: input gradient relative error %.3g", name, e);
  printf("  %-10s %-22s rel err %.2e\n", name, "input", e);
  free(g);
  free(x);
  nn_net_destroy(net);
}

int main(void) {
  nn_set_threads(2);
  double tol = 2e-2;
  check_net("conv3", "input 7 7 3\nconv 4 3 1\nrelu\nconv 3 3 2\ngap\ndense classes\nsoftmax\n", 3, 0, tol);
  check_net("conv3-wide", "input 6 5 3\nconv 9 3 1\nrelu\nconv 5 3 1\nconv 4 5 1\ngap\ndense classes\nsoftmax\n", 2, 0, tol);
  check_net("conv1", "input 6 6 1\nconv 5 1 1\nconv 4 1 2\nrelu\ndense classes\nsoftmax\n", 2, 0, tol);
  check_net("conv5", "input 9 8 1\nconv 3 5 1\nconv 4 5 2\ngap\ndense classes\nsoftmax\n", 2, 0, tol);
  check_net("dwconv", "input 8 7 3\ndwconv 3 1\nconv 4 1 1\ndwconv 3 2\ndwconv 5 1\ngap\ndense classes\nsoftmax\n", 2, 0, tol);
  /* 11 samples: the batch path (8 channels per bundle); 3 channels make a
   * partial bundle, 11 a full one and a partial one */
  check_net("dwconv-b11", "input 8 7 3\ndwconv 3 1\nconv 11 1 1\ndwconv 3 2\ndwconv 5 1\ngap\ndense classes\nsoftmax\n", 11, 0, tol);
  /* 2 samples of 11 channels: bundles of channels below DWCONV_BATCH_MIN */
  check_net("dwconv-c11", "input 8 7 3\nconv 11 1 1\ndwconv 3 1\ndwconv 3 2\ngap\ndense classes\nsoftmax\n", 2, 0, tol);
  check_net("dwconv-bn", "input 7 9 3\nconv 10 1 1\ndwconv 3 2\nbn\nrelu\ndwconv 3 1\ngap\ndense classes\nsoftmax\n", 9, 0, tol);
  /* bn + ReLU maps applied by 1x1 convs as they gather (batch 9 at 6x6: a
   * GEMM of 8 samples, then one alone) */
  check_net("bn-1x1", "input 6 6 3\nconv 6 3 1\nbn\nrelu\nconv 5 1 1\nbn\nrelu\nconv 4 1 1\ngap\ndense classes\nsoftmax\n", 9, 0, tol);
  /* the second conv's dx by the flipped kernel (8 input channels), at
   * batch 9: the bn after it left its input gradient to it both for a GEMM
   * of 8 samples and for one alone */
  check_net("bn-wflip", "input 6 6 3\nconv 8 3 1\nbn\nrelu\nconv 6 3 1\nbn\nrelu\ngap\ndense classes\nsoftmax\n", 9, 0, tol);
  check_net("bn", "input 6 6 3\nconv 6 3 1\nbn\nrelu\nconv 6 3 1\nbn\ngap\ndense classes\nsoftmax\n", 4, 0, tol);
  check_net("bn-frozen", "input 6 6 3\nconv 6 3 1\nbn\nrelu\nconv 6 3 1\nbn\ngap\ndense classes\nsoftmax\n", 4, 3, tol);
  check_net("maxpool", "input 7 7 1\nconv 4 3 1\nmaxpool 2\nconv 3 3 1\nmaxpool 3\ndense classes\nsoftmax\n", 2, 0, tol);
  /* even planes: 2x2 windows tile the plane (training's direct backward) */
  check_net("maxpool-even", "input 8 8 1\nconv 4 3 1\nmaxpool 2\nconv 3 3 1\nmaxpool 2\ndense classes\nsoftmax\n", 2, 0, tol);
  check_net("dropout", "input 5 5 1\nconv 6 3 1\nrelu\ngap\ndropout 0.5\ndense 8\nrelu\ndense classes\nsoftmax\n", 3, 0, tol);
  check_net("dense", "input 4 5 3\ndense 6\nrelu\ndense classes\nsoftmax\n", 3, 0, tol);
  /* format v2: branches and the layers that merge them. A residual block
   * (the shortcut named `a`, bn + relu chained inside the block); a strided
   * projection shortcut read `from` an earlier tensor; the input itself
   * added back (its gradient is the sum of two paths); squeeze-and-
   * excitation (a C x 1 x 1 gate, sigmoid, multiplied into the map it
   * came from); concatenation with a branch from the input; the new
   * activations; batch norms frozen below a branch. */
  check_net("residual", "input 6 6 3\nconv 4 3 1\nbn\nrelu @a\nconv 4 3 1\nbn\nrelu\nconv 4 3 1\nbn\nadd a\nrelu\ngap\ndense classes\nsoftmax\n", 4, 0, tol);
  check_net("projection", "input 7 7 1\nconv 4 3 1\nrelu @x\nconv 6 3 2\nbn\nrelu\nconv 6 3 1 @main\nconv 6 1 2 from x\nbn\nadd main\nrelu\ngap\ndense classes\nsoftmax\n", 3, 0, tol);
  check_net("add-input", "input 5 5 1\nconv 1 3 1\nadd input\nrelu\nconv 3 3 2\ngap\ndense classes\nsoftmax\n", 2, 0, tol);
  check_net("squeeze-excite", "input 6 6 3\nconv 6 3 1\nrelu @f\ngap\ndense 3\nrelu\ndense 6\nsigmoid\nmul f\nconv 4 3 1\ngap\ndense classes\nsoftmax\n", 3, 0, tol);
  check_net("mul-same", "input 5 5 3\nconv 4 3 1 @a\nconv 4 3 1 from input\nsigmoid\nmul a\ngap\ndense classes\nsoftmax\n", 2, 0, tol);
  check_net("concat", "input 6 6 3\nconv 4 3 1 @a\nconv 3 3 1 from input\nconcat a\nleaky 0.1\nconv 4 1 1\ngap\ndense classes\nsoftmax\n", 3, 0, tol);
  check_net("activations", "input 5 5 1\nconv 4 3 1\nrelu6\nconv 4 3 1\nhswish\nconv 4 3 1\nsilu\nconv 4 1 1\nsigmoid\ngap\ndense classes\nsoftmax\n", 3, 0, tol);
  /* v2 padding and windows: convolutions without padding, with more than
   * K/2, an even kernel, strided; overlapping max and average windows with
   * padding (8 input channels: where the flipped-kernel dx would take over
   * for "same" padding) */
  check_net("conv-pad", "input 9 8 3\nconv 8 3 1 0\nsigmoid\nconv 8 3 1 2\nconv 5 2 1 0\nconv 4 3 2 0\nconv 4 5 2 1\ngap\ndense classes\nsoftmax\n", 3, 0, tol);
  /* grouped convolutions (gconv.c): 3 groups of 1 -> 2 channels, 2 groups
   * strided, a depthwise 1x1 written as groups = channels; a bn folded
   * into one and frozen below it */
  check_net("grouped", "input 6 6 3\nconv 6 3 1 1 3\nsigmoid\nconv 4 3 2 1 2\nbn\nconv 4 1 1 0 4\ngap\ndense classes\nsoftmax\n", 3, 0, tol);
  check_net("pool-windows", "input 9 9 1\nconv 4 3 1\nmaxpool 3 2 1\nconv 4 3 1\navgpool 3 1 1\navgpool 2 2 0\nmaxpool 2 1 0\ndense classes\nsoftmax\n", 2, 0, tol);
  check_net("residual-frozen", "input 6 6 3\nconv 4 3 1\nbn\nrelu @a\nconv 4 3 1\nbn\nadd a\nrelu\ngap\ndense classes\nsoftmax\n", 4, 3, tol);
  /* one-row im2col tiles, as large planes take them: one sample per GEMM
   * needs 16x16 planes; the 9-in conv goes through the flipped-kernel dx */
  conv_set_tile_bytes(1);
  check_net("conv-tiles", "input 16 16 3\nconv 9 3 1\nrelu\nconv 5 3 1\nconv 4 3 2\ngap\ndense classes\nsoftmax\n", 2, 0, tol);
  conv_set_tile_bytes(0);
  return check_finish("test_nn_grad");
}
