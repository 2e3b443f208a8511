/* augment: random training-time distortions of model-resolution samples:
 * horizontal flip, small shift/scale/rotation, brightness and contrast, and
 * optionally a slight blur and an erased rectangle.
 * Deterministic for a given seed, so training runs are reproducible.
 */
#ifndef APP_AUGMENT_H
#define APP_AUGMENT_H

#include <stdint.h>

typedef struct {
  float max_shift;      /* fraction of the side, e.g. 0.1 */
  float max_scale;      /* e.g. 0.1: zoom in 0.9 .. 1.1 */
  float max_rotate_deg; /* e.g. 10 */
  float max_brightness; /* additive, e.g. 0.15 */
  float max_contrast;   /* multiplicative around the mean, e.g. 0.25 */
  int flip;             /* 1: mirror half of the samples */
  float blur_prob;      /* share of samples blurred slightly (the softness of a
                           face cut from a scaled, compressed video frame) */
  float erase_prob;     /* share of samples with a random rectangle of noise
                           (random erasing: a hand or glasses over part of a face) */
} augment_opts;

void augment_defaults(augment_opts *opts);

/* out = a random distortion of in; both [c, h, w] in [0,1], distinct buffers.
 * The randomness comes from seed alone. */
void augment_sample(float *out, const float *in, int c, int h, int w, const augment_opts *opts,
                    uint64_t seed);

#endif
