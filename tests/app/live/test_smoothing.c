/* test_smoothing: the live window's EMA + hysteresis (app/smoothing.c): a real
 * change of expression shows within ~0.5 s at any frame rate, alternating
 * noise and one-frame blips do not change the shown label, --smooth 0 is raw.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "common/smoothing.h"

#define K 7
/* probs with `top` at p and the rest shared equally. */
static void one_hot(float *probs, int top, float p) {
  for (int i = 0; i < K; i++) probs[i] = (1.0f - p) / (K - 1);
  probs[top] = p;
}

/* Seconds after a step from class 1 to class 4 (confidence conf) until the
 * shown label is 4, at fps; -1 if it never is within 2 s, -2 if it switched
 * before the step. */
static double step_delay(double fps, float tau, float conf) {
  smooth_state s;
  if (smooth_init(&s, K, tau) != 0) return -3;
  float probs[K];
  const double dt = 1.0 / fps;
  one_hot(probs, 1, conf);
  for (int f = 0; f < (int)(2.0 * fps); f++)
    if (smooth_update(&s, probs, dt) != 1) return -2;
  one_hot(probs, 4, conf);
  for (int f = 1; f <= (int)(2.0 * fps); f++)
    if (smooth_update(&s, probs, dt) == 4) return f * dt;
  return -1;
}

static void test_step_change(void) {
  const double rates[] = {10, 15, 30, 60};
  for (int r = 0; r < 4; r++) {
    double d = step_delay(rates[r], SMOOTH_DEFAULT_S, 0.8f);
    CHECK(d > 0 && d <= 0.5, "step at %.0f fps (conf 0.8): shown after %.3f s, want (0, 0.5]",
          rates[r], d);
    /* Smoothing must actually smooth: not on the very first frame. */
    CHECK(d > 1.0 / rates[r] + 1e-9, "step at %.0f fps switched on the first frame", rates[r]);
  }
  double d = step_delay(30, SMOOTH_DEFAULT_S, 0.55f);
  CHECK(d > 0 && d <= 0.5, "soft step (conf 0.55) at 30 fps: shown after %.3f s", d);
  printf("step change 1 -> 4 at 30 fps, tau %.2f s: shown after %.3f s\n", SMOOTH_DEFAULT_S,
         step_delay(30, SMOOTH_DEFAULT_S, 0.8f));
}

static void test_alternating_noise(void) {
  smooth_state s;
  CHECK(smooth_init(&s, K, SMOOTH_DEFAULT_S) == 0, "init");
  float probs[K];
  int raw_changes = 0, shown_changes = 0, prev_raw = -1, prev_shown = -1;
  /* Two close classes swapping the lead every frame for 5 s at 30 fps. */
  for (int f = 0; f < 150; f++) {
    for (int i = 0; i < K; i++) probs[i] = 0.0f;
    probs[2] = (f % 2) ? 0.54f : 0.46f;
    probs[5] = 1.0f - probs[2];
    int raw = probs[2] > probs[5] ? 2 : 5;
    int shown = smooth_update(&s, probs, 1.0 / 30);
    if (prev_raw >= 0 && raw != prev_raw) raw_changes++;
    if (prev_shown >= 0 && shown != prev_shown) shown_changes++;
    prev_raw = raw;
    prev_shown = shown;
  }
  CHECK(raw_changes == 149, "raw label changed %d times, expected 149", raw_changes);
  CHECK(shown_changes == 0, "alternating noise: shown label changed %d times, expected 0",
        shown_changes);

  /* Random noise around two classes 0.05 apart: the raw label flips often,
   * the shown one stays. Fixed seed (xorshift). */
  CHECK(smooth_init(&s, K, SMOOTH_DEFAULT_S) == 0, "init");
  uint64_t x = 0x9E3779B97F4A7C15ull;
  raw_changes = shown_changes = 0;
  prev_raw = prev_shown = -1;
  for (int f = 0; f < 300; f++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    float noise = ((float)(x % 10001) / 10000.0f - 0.5f) * 0.3f; /* +-0.15 */
    for (int i = 0; i < K; i++) probs[i] = 0.01f;
    probs[3] = 0.50f + noise;
    probs[6] = 0.45f - noise;
    int raw = probs[3] > probs[6] ? 3 : 6;
    int shown = smooth_update(&s, probs, 1.0 / 30);
    if (prev_raw >= 0 && raw != prev_raw) raw_changes++;
    if (prev_shown >= 0 && shown != prev_shown) shown_changes++;
    prev_raw = raw;
    prev_shown = shown;
  }
  CHECK(raw_changes >= 50, "random noise: raw label changed only %d times", raw_changes);
  CHECK(shown_changes <= 1, "random noise: shown label changed %d times, expected <= 1",
        shown_changes);
  printf("noise: raw label changed %d times in 300 frames, shown %d\n", raw_changes,
         shown_changes);

  /* A one-frame blip of another confident class does not show. */
  CHECK(smooth_init(&s, K, SMOOTH_DEFAULT_S) == 0, "init");
  one_hot(probs, 0, 0.7f);
  for (int f = 0; f < 30; f++) smooth_update(&s, probs, 1.0 / 30);
  one_hot(probs, 6, 0.9f);
  int blip = smooth_update(&s, probs, 1.0 / 30);
  CHECK(blip == 0, "one-frame blip showed label %d", blip);
}

/* An unsure model: once a class leads clearly (if by little in absolute
 * terms), the shown label follows it rather than sticking to an old class. */
static void test_unsure_leader(void) {
  smooth_state s;
  CHECK(smooth_init(&s, K, SMOOTH_DEFAULT_S) == 0, "init");
  float probs[K] = {0.10f, 0.10f, 0.10f, 0.10f, 0.40f, 0.10f, 0.10f};
  for (int f = 0; f < 30; f++) smooth_update(&s, probs, 1.0 / 30);
  CHECK(s.shown == 4, "settled on %d", s.shown);
  const float unsure[K] = {0.20f, 0.10f, 0.21f, 0.07f, 0.14f, 0.13f, 0.15f};
  int shown = -1;
  for (int f = 0; f < 30; f++) shown = smooth_update(&s, unsure, 1.0 / 30);
  CHECK(shown == 2, "unsure model: shows %d with probabilities %.2f (shown) vs %.2f (top)", shown,
        smooth_probs(&s)[shown], smooth_probs(&s)[2]);
  /* Near-uniform noise around 1/7 does not flip the label every frame. */
  uint64_t x = 12345;
  int changes = 0, prev = shown;
  for (int f = 0; f < 300; f++) {
    float sum = 0;
    for (int i = 0; i < K; i++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      probs[i] = 1.0f / K + ((float)(x % 1001) / 1000.0f - 0.5f) * 0.06f;
      sum += probs[i];
    }
    for (int i = 0; i < K; i++) probs[i] /= sum;
    int now = smooth_update(&s, probs, 1.0 / 30);
    changes += now != prev;
    prev = now;
  }
  CHECK(changes <= 3, "near-uniform noise: shown label changed %d times in 300 frames", changes);
}

static void test_off_is_raw(void) {
  smooth_state s;
  CHECK(smooth_init(&s, K, 0.0f) == 0, "init with 0");
  float probs[K];
  for (int f = 0; f < 20; f++) {
    for (int i = 0; i < K; i++) probs[i] = 0.1f;
    probs[f % K] = 0.4f;
    int shown = smooth_update(&s, probs, 1.0 / 30);
    CHECK(shown == f % K, "smooth 0: frame %d shows %d, raw argmax %d", f, shown, f % K);
    for (int i = 0; i < K; i++)
      CHECK(smooth_probs(&s)[i] == probs[i], "smooth 0: probability %d not raw", i);
  }
}

static void test_ema_math(void) {
  smooth_state s;
  CHECK(smooth_init(&s, 2, 1.0f) == 0, "init");
  float a[2] = {1, 0}, b[2] = {0, 1};
  smooth_update(&s, a, 0.1);
  smooth_update(&s, b, 1.0); /* one time constant: 1 - 1/e of the way */
  const float *p = smooth_probs(&s);
  CHECK(fabsf(p[1] - (1.0f - expf(-1.0f))) < 1e-5f, "EMA after tau: %f, want %f", p[1],
        1.0f - expf(-1.0f));
  CHECK(fabsf(p[0] + p[1] - 1.0f) < 1e-5f, "EMA does not keep the sum: %f", p[0] + p[1]);
  CHECK(smooth_init(&s, 0, 0.3f) != 0, "0 classes accepted");
  CHECK(smooth_init(&s, SMOOTH_MAX_CLASSES + 1, 0.3f) != 0, "too many classes accepted");
  CHECK(smooth_init(&s, 7, -1.0f) != 0, "negative time constant accepted");
  CHECK(smooth_init(&s, 7, NAN) != 0, "NaN time constant accepted");
}

int main(void) {
  test_step_change();
  test_alternating_noise();
  test_unsure_leader();
  test_off_is_raw();
  test_ema_math();
  return check_finish("test_smoothing");
}
