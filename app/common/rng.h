/* rng: the app's one pseudo-random generator (splitmix64): training shuffles,
 * augmentation draws, validation splits. Deterministic for a given state, so
 * `--seed N --threads 1` runs repeat bit for bit. */
#ifndef APP_COMMON_RNG_H
#define APP_COMMON_RNG_H

#include <stdint.h>

/* The next 64 random bits; *state moves on. */
uint64_t rng_next(uint64_t *state);
/* Uniform in [0, 1), from the top 24 bits. */
float rng_uniform(uint64_t *state);
/* Fisher-Yates: v[0..n) in a random order drawn from *state. */
void rng_shuffle(int *v, int n, uint64_t *state);

#endif
