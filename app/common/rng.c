/* rng: splitmix64 (Steele, Lea and Flood 2014), small and well mixed. */
#include "common/rng.h"

uint64_t rng_next(uint64_t *state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

float rng_uniform(uint64_t *state) { return (float)(rng_next(state) >> 40) / 16777216.0f; }

void rng_shuffle(int *v, int n, uint64_t *state) {
  for (int i = n - 1; i > 0; i--) {
    int j = (int)(rng_next(state) % (uint64_t)(i + 1));
    int t = v[i];
    v[i] = v[j];
    v[j] = t;
  }
}
