/* loss: softmax and the weighted, label-smoothed cross-entropy (loss.h).
 * With p = softmax(z) and target t: loss = -sum_k t_k log p_k and
 * dloss/dz = p - t; the weighted batch mean scales sample i by w_i / sum w. */
#include "loss.h"
#include "layer_ops.h"

#include <math.h>

void loss_softmax(float *probs, const float *logits, int n, int K, float t) {
  float inv_t = 1.0f / t;
  for (int i = 0; i < n; i++) {
    const float *z = logits + (long)i * K;
    float *p = probs + (long)i * K;
    float m = z[0];
    for (int k = 1; k < K; k++) m = z[k] > m ? z[k] : m;
    /* subtracting the max keeps exp() finite */
    double sum = 0.0;
    for (int k = 0; k < K; k++) {
      p[k] = expf((z[k] - m) * inv_t);
      sum += p[k];
    }
    float inv = (float)(1.0 / sum);
    for (int k = 0; k < K; k++) p[k] *= inv;
  }
}

float loss_xent(float *grad, const float *probs, const int *labels, int n, int K,
                const float *class_weights, float eps, const float *teacher, float teacher_w) {
  double wsum = 0.0, total = 0.0;
  for (int i = 0; i < n; i++) wsum += class_weights ? class_weights[labels[i]] : 1.0f;
  float off = eps / (float)K, on = 1.0f - eps + off;
  const float own = teacher ? 1.0f - teacher_w : 1.0f;
  for (int i = 0; i < n; i++) {
    const float *p = probs + (long)i * K;
    float *g = grad + (long)i * K;
    float w = class_weights ? class_weights[labels[i]] : 1.0f;
    float scale = wsum > 0.0 ? (float)(w / wsum) : 0.0f;
    double li = 0.0;
    for (int k = 0; k < K; k++) {
      float t = own * (k == labels[i] ? on : off);
      if (teacher) t += teacher_w * teacher[(long)i * K + k];
      /* clamp: log(0) would make one confident mistake infinite */
      if (t > 0.0f) li -= t * log(p[k] > 1e-30f ? p[k] : 1e-30f);
      g[k] = scale * (p[k] - t);
    }
    total += w * li;
  }
  return wsum > 0.0 ? (float)(total / wsum) : 0.0f;
}

/* The softmax layer's row: it must end every network, and the net applies
 * it (loss_softmax, with the temperature) after the layers before it, so
 * as a layer it does nothing. */
const layer_ops softmax_ops = {.word = "softmax"};
