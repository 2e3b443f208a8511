/* smoothing: EMA of class probabilities over time and hysteresis on the
 * shown label (see smoothing.h for the constants and why).
 */
#include "common/smoothing.h"

#include <math.h>
#include <string.h>

int smooth_init(smooth_state *s, int num_classes, float tau_s) {
  memset(s, 0, sizeof *s);
  if (num_classes < 1 || num_classes > SMOOTH_MAX_CLASSES || !(tau_s >= 0.0f)) return -1;
  s->num_classes = num_classes;
  s->tau_s = tau_s;
  return 0;
}

void smooth_reset(smooth_state *s) {
  s->started = 0;
  s->shown = 0;
  memset(s->p, 0, sizeof s->p);
}

static int argmax(const float *p, int n) {
  int best = 0;
  for (int i = 1; i < n; i++)
    if (p[i] > p[best]) best = i;
  return best;
}

int smooth_update(smooth_state *s, const float *probs, double dt_s) {
  const int n = s->num_classes;
  if (s->tau_s <= 0.0f) {
    memcpy(s->p, probs, sizeof(float) * n);
    s->shown = argmax(s->p, n);
    s->started = 1;
    return s->shown;
  }
  if (!s->started || !(dt_s > 0.0)) {
    if (!s->started) {
      memcpy(s->p, probs, sizeof(float) * n);
      s->shown = argmax(s->p, n);
      s->started = 1;
    }
    return s->shown;
  }
  const float a = (float)(1.0 - exp(-dt_s / s->tau_s));
  for (int i = 0; i < n; i++) s->p[i] += a * (probs[i] - s->p[i]);
  const int best = argmax(s->p, n);
  float margin = SMOOTH_MARGIN_REL * s->p[best];
  if (margin < SMOOTH_MARGIN_ABS) margin = SMOOTH_MARGIN_ABS;
  if (best != s->shown && s->p[best] >= s->p[s->shown] + margin) s->shown = best;
  return s->shown;
}

const float *smooth_probs(const smooth_state *s) { return s->p; }
