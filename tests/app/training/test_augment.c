/* test_augment: training-time distortions (app/augment.c). With every
 * distortion off a sample comes back unchanged; each seed gives one fixed
 * result; flips, blur and erasing happen to the share of samples asked for
 * and do what they say: the blur is the 3-tap kernel [a, 1-2a, a] in both
 * directions, the erased part is one rectangle of 2-20% of the area, in the
 * same place in every channel.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "training/augment.h"
#include "check.h"

#define H 24
#define W 20
#define C 2
#define N (C * H * W)

/* Every distortion off. */
static augment_opts none(void) {
  augment_opts o;
  augment_defaults(&o);
  o.max_shift = o.max_scale = o.max_rotate_deg = o.max_brightness = o.max_contrast = 0;
  o.flip = 0;
  return o;
}

static void ramp(float *x) {
  for (int i = 0; i < N; i++) x[i] = (float)((i * 37) % 101) / 100.0f;
}

static float max_diff(const float *a, const float *b) {
  float m = 0;
  for (int i = 0; i < N; i++) m = fmaxf(m, fabsf(a[i] - b[i]));
  return m;
}

static void test_identity_and_seeds(void) {
  float in[N], out[N], again[N];
  ramp(in);
  augment_opts o = none();
  augment_sample(out, in, C, H, W, &o, 42);
  CHECK(max_diff(in, out) < 1e-6f, "all distortions off changed the sample by %g",
        max_diff(in, out));

  augment_defaults(&o);
  o.blur_prob = 0.5f;
  o.erase_prob = 0.5f;
  augment_sample(out, in, C, H, W, &o, 7);
  augment_sample(again, in, C, H, W, &o, 7);
  CHECK(memcmp(out, again, sizeof out) == 0, "seed 7 gave two different results");
  augment_sample(again, in, C, H, W, &o, 8);
  CHECK(max_diff(out, again) > 0.01f, "seeds 7 and 8 gave the same result");

  /* Erasing draws its rectangle after the older distortions' draws, so with
   * it on a seed gives the same flip, shift, rotation and jitter: only the
   * erased part (at most 20% of the area, 23% with rounding) differs. */
  augment_opts plain;
  augment_defaults(&plain);
  o.blur_prob = 0;
  o.erase_prob = 1;
  augment_sample(out, in, C, H, W, &plain, 99);
  augment_sample(again, in, C, H, W, &o, 99);
  int differ = 0;
  for (int i = 0; i < N; i++) differ += out[i] != again[i];
  CHECK(differ > 0 && differ <= 0.23 * N,
        "erasing changed %d of %d values: the older distortions moved too", differ, N);
}

static void test_flip_share(void) {
  float in[N], out[N];
  ramp(in);
  augment_opts o = none();
  o.flip = 1;
  int flipped = 0, other = 0;
  for (uint64_t seed = 0; seed < 200; seed++) {
    augment_sample(out, in, C, H, W, &o, seed);
    int same = max_diff(in, out) < 1e-6f, mirror = 1;
    for (int c = 0; c < C; c++)
      for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
          mirror &= fabsf(out[(c * H + y) * W + x] - in[(c * H + y) * W + W - 1 - x]) < 1e-6f;
    flipped += mirror && !same;
    other += !same && !mirror;
  }
  CHECK(other == 0, "%d samples neither the input nor its mirror", other);
  CHECK(flipped >= 70 && flipped <= 130, "%d of 200 samples flipped, want about half", flipped);
}

/* An impulse in the middle of channel 1: the blur spreads it to
 * (1-2a)^2 in the middle, a(1-2a) beside it, a^2 at the diagonals. */
static void test_blur(void) {
  float in[N], out[N];
  memset(in, 0, sizeof in);
  const int cy = H / 2, cx = W / 2;
  in[(1 * H + cy) * W + cx] = 1.0f;
  augment_opts o = none();
  o.blur_prob = 1.0f;
  for (uint64_t seed = 1; seed <= 20; seed++) {
    augment_sample(out, in, C, H, W, &o, seed);
    const float *p = out + H * W;
    float mid = p[cy * W + cx], side = p[cy * W + cx + 1], diag = p[(cy + 1) * W + cx + 1];
    float a = sqrtf(diag);
    CHECK(a >= 0.05f - 1e-4f && a <= 0.30f + 1e-4f, "seed %d: blur weight %g outside 0.05..0.30",
          (int)seed, a);
    CHECK(fabsf(mid - (1 - 2 * a) * (1 - 2 * a)) < 1e-5f && fabsf(side - a * (1 - 2 * a)) < 1e-5f,
          "seed %d: middle %g, beside %g, diagonal %g are not a separable [a,1-2a,a]", (int)seed,
          mid, side, diag);
    CHECK(p[cy * W + cx + 2] == 0.0f && p[(cy - 2) * W + cx] == 0.0f,
          "seed %d: the blur reaches two pixels away", (int)seed);
    double sum = 0;
    for (int i = 0; i < H * W; i++) sum += p[i];
    CHECK(fabs(sum - 1.0) < 1e-5, "seed %d: blur changed the plane's sum to %g", (int)seed, sum);
    for (int i = 0; i < H * W; i++) CHECK(out[i] == 0.0f, "channel 0 changed at %d", i);
  }
  /* blur_prob is a share of samples */
  int blurred = 0;
  o.blur_prob = 0.3f;
  for (uint64_t seed = 0; seed < 400; seed++) {
    augment_sample(out, in, C, H, W, &o, seed);
    blurred += out[(1 * H + cy) * W + cx] < 0.99f;
  }
  CHECK(blurred >= 80 && blurred <= 160, "%d of 400 samples blurred at 0.3", blurred);
}

/* The changed pixels of a constant sample: one rectangle, both channels. */
static void test_erase(void) {
  float in[N], out[N];
  for (int i = 0; i < N; i++) in[i] = 0.5f;
  augment_opts o = none();
  o.erase_prob = 1.0f;
  for (uint64_t seed = 1; seed <= 50; seed++) {
    augment_sample(out, in, C, H, W, &o, seed);
    int y0 = H, y1 = -1, x0 = W, x1 = -1, changed = 0;
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++)
        if (out[y * W + x] != 0.5f) {
          changed++;
          y0 = y < y0 ? y : y0, y1 = y > y1 ? y : y1;
          x0 = x < x0 ? x : x0, x1 = x > x1 ? x : x1;
        }
    int area = (y1 - y0 + 1) * (x1 - x0 + 1);
    /* A noise pixel may land on exactly 0.5 only with probability ~2^-24. */
    CHECK(changed > 0 && changed == area, "seed %d: %d pixels changed, bounding box %d",
          (int)seed, changed, area);
    CHECK(area >= 0.015 * H * W && area <= 0.23 * H * W, "seed %d: erased %d of %d pixels",
          (int)seed, area, H * W);
    int same_place = 1, in_range = 1;
    for (int i = 0; i < H * W; i++) {
      same_place &= (out[i] != 0.5f) == (out[H * W + i] != 0.5f);
      in_range &= out[i] >= 0.0f && out[i] < 1.0f;
    }
    CHECK(same_place && in_range, "seed %d: channels erased in different places or out of [0,1)",
          (int)seed);
  }
  int erased = 0;
  o.erase_prob = 0.5f;
  for (uint64_t seed = 0; seed < 400; seed++) {
    augment_sample(out, in, C, H, W, &o, seed);
    erased += max_diff(in, out) > 0;
  }
  CHECK(erased >= 160 && erased <= 240, "%d of 400 samples erased at 0.5", erased);
}

int main(void) {
  test_identity_and_seeds();
  test_flip_share();
  test_blur();
  test_erase();
  return check_finish("test_augment");
}
