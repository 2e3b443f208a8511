/* fuzz_model: libFuzzer target for the .emo loader (nn_model_load_buffer).
 * Each input is loaded twice: as is, which exercises the magic, version, size
 * and CRC checks; and with its size field and CRC recomputed, so that mutated
 * fields reach the parser and the matching against the architecture instead
 * of stopping at the CRC. A failed load must leave the model empty and say
 * why; a successful one must give a usable net. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  nn_set_threads(1);
  return 0;
}

static void load_once(const uint8_t *data, size_t size) {
  char err[NN_ERR_LEN];
  nn_model m;
  nn_adamw *opt = NULL;
  err[0] = '\0';
  if (nn_model_load_buffer(data, size, "fuzz.emo", &m, 1, &opt, err, sizeof err) == 0) {
    /* A loaded model must run: one forward pass on a zero input. */
    int n_in = nn_net_input_c(m.net) * nn_net_input_h(m.net) * nn_net_input_w(m.net);
    float *x = calloc((size_t)n_in, sizeof(float));
    float *p = calloc((size_t)m.num_classes, sizeof(float));
    if (!x || !p || m.num_classes != nn_net_num_classes(m.net) || !m.class_names ||
        !m.preprocess || nn_net_forward(m.net, x, 1, p) != 0)
      abort();
    free(x);
    free(p);
  } else if (m.net || m.class_names || m.preprocess || m.train_state || m.num_classes || opt ||
             err[0] == '\0') {
    abort();
  }
  nn_adamw_destroy(opt);
  nn_model_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  load_once(data, size);
  if (size < 20 || size > (1u << 22)) return 0;
  uint8_t *copy = malloc(size);
  if (!copy) return 0;
  memcpy(copy, data, size);
  for (int i = 0; i < 8; i++) copy[8 + i] = (uint8_t)((uint64_t)size >> (8 * i));
  uint32_t crc = nn_crc32(0, copy, size - 4);
  for (int i = 0; i < 4; i++) copy[size - 4 + i] = (uint8_t)(crc >> (8 * i));
  load_once(copy, size);
  free(copy);
  return 0;
}
