/* test_nn_fold: the shipped, trained network (assets/fer2013.emo) run with
 * batch norm folded into its convolutions and ReLUs fused, as the live path
 * runs it, against the same network unfolded: the probabilities agree within
 * 1e-5 on face-like inputs, at batch 1 and at batch 16. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "nn.h"

#define N 16

int main(void) {
  const char *path = EMOCAM_ASSETS "/fer2013.emo";
  nn_model plain, folded;
  char err[NN_ERR_LEN];
  if (nn_model_load(path, &plain, N, NULL, err, sizeof err) != 0 ||
      nn_model_load(path, &folded, N, NULL, err, sizeof err) != 0) {
    fprintf(stderr, "FAIL: %s\n", err);
    return 1;
  }
  CHECK(nn_net_fold_batchnorm(folded.net, err, sizeof err) == 0, "fold: %s", err);
  const int C = nn_net_input_c(plain.net), H = nn_net_input_h(plain.net),
            W = nn_net_input_w(plain.net), K = plain.num_classes;
  float *x = malloc(sizeof(float) * N * C * H * W);
  float *a = malloc(sizeof(float) * N * K), *b = malloc(sizeof(float) * N * K);
  /* smooth shapes with noise, in [0,1] like a face crop: a bright oval, dark
   * eyes and mouth at positions and contrasts that vary per sample */
  unsigned r = 7;
  for (int i = 0; i < N; i++)
    for (int y = 0; y < H; y++)
      for (int xx = 0; xx < W; xx++) {
        r = r * 1103515245u + 12345u;
        float u = (xx - W / 2.0f) / W, v = (y - H / 2.0f) / H, s = 0.2f + 0.05f * (i % 5);
        float face = expf(-(u * u + v * v * 0.6f) / (2 * s * s));
        float eyes = expf(-((fabsf(u) - 0.18f) * (fabsf(u) - 0.18f) + (v + 0.12f) * (v + 0.12f)) / 0.004f);
        float mouth = expf(-(u * u / 0.02f + (v - 0.2f - 0.01f * i) * (v - 0.2f - 0.01f * i) / 0.002f));
        float p = 0.2f + 0.6f * face - 0.4f * eyes - 0.3f * mouth * (i % 3) / 2.0f +
                  0.05f * ((float)((r >> 16) & 0xff) / 255.0f - 0.5f);
        x[((size_t)i * H + y) * W + xx] = p < 0 ? 0 : p > 1 ? 1 : p;
      }
  double worst = 0;
  CHECK(nn_net_forward(plain.net, x, N, a) == 0 && nn_net_forward(folded.net, x, N, b) == 0);
  for (int i = 0; i < N * K; i++) worst = fmax(worst, fabs(a[i] - b[i]));
  double worst1 = 0;
  for (int i = 0; i < N; i++) {
    CHECK(nn_net_forward(folded.net, x + (size_t)i * C * H * W, 1, b) == 0);
    for (int k = 0; k < K; k++) worst1 = fmax(worst1, fabs(a[i * K + k] - b[k]));
  }
  /* the inputs reach more than one class, or the comparison says little */
  int tops[64] = {0}, distinct = 0;
  for (int i = 0; i < N; i++) {
    int t = 0;
    for (int k = 1; k < K; k++) t = a[i * K + k] > a[i * K + t] ? k : t;
    distinct += !tops[t]++;
  }
  printf("fold: %s, max probability difference %.2e (batch %d), %.2e (batch 1); %d top classes\n",
         path, worst, N, worst1, distinct);
  CHECK(worst < 1e-5 && worst1 < 1e-5, "folded and unfolded differ by %g / %g", worst, worst1);
  CHECK(distinct >= 2, "every input gave the same class");
  free(x), free(a), free(b);
  nn_model_free(&plain);
  nn_model_free(&folded);
  return check_finish("test_nn_fold");
}
