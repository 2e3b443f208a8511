/* test_nn: behaviour of the nn library beyond gradients: a tiny synthetic
 * set learned to 100% training accuracy, batch-norm folding, bit-for-bit
 * reproducible training (the same for any thread count), batch gradients
 * equal to the mean of per-sample ones, copying tensors between nets, frozen
 * layers, the
 * optimizer and the learning-rate schedule, forward/temperature contracts. */
#include "check.h"
#include "net.h"
#include "nn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t lcg = 777;
static float frand(void) { /* uniform in [-1, 1) */
  lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
  return (float)((lcg >> 40) / (double)(1ull << 24)) * 2.0f - 1.0f;
}

static nn_net *make(const char *arch, int classes, int batch, uint64_t seed) {
  char err[NN_ERR_LEN];
  nn_net *net = NULL;
  if (nn_net_create(&net, arch, "test.arch", classes, batch, seed, err, sizeof err)) {
    printf("FAIL create: %s\n", err);
    exit(1);
  }
  return net;
}

#define S 12 /* synthetic image side */
#define NSYN 64

/* 4 classes of 12x12 patterns with noise and random phase: horizontal
 * stripes, vertical stripes, a centred blob, a checkerboard. */
static void synthetic(float *x, int *labels) {
  for (int i = 0; i < NSYN; i++) {
    int c = i % 4, ph = (int)((frand() + 1.0f) * 2.0f);
    labels[i] = c;
    for (int y = 0; y < S; y++)
      for (int xx = 0; xx < S; xx++) {
        float v;
        switch (c) {
        case 0: v = ((y + ph) / 2) % 2; break;
        case 1: v = ((xx + ph) / 2) % 2; break;
        case 2: v = (abs(y - 6) + abs(xx - 6) < 4 + ph % 2) ? 1.0f : 0.0f; break;
        default: v = ((y + ph) / 2 + (xx + ph) / 2) % 2; break;
        }
        x[(i * S + y) * S + xx] = v + 0.2f * frand();
      }
  }
}

static const char *SYN_ARCH =
    "input 12 12 1\nconv 8 3 1\nbn\nrelu\nmaxpool 2\nconv 16 3 1\nbn\nrelu\n"
    "gap\ndropout 0.1\ndense classes\nsoftmax\n";

static int argmax(const float *p, int k) {
  int b = 0;
  for (int i = 1; i < k; i++)
    if (p[i] > p[b]) b = i;
  return b;
}

static void test_learns(void) {
  float *x = malloc(sizeof(float) * NSYN * S * S);
  int labels[NSYN];
  synthetic(x, labels);
  nn_net *net = make(SYN_ARCH, 4, NSYN, 3);
  nn_adamw *opt;
  char err[NN_ERR_LEN];
  CHECK(nn_adamw_create(&opt, net, err, sizeof err) == 0, "adamw: %s", err);
  nn_adamw_opts o;
  nn_adamw_defaults(&o);
  float first = 0, last = 0;
  int steps = 150;
  for (int s = 0; s < steps; s++) {
    o.lr = nn_lr_warmup_cosine(0.02f, s, 10, steps, 0.05f);
    int off = (s % 4) * 16;
    float l = nn_net_train_batch(net, x + off * S * S, labels + off, 16, NULL, NULL);
    float norm = nn_adamw_step(opt, net, &o);
    CHECK(l >= 0 && norm >= 0, "step %d: loss %g norm %g", s, l, norm);
    if (s == 0) first = l;
    last = l;
  }
  CHECK(nn_adamw_steps(opt) == steps, "steps %lld", (long long)nn_adamw_steps(opt));
  float probs[NSYN * 4];
  nn_net_set_training(net, 0);
  CHECK(nn_net_forward(net, x, NSYN, probs) == 0, "forward");
  int correct = 0;
  for (int i = 0; i < NSYN; i++) correct += argmax(probs + 4 * i, 4) == labels[i];
  printf("synthetic: loss %.3f -> %.3f, training accuracy %d/%d\n", first, last, correct, NSYN);
  CHECK(correct == NSYN, "training accuracy %d/%d", correct, NSYN);
  CHECK(last < 0.3f * first, "loss %g -> %g", first, last);
  nn_adamw_destroy(opt);
  nn_net_destroy(net);
  free(x);
}

static void randomise_bn(nn_net *net) {
  for (int i = 0; i < nn_net_num_tensors(net); i++) {
    nn_tensor t = nn_net_tensor(net, i);
    for (size_t k = 0; k < t.count; k++) {
      if (strstr(t.name, "running_var")) t.data[k] = 0.2f + fabsf(frand());
      else if (strstr(t.name, ".bn.") || strstr(t.name, "bias")) t.data[k] = 0.5f * frand();
    }
  }
}

/* v2: a conv read by its bn and by an add (not folded: the add needs the
 * conv's own output), a bn + relu whose bn is read twice (not fused), a bn
 * after a `from` (folded into the conv it reads), a gate. */
static const char fold_arch_v2[] =
    "input 16 16 3\nconv 8 3 1 @c\nbn\nadd c\nrelu\nconv 8 3 1\nbn @b\nrelu\nadd b\n"
    "conv 12 1 2 from c\nbn\nrelu @m\ngap\nsigmoid\nmul m\nconv 6 3 1 1 3\nbn\nrelu\ngap\ndense classes\nsoftmax\n";

static void test_fold(const char *arch) {
  int n = 3, K = 5;
  nn_net *net = make(arch, K, n, 11);
  randomise_bn(net);
  float x[3 * 3 * 16 * 16], before[15], after[15];
  for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) x[i] = frand();
  nn_net_set_temperature(net, 0.5f);
  CHECK(nn_net_forward(net, x, n, before) == 0, "forward");
  char err[NN_ERR_LEN];
  CHECK(nn_net_fold_batchnorm(net, err, sizeof err) == 0, "fold: %s", err);
  CHECK(net_is_folded(net), "not marked folded");
  CHECK(nn_net_forward(net, x, n, after) == 0, "forward folded");
  double md = 0;
  for (int i = 0; i < n * K; i++) md = fmax(md, fabs(before[i] - after[i]));
  printf("fold: max probability difference %.2e\n", md);
  CHECK(md < 1e-5, "folded net differs by %g", md);
  /* a batch-1 query takes the single-sample path */
  CHECK(nn_net_forward(net, x, 1, after) == 0, "forward 1");
  md = 0;
  for (int i = 0; i < K; i++) md = fmax(md, fabs(before[i] - after[i]));
  CHECK(md < 1e-5, "batch-1 folded net differs by %g", md);
  int labels[3] = {0, 1, 2};
  CHECK(nn_net_train_batch(net, x, labels, n, NULL, NULL) < 0, "training a folded net");
  nn_adamw *opt;
  CHECK(nn_adamw_create(&opt, net, err, sizeof err) == 0, "adamw");
  nn_adamw_opts o;
  nn_adamw_defaults(&o);
  CHECK(nn_adamw_step(opt, net, &o) < 0, "stepping a folded net");
  nn_adamw_destroy(opt);
  nn_net_set_training(net, 1);
  CHECK(nn_net_forward(net, x, n, after) == 0, "forward");
  nn_net_destroy(net);
}

/* A single sample takes other code paths (work split by output rows) than a
 * batch (split by sample): both must give the same probabilities. */
static void test_single_vs_batch(void) {
  const char *arch = "input 32 32 3\nconv 16 3 1\nbn\nrelu\nconv 24 3 2\nrelu\nconv 24 1 1\n"
                     "dwconv 3 2\nbn\nrelu\nmaxpool 2\nconv 32 5 1\ngap\ndense classes\nsoftmax\n";
  int n = 3, K = 4;
  nn_net *net = make(arch, K, n, 21);
  randomise_bn(net);
  static float x[3 * 3 * 32 * 32];
  float batch[12], one[4];
  for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) x[i] = frand();
  char err[NN_ERR_LEN];
  for (int folded = 0; folded < 2; folded++) {
    if (folded) nn_net_fold_batchnorm(net, err, sizeof err);
    CHECK(nn_net_forward(net, x, n, batch) == 0, "forward");
    for (int s = 0; s < n; s++) {
      CHECK(nn_net_forward(net, x + s * 3 * 32 * 32, 1, one) == 0, "forward 1");
      double md = 0;
      for (int k = 0; k < K; k++) md = fmax(md, fabs(one[k] - batch[s * K + k]));
      CHECK(md < 1e-5, "sample %d (folded %d): single and batched differ by %g", s, folded, md);
    }
  }
  nn_net_destroy(net);
}

/* trains `steps` steps from seed and returns the parameters (malloc'd) */
static float *train_run(int threads, uint64_t seed, int steps, size_t *count) {
  nn_set_threads(threads);
  nn_net *net = make(SYN_ARCH, 4, 16, seed);
  float *x = malloc(sizeof(float) * NSYN * S * S);
  int labels[NSYN];
  lcg = 99;
  synthetic(x, labels);
  nn_adamw *opt;
  char err[NN_ERR_LEN];
  nn_adamw_create(&opt, net, err, sizeof err);
  nn_adamw_opts o;
  nn_adamw_defaults(&o);
  float cw[4] = {1, 2, 1, 0.5f};
  nn_loss_opts lo = {.class_weights = cw, .label_smoothing = 0.1f};
  for (int s = 0; s < steps; s++)
    nn_net_train_batch(net, x + (s % 4) * 16 * S * S, labels + (s % 4) * 16, 16, &lo, NULL),
        nn_adamw_step(opt, net, &o);
  *count = nn_net_param_count(net);
  float *p = malloc(sizeof(float) * *count);
  memcpy(p, net->params, sizeof(float) * *count);
  nn_adamw_destroy(opt);
  nn_net_destroy(net);
  free(x);
  return p;
}

static void test_reproducible(void) {
  size_t n;
  float *a = train_run(1, 5, 6, &n), *b = train_run(1, 5, 6, &n), *c = train_run(1, 6, 6, &n);
  CHECK(memcmp(a, b, sizeof(float) * n) == 0, "two 1-thread runs differ");
  CHECK(memcmp(a, c, sizeof(float) * n) != 0, "different seeds give the same parameters");
  float *d = train_run(2, 5, 6, &n), *e = train_run(2, 5, 6, &n);
  CHECK(memcmp(d, e, sizeof(float) * n) == 0, "two 2-thread runs differ");
  /* work is cut into chunks fixed by the batch, summed in a fixed order */
  CHECK(memcmp(a, d, sizeof(float) * n) == 0, "1-thread and 2-thread runs differ");
  free(a), free(b), free(c), free(d), free(e);
}

/* Without batch norm the samples of a batch are independent, so the batch's
 * parameter gradients (of the mean loss) are the mean of the per-sample
 * ones and its input gradient is each sample's divided by n. With a batch
 * of 45, conv cuts the 16x16 layers into chunks of 3 one-sample GEMMs (the
 * chunk's gradient accumulates over them) and lets several samples share one
 * GEMM on the 8x8 and 4x4 planes (the last group partial); 3x3 stride 1
 * (flipped-kernel dx), stride 2, 1x1 and a 1-channel input take every
 * input-gradient path. A batch of 16 cuts the 16x16 layers into 16 chunks,
 * more than 45 make, and its gradients land in the most slots. */
static void test_batch_vs_samples(void) {
  enum { N = 45, SZ = 16 * 16 };
  const char *arch = "input 16 16 1\nconv 8 3 1\nrelu\nconv 16 3 1\nrelu\nconv 8 3 2\nrelu\n"
                     "conv 10 3 1\nconv 9 1 1\nrelu\nconv 6 3 2\ngap\ndense classes\nsoftmax\n";
  nn_net *net = make(arch, 3, N, 11);
  nn_net_want_input_grad(net, 1);
  float *x = malloc(sizeof(float) * N * SZ), *gin = malloc(sizeof(float) * N * SZ);
  int labels[N];
  for (int i = 0; i < N * SZ; i++) x[i] = frand();
  for (int i = 0; i < N; i++) labels[i] = i % 3;
  size_t np = nn_net_param_count(net);
  double *mean = calloc(np, sizeof(double));
  float *batch = malloc(sizeof(float) * np * 2);
  /* batches of 45 and of 16 (more chunks than 45 makes: 16 of one sample) */
  nn_net_train_batch(net, x, labels, 16, NULL, NULL);
  memcpy(batch + np, net->grads, sizeof(float) * np);
  nn_net_train_batch(net, x, labels, N, NULL, NULL);
  memcpy(batch, net->grads, sizeof(float) * np);
  memcpy(gin, nn_net_input_grad(net), sizeof(float) * N * SZ);
  double worst_in = 0.0, scale_in = 0.0, worst16 = 0.0;
  for (int s = 0; s < N; s++) {
    nn_net_train_batch(net, x + s * SZ, labels + s, 1, NULL, NULL);
    for (size_t k = 0; k < np; k++) mean[k] += net->grads[k] / (double)N;
    if (s == 15)
      for (size_t k = 0; k < np; k++)
        worst16 = fmax(worst16, fabs(batch[np + k] - mean[k] * N / 16.0));
    const float *g = nn_net_input_grad(net);
    for (int i = 0; i < SZ; i++) {
      worst_in = fmax(worst_in, fabs(gin[s * SZ + i] - g[i] / (double)N));
      scale_in = fmax(scale_in, fabs(g[i] / (double)N));
    }
  }
  double worst = 0.0, scale = 0.0;
  for (size_t k = 0; k < np; k++) {
    worst = fmax(worst, fabs(batch[k] - mean[k]));
    scale = fmax(scale, fabs(mean[k]));
  }
  CHECK(scale > 1e-4 && scale_in > 1e-6, "gradients vanished (%g, %g)", scale, scale_in);
  CHECK(worst < 1e-4 * scale, "batch and per-sample parameter gradients differ by %g (max %g)",
        worst, scale);
  CHECK(worst16 < 3e-4 * scale, "batch of 16: parameter gradients off by %g (max %g)", worst16,
        scale);
  CHECK(worst_in < 1e-4 * scale_in, "batch and per-sample input gradients differ by %g (max %g)",
        worst_in, scale_in);
  free(x), free(gin), free(mean), free(batch);
  nn_net_destroy(net);
}

/* One sample's conv in tiles of output rows (a 48x48 plane's columns do not
 * fit L2 whole) computes what the untiled conv does: outputs, parameter and
 * input gradients, with tiles of one row and tiles of three (16 rows: the
 * last tile is one row), through the forward, dW and flipped-kernel dx
 * paths (16 channels in). */
static void test_conv_tiles(void) {
  enum { N = 3, SZ = 16 * 16 * 3 };
  const char *arch = "input 16 16 3\nconv 16 3 1\nbn\nrelu\nconv 8 3 1\nrelu\nconv 8 5 1\n"
                     "gap\ndense classes\nsoftmax\n";
  nn_net *net = make(arch, 3, N, 5);
  nn_net_want_input_grad(net, 1);
  float x[N * SZ], probs[3][N * 3];
  int labels[N] = {0, 1, 2};
  for (int i = 0; i < N * SZ; i++) x[i] = frand();
  size_t np = nn_net_param_count(net);
  float *grads = malloc(sizeof(float) * 3 * (np + N * SZ));
  /* bytes: the default (one tile), one row of the 16-channel layer's
   * columns (144 x 16 floats) and three */
  long tile_bytes[3] = {0, 1, 3 * 144 * 16 * 4};
  for (int t = 0; t < 3; t++) {
    conv_set_tile_bytes(tile_bytes[t]);
    nn_net_train_batch(net, x, labels, N, NULL, probs[t]);
    memcpy(grads + t * (np + N * SZ), net->grads, sizeof(float) * np);
    memcpy(grads + t * (np + N * SZ) + np, nn_net_input_grad(net), sizeof(float) * N * SZ);
  }
  conv_set_tile_bytes(0);
  for (int t = 1; t < 3; t++) {
    double dp = 0, dg = 0, scale = 0;
    for (int i = 0; i < N * 3; i++) dp = fmax(dp, fabs(probs[t][i] - probs[0][i]));
    for (size_t k = 0; k < np + N * SZ; k++) {
      dg = fmax(dg, fabs(grads[t * (np + N * SZ) + k] - grads[k]));
      scale = fmax(scale, fabs(grads[k]));
    }
    CHECK(scale > 1e-4, "gradients vanished");
    CHECK(dp < 1e-6 && dg < 1e-5 * scale,
          "tiles of %ld bytes: probabilities off by %g, gradients by %g (max %g)", tile_bytes[t],
          dp, dg, scale);
  }
  free(grads);
  nn_net_destroy(net);
}

/* Depthwise conv forward against the textbook sum, for strides 1..3 and
 * kernels 3 and 5 on planes wide enough for the vectorised phase split; a
 * batch of 2 takes the per-plane path, 13 the batch path (8 per bundle). */
static void test_dwconv_reference(void) {
  static const int cases[][4] = {{3, 1, 9, 37}, {3, 2, 9, 37}, {5, 2, 8, 34}, {3, 3, 7, 20},
                                 {5, 1, 6, 17}, {3, 2, 5, 16}, {5, 3, 4, 5}};
  size_t ncases = sizeof cases / sizeof cases[0];
  for (size_t t = 0; t < 4 * ncases; t++) {
    size_t c7 = t % ncases, pass = t / ncases;
    int K = cases[c7][0], St = cases[c7][1], H = cases[c7][2], W = cases[c7][3];
    /* 3 channels take the per-plane loops at batch 2 and the bundles (8
     * channels per vector, one short bundle) at batch 13; 11 channels (a
     * 1x1 conv first) take the bundles at any batch: a full one and a short
     * one */
    int N = pass % 2 ? 13 : 2, C = pass < 2 ? 3 : 11;
    char arch[160];
    snprintf(arch, sizeof arch, "input %d %d 3\n%sdwconv %d %d\ngap\ndense classes\nsoftmax\n", H,
             W, C == 3 ? "" : "conv 11 1 1\n", K, St);
    nn_net *net = make(arch, 2, N, 3 + t);
    int at = C == 3 ? 0 : 1;
    layer *l = &net->L[at];
    for (int c = 0; c < C; c++) l->b[c] = 0.1f * (c + 1);
    float *x = malloc(sizeof(float) * N * 3 * H * W), probs[2 * 13];
    for (int i = 0; i < N * 3 * H * W; i++) x[i] = frand();
    nn_net_set_training(net, 1);
    nn_net_forward(net, x, N, probs);
    const float *in = at ? net->L[0].act : x; /* the dwconv's input */
    int OH = l->a.oh, OW = l->a.ow, pad = K / 2;
    double worst = 0.0;
    for (int p = 0; p < N * C; p++)
      for (int oy = 0; oy < OH; oy++)
        for (int ox = 0; ox < OW; ox++) {
          int c = p % C;
          double want = l->b[c];
          for (int ky = 0; ky < K; ky++)
            for (int kx = 0; kx < K; kx++) {
              int iy = oy * St - pad + ky, ix = ox * St - pad + kx;
              if (iy >= 0 && iy < H && ix >= 0 && ix < W)
                want += (double)l->w[(c * K + ky) * K + kx] * in[(p * H + iy) * W + ix];
            }
          worst = fmax(worst, fabs(l->act[(p * OH + oy) * OW + ox] - want));
        }
    CHECK(worst < 1e-5, "dwconv K %d stride %d on %dx%d, %d channels, batch %d: off the reference by %g",
          K, St, H, W, C, N, worst);
    free(x);
    nn_net_destroy(net);
  }
}

static void test_copy_matching(void) {
  nn_net *a = make("input 8 8 1\nconv 4 3 1\nbn\nrelu\ngap\ndense 3\nsoftmax\n", 0, 1, 1);
  nn_net *b = make("input 8 8 1\nconv 4 3 1\nbn\nrelu\nconv 5 3 1\ngap\ndense 4\nsoftmax\n", 0, 1, 2);
  nn_tensor bw = nn_net_tensor(b, 0), bd = nn_net_tensor(b, 8), aw = nn_net_tensor(a, 0),
            ad = nn_net_tensor(a, 6);
  CHECK(!strcmp(bd.name, "5.dense.weight") && !strcmp(ad.name, "4.dense.weight"), "names");
  CHECK(memcmp(aw.data, bw.data, sizeof(float) * aw.count) != 0, "seeds 1 and 2 agree");
  int copied = nn_net_copy_matching(b, a);
  /* conv weight/bias and the four bn tensors match; the dense layers do not */
  CHECK(copied == 6, "copied %d", copied);
  CHECK(memcmp(aw.data, bw.data, sizeof(float) * aw.count) == 0, "conv weight not copied");
  nn_tensor am = nn_net_tensor(a, 4), bm = nn_net_tensor(b, 4);
  CHECK(memcmp(am.data, bm.data, sizeof(float) * am.count) == 0, "running mean not copied");
  nn_tensor b6 = nn_net_tensor(b, 6);
  CHECK(!strcmp(b6.name, "3.conv.weight"), "b6 %s", b6.name);
  nn_net_destroy(a);
  nn_net_destroy(b);
}

/* A bn + ReLU before a dwconv that takes bundles leaves its map to the
 * dwconv in training (net.c): with frozen statistics a training forward
 * must give the inference forward's probabilities to the bit. */
static void test_bn_deferred(void) {
  /* layers 1, 4 and 7 are a bn + ReLU read by a dwconv or a 1x1 conv; 10
   * feeds a 3x3 conv and 13 the gap, which take the bn's output as is */
  const char *arch = "input 8 8 3\nconv 12 1 1\nbn\nrelu\ndwconv 3 1\nbn\nrelu\nconv 9 1 1\n"
                     "bn\nrelu\ndwconv 3 2\nbn\nrelu\nconv 6 3 1\nbn\nrelu\ngap\n"
                     "dense classes\nsoftmax\n";
  enum { N = 5 }; /* the 1x1 conv at 8x8 takes samples 4 at a time: 4 + 1 */
  nn_net *net = make(arch, 3, N, 21);
  float x[N * 3 * 64], p_train[N * 3], p_infer[N * 3];
  int labels[N] = {0, 1, 2, 0, 1};
  for (int i = 0; i < N * 3 * 64; i++) x[i] = frand() + 0.3f;
  /* move the running statistics away from 0 and 1 */
  for (int k = 0; k < 3; k++) nn_net_train_batch(net, x, labels, N, NULL, NULL);
  nn_net_set_frozen(net, nn_net_num_layers(net));
  nn_net_set_training(net, 1);
  nn_net_forward(net, x, N, p_train);
  CHECK(net->L[1].deferred && net->L[4].deferred && net->L[7].deferred && !net->L[10].deferred &&
            !net->L[13].deferred,
        "bn layers 1, 4 and 7 defer, 10 and 13 do not: %d %d %d %d %d", net->L[1].deferred,
        net->L[4].deferred, net->L[7].deferred, net->L[10].deferred, net->L[13].deferred);
  nn_net_set_training(net, 0);
  nn_net_forward(net, x, N, p_infer);
  CHECK(!net->L[1].deferred, "inference does not defer");
  CHECK(memcmp(p_train, p_infer, sizeof p_train) == 0,
        "deferred bn: training forward %.9g, inference %.9g", p_train[0], p_infer[0]);
  nn_net_destroy(net);
}

/* Without nn_net_want_input_grad, backward stops at the lowest trainable
 * layer and skips its input gradient: the parameter gradients must be the
 * same bits, and there is no input gradient to read. */
static void test_input_grad_optional(void) {
  const char *arch = "input 12 12 1\nconv 8 3 1\nbn\nrelu\nmaxpool 2\nconv 9 1 1\nbn\nrelu\n"
                     "dwconv 3 1\nbn\nrelu\ngap\ndropout 0.2\ndense classes\nsoftmax\n";
  enum { N = 6, SZ = 144 };
  float x[N * SZ];
  int labels[N] = {0, 1, 2, 0, 1, 2};
  for (int i = 0; i < N * SZ; i++) x[i] = frand();
  static const int frozen[] = {0, 4, 5, 7, 8};
  for (size_t f = 0; f < sizeof frozen / sizeof frozen[0]; f++) {
    nn_net *net = make(arch, 3, N, 31);
    net_fix_dropout(net, 1, 7);
    nn_net_set_frozen(net, frozen[f]);
    size_t np = nn_net_param_count(net);
    float *full = malloc(sizeof(float) * np);
    nn_net_want_input_grad(net, 1);
    float l1 = nn_net_train_batch(net, x, labels, N, NULL, NULL);
    memcpy(full, net->grads, sizeof(float) * np);
    CHECK(nn_net_input_grad(net) != NULL, "frozen %d: input gradient asked for", frozen[f]);
    nn_net_want_input_grad(net, 0);
    float l2 = nn_net_train_batch(net, x, labels, N, NULL, NULL);
    CHECK(l1 == l2, "frozen %d: loss %g then %g", frozen[f], l1, l2);
    CHECK(memcmp(full, net->grads, sizeof(float) * np) == 0,
          "frozen %d: parameter gradients differ without the input gradient", frozen[f]);
    CHECK(nn_net_input_grad(net) == NULL, "frozen %d: input gradient not asked for", frozen[f]);
    free(full);
    nn_net_destroy(net);
  }
}

static void test_frozen_and_modes(void) {
  nn_net *net = make("input 6 6 1\nconv 4 3 1\nbn\nrelu\ngap\ndense classes\nsoftmax\n", 3, 4, 9);
  float x[4 * 36], p1[12], p2[12];
  int labels[4] = {0, 1, 2, 0};
  for (int i = 0; i < 4 * 36; i++) x[i] = frand() + 0.5f;
  nn_tensor rm = nn_net_tensor(net, 4), w0 = nn_net_tensor(net, 0), dw = nn_net_tensor(net, 6);
  CHECK(!strcmp(rm.name, "1.bn.running_mean"), "%s", rm.name);
  /* training mode updates running statistics: mean = 0.9*0 + 0.1*batch mean */
  CHECK(nn_net_train_batch(net, x, labels, 4, NULL, NULL) > 0, "train");
  CHECK(rm.data[0] != 0.0f, "running mean not updated");
  float saved_rm = rm.data[0], saved_w = w0.data[0], saved_d = dw.data[0];
  nn_net_set_frozen(net, 2);
  CHECK(nn_net_frozen(net) == 2, "frozen %d", nn_net_frozen(net));
  nn_adamw *opt;
  char err[NN_ERR_LEN];
  nn_adamw_create(&opt, net, err, sizeof err);
  nn_adamw_opts o;
  nn_adamw_defaults(&o);
  nn_net_train_batch(net, x, labels, 4, NULL, NULL);
  nn_adamw_step(opt, net, &o);
  CHECK(rm.data[0] == saved_rm, "frozen bn moved its running mean");
  CHECK(w0.data[0] == saved_w, "frozen conv weight updated");
  CHECK(dw.data[0] != saved_d, "unfrozen dense weight not updated");
  CHECK(nn_adamw_m(opt, 4) == NULL && nn_adamw_m(opt, 6) != NULL, "moments");
  nn_adamw_destroy(opt);
  /* inference mode is deterministic; training mode with dropout is not */
  nn_net_set_frozen(net, 0);
  nn_net_forward(net, x, 4, p1);
  nn_net_forward(net, x, 4, p2);
  CHECK(memcmp(p1, p2, sizeof p1) == 0, "inference forward not repeatable");
  float sum = 0;
  for (int k = 0; k < 3; k++) sum += p1[k];
  CHECK(fabsf(sum - 1.0f) < 1e-5f, "probabilities sum to %g", sum);
  /* temperature: softmax(logits / t) */
  const float *lg = nn_net_logits(net);
  nn_net_set_temperature(net, 2.0f);
  CHECK(nn_net_temperature(net) == 2.0f, "temperature");
  nn_net_forward(net, x, 4, p2);
  double e0 = exp(lg[0] / 2.0), e1 = exp(lg[1] / 2.0), e2 = exp(lg[2] / 2.0);
  CHECK(fabs(p2[0] - e0 / (e0 + e1 + e2)) < 1e-5, "temperature softmax %g", p2[0]);
  /* bad arguments */
  CHECK(nn_net_forward(net, x, 5, p1) < 0 && nn_net_forward(net, x, 0, p1) < 0, "n range");
  int bad[4] = {0, 3, 0, 0};
  CHECK(nn_net_train_batch(net, x, bad, 4, NULL, NULL) < 0, "label out of range");
  nn_loss_opts lo = {.label_smoothing = 1.0f};
  CHECK(nn_net_train_batch(net, x, labels, 4, &lo, NULL) < 0, "smoothing 1");
  nn_net_destroy(net);
}

/* loss value: weighted mean with smoothing, against a direct computation */
static void test_loss_value(void) {
  nn_net *net = make("input 1 1 1\ndense classes\nsoftmax\n", 3, 2, 4);
  float x[2] = {0.5f, -1.0f}, probs[6];
  int labels[2] = {2, 0};
  float cw[3] = {0.5f, 1.0f, 2.0f};
  nn_loss_opts lo = {.class_weights = cw, .label_smoothing = 0.3f};
  float l = nn_net_train_batch(net, x, labels, 2, &lo, probs);
  double want = 0, wsum = 0;
  for (int i = 0; i < 2; i++) {
    double li = 0;
    for (int k = 0; k < 3; k++) li -= ((k == labels[i] ? 0.7 : 0.0) + 0.1) * log(probs[3 * i + k]);
    want += cw[labels[i]] * li;
    wsum += cw[labels[i]];
  }
  want /= wsum;
  CHECK(fabs(l - want) < 1e-5, "loss %g, want %g", l, want);
  nn_net_destroy(net);
}

/* distillation: each target mixes the teacher's probabilities in; the
 * loss against a direct computation, and the dense bias's gradient (the
 * batch mean of p - t) against the mixed target */
static void test_loss_teacher(void) {
  nn_net *net = make("input 1 1 1\ndense classes\nsoftmax\n", 3, 2, 4);
  float x[2] = {0.5f, -1.0f}, probs[6];
  int labels[2] = {2, 0};
  const float teacher[6] = {0.2f, 0.5f, 0.3f, 0.6f, 0.1f, 0.3f};
  nn_loss_opts lo = {NULL, 0.3f, teacher, 0.4f};
  float l = nn_net_train_batch(net, x, labels, 2, &lo, probs);
  double want = 0, g[3] = {0, 0, 0};
  for (int i = 0; i < 2; i++)
    for (int k = 0; k < 3; k++) {
      double t = 0.6 * ((k == labels[i] ? 0.7 : 0.0) + 0.1) + 0.4 * teacher[3 * i + k];
      want -= t * log(probs[3 * i + k]) / 2;
      g[k] += (probs[3 * i + k] - t) / 2;
    }
  CHECK(fabs(l - want) < 1e-5, "teacher loss %g, want %g", l, want);
  for (int i = 0; i < nn_net_num_tensors(net); i++) {
    nn_tensor t = nn_net_tensor(net, i);
    if (!strstr(t.name, "bias")) continue;
    for (int k = 0; k < 3; k++)
      CHECK(fabs(t.grad[k] - g[k]) < 1e-5, "bias grad %d: %g, want %g", k, t.grad[k], g[k]);
  }
  nn_loss_opts bad = {NULL, 0.0f, teacher, 1.5f};
  CHECK(nn_net_train_batch(net, x, labels, 2, &bad, NULL) < 0, "teacher weight 1.5 accepted");
  nn_net_destroy(net);
}

static void test_schedule(void) {
  CHECK(nn_lr_warmup_cosine(1.0f, 0, 10, 110, 0.1f) == 0.0f, "warmup start");
  CHECK(fabsf(nn_lr_warmup_cosine(1.0f, 5, 10, 110, 0.1f) - 0.5f) < 1e-6f, "warmup middle");
  CHECK(fabsf(nn_lr_warmup_cosine(1.0f, 10, 10, 110, 0.1f) - 1.0f) < 1e-6f, "peak");
  CHECK(fabsf(nn_lr_warmup_cosine(1.0f, 60, 10, 110, 0.1f) - 0.55f) < 1e-6f, "cosine middle");
  CHECK(fabsf(nn_lr_warmup_cosine(1.0f, 110, 10, 110, 0.1f) - 0.1f) < 1e-6f, "end");
  CHECK(fabsf(nn_lr_warmup_cosine(1.0f, 500, 10, 110, 0.1f) - 0.1f) < 1e-6f, "past the end");
}

/* one AdamW step against the formula, with weight decay and clipping */
static void test_adamw_formula(void) {
  nn_net *net = make("input 1 2 1\ndense 2\nsoftmax\n", 0, 1, 4);
  nn_tensor w = nn_net_tensor(net, 0), b = nn_net_tensor(net, 1);
  float w0[4], b0[2];
  memcpy(w0, w.data, sizeof w0);
  memcpy(b0, b.data, sizeof b0);
  float g[6] = {3, -4, 0, 12, 1, -1};
  memcpy(w.grad, g, sizeof(float) * 4);
  memcpy(b.grad, g + 4, sizeof(float) * 2);
  nn_adamw *opt;
  char err[NN_ERR_LEN];
  nn_adamw_create(&opt, net, err, sizeof err);
  nn_adamw_opts o;
  nn_adamw_defaults(&o);
  o.lr = 0.1f, o.weight_decay = 0.5f, o.clip_norm = 1.0f;
  float norm = nn_adamw_step(opt, net, &o);
  double want_norm = sqrt(9 + 16 + 0 + 144 + 1 + 1);
  CHECK(fabs(norm - want_norm) < 1e-4, "norm %g want %g", norm, want_norm);
  /* first step: mhat = g', vhat = g'^2, so the update is lr * sign(g') */
  for (int k = 0; k < 4; k++) {
    double gs = g[k] / want_norm, want = w0[k] * (1 - 0.05) - 0.1 * gs / (fabs(gs) + 1e-8);
    CHECK(fabs(w.data[k] - want) < 1e-5, "w[%d] %g want %g", k, w.data[k], want);
  }
  CHECK(fabs(b.data[0] - (b0[0] - 0.1)) < 1e-5, "bias decayed or wrong: %g", b.data[0]);
  nn_adamw_set_steps(opt, 41);
  CHECK(nn_adamw_steps(opt) == 41, "set steps");
  nn_adamw_destroy(opt);
  nn_net_destroy(net);
}

int main(void) {
  nn_set_threads(2);
  test_learns();
  test_fold("input 16 16 3\nconv 8 3 1\nbn\nrelu\ndwconv 3 2\nbn\nrelu\n"
            "conv 12 1 1\nbn\nmaxpool 2\nrelu\nbn\nconv 6 3 1\nrelu\ngap\ndense classes\nsoftmax\n");
  test_fold(fold_arch_v2);
  test_single_vs_batch();
  test_copy_matching();
  test_frozen_and_modes();
  test_loss_value();
  test_loss_teacher();
  test_schedule();
  test_adamw_formula();
  test_reproducible();
  test_batch_vs_samples();
  test_conv_tiles();
  test_dwconv_reference();
  test_bn_deferred();
  test_input_grad_optional();
  return check_finish("test_nn");
}
