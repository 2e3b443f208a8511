/* fuzz_onnx: libFuzzer target for the ONNX importer (nn_onnx_import_buffer).
 * Each input is imported as is, and again with class names given, so that
 * files without metadata (PyTorch's) reach the network building too. A
 * failed import must leave the model empty and say why; a successful one
 * must give a net that runs. Seeds: tests/fixtures/onnx. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "nn_onnx.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  nn_set_threads(1);
  return 0;
}

static void import_once(const uint8_t *data, size_t size, const nn_onnx_import_opts *opts) {
  char err[NN_ERR_LEN];
  nn_model m;
  err[0] = '\0';
  if (nn_onnx_import_buffer(data, size, "fuzz.onnx", opts, &m, 1, err, sizeof err) == 0) {
    int n_in = nn_net_input_c(m.net) * nn_net_input_h(m.net) * nn_net_input_w(m.net);
    float *x = calloc((size_t)n_in, sizeof(float));
    float *p = calloc((size_t)m.num_classes, sizeof(float));
    if (!x || !p || m.num_classes != nn_net_num_classes(m.net) || !m.class_names ||
        !m.preprocess || nn_net_forward(m.net, x, 1, p) != 0)
      abort();
    free(x);
    free(p);
  } else if (m.net || m.class_names || m.preprocess || m.train_state || m.num_classes ||
             err[0] == '\0') {
    abort();
  }
  nn_model_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  import_once(data, size, NULL);
  /* the seeds have 3, 5 or 7 classes; one of these lists fits */
  static const char *lists[] = {"a,b,c", "a,b,c,d,e", "a,b,c,d,e,f,g"};
  nn_onnx_import_opts o = {.classes = lists[size % 3]};
  import_once(data, size, &o);
  return 0;
}
