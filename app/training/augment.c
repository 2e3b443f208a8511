/* augment: affine + photometric distortions with bilinear resampling. */
#include "training/augment.h"

#include <math.h>

#include "common/rng.h"

void augment_defaults(augment_opts *opts) {
  opts->max_shift = 0.1f;
  opts->max_scale = 0.1f;
  opts->max_rotate_deg = 10.0f;
  opts->max_brightness = 0.15f;
  opts->max_contrast = 0.25f;
  opts->flip = 1;
  opts->blur_prob = 0.0f;
  opts->erase_prob = 0.0f;
}

/* Uniform in [-1, 1). */
static float rand_signed(uint64_t *state) { return 2.0f * rng_uniform(state) - 1.0f; }

/* Bilinear sample of plane p (h x w) at (y, x), edges replicated. */
static float sample_bilinear(const float *p, int h, int w, float y, float x) {
  if (x < 0) x = 0;
  if (y < 0) y = 0;
  if (x > w - 1) x = (float)(w - 1);
  if (y > h - 1) y = (float)(h - 1);
  int x0 = (int)x, y0 = (int)y;
  int x1 = x0 + 1 < w ? x0 + 1 : x0, y1 = y0 + 1 < h ? y0 + 1 : y0;
  float fx = x - x0, fy = y - y0;
  float top = p[y0 * w + x0] * (1 - fx) + p[y0 * w + x1] * fx;
  float bottom = p[y1 * w + x0] * (1 - fx) + p[y1 * w + x1] * fx;
  return top * (1 - fy) + bottom * fy;
}

/* In place, the 3-tap kernel [a, 1-2a, a] along one line of n values spaced
 * stride apart, ends replicated. */
static void blur_line(float *v, int n, long stride, float a) {
  float prev = v[0];
  for (int i = 0; i < n; i++) {
    float cur = v[i * stride], next = i + 1 < n ? v[(i + 1) * stride] : cur;
    v[i * stride] = a * (prev + next) + (1 - 2 * a) * cur;
    prev = cur;
  }
}

/* A separable blur of one plane: a = 1/4 is a Gaussian of sigma ~0.7 px. */
static void blur_plane(float *p, int h, int w, float a) {
  for (int y = 0; y < h; y++) blur_line(p + (long)y * w, w, 1, a);
  for (int x = 0; x < w; x++) blur_line(p + x, h, w, a);
}

/* Random erasing (Zhong et al. 2017): a rectangle of 2-20% of the area, aspect
 * 0.3-3.3, filled with uniform noise, the same place in every channel. */
static void erase_rect(float *out, int c, int h, int w, uint64_t *rng) {
  float area = (0.02f + 0.18f * rng_uniform(rng)) * h * w;
  float aspect = expf(rand_signed(rng) * logf(3.3f));
  int eh = (int)(sqrtf(area * aspect) + 0.5f), ew = (int)(sqrtf(area / aspect) + 0.5f);
  if (eh < 1) eh = 1;
  if (ew < 1) ew = 1;
  if (eh > h) eh = h;
  if (ew > w) ew = w;
  int y0 = (int)(rng_uniform(rng) * (h - eh + 1)), x0 = (int)(rng_uniform(rng) * (w - ew + 1));
  for (int ch = 0; ch < c; ch++)
    for (int y = y0; y < y0 + eh; y++)
      for (int x = x0; x < x0 + ew; x++) out[((long)ch * h + y) * w + x] = rng_uniform(rng);
}

void augment_sample(float *out, const float *in, int c, int h, int w, const augment_opts *opts,
                    uint64_t seed) {
  uint64_t rng = seed;
  const int flip = opts->flip && (rng_next(&rng) & 1);
  const float angle = rand_signed(&rng) * opts->max_rotate_deg * (float)M_PI / 180.0f;
  const float scale = 1.0f + rand_signed(&rng) * opts->max_scale;
  const float dx = rand_signed(&rng) * opts->max_shift * w;
  const float dy = rand_signed(&rng) * opts->max_shift * h;
  const float brightness = rand_signed(&rng) * opts->max_brightness;
  const float contrast = 1.0f + rand_signed(&rng) * opts->max_contrast;
  /* drawn whether used or not, so the draws above stay the same per seed */
  const float blur_draw = rng_uniform(&rng), blur_a = 0.05f + 0.25f * rng_uniform(&rng);
  const float erase_draw = rng_uniform(&rng);

  /* Inverse map: for each output pixel, where it comes from in the input.
   * src = R(-angle) * (dst - centre - shift) / scale + centre. */
  const float cy = (h - 1) * 0.5f, cx = (w - 1) * 0.5f;
  const float cos_a = cosf(angle) / scale, sin_a = sinf(angle) / scale;
  for (int ch = 0; ch < c; ch++) {
    const float *plane = in + (long)ch * h * w;
    float *dst = out + (long)ch * h * w;
    double sum = 0;
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        float ox = (flip ? (w - 1 - x) : x) - cx - dx, oy = y - cy - dy;
        float sx = cos_a * ox + sin_a * oy + cx;
        float sy = -sin_a * ox + cos_a * oy + cy;
        float v = sample_bilinear(plane, h, w, sy, sx);
        dst[y * w + x] = v;
        sum += v;
      }
    }
    /* Contrast around the plane's mean, then brightness, clamped to [0,1]. */
    const float mean = (float)(sum / ((double)h * w));
    for (int i = 0; i < h * w; i++) {
      float v = (dst[i] - mean) * contrast + mean + brightness;
      dst[i] = v < 0 ? 0 : (v > 1 ? 1 : v);
    }
    if (blur_draw < opts->blur_prob) blur_plane(dst, h, w, blur_a);
  }
  if (erase_draw < opts->erase_prob) erase_rect(out, c, h, w, &rng);
}
