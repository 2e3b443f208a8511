/* onnx_testdata: ONNX's own per-operator test cases (Debian's
 * libonnx-testdata) through emocam's importer and nn.
 *
 *   onnx_testdata [DIR]     (default /usr/share/libonnx-testdata/data/node)
 *
 * Every case whose operators are all ones the importer maps is run: its
 * model.onnx, with the second and later inputs of test_data_set_0 made
 * initializers (nn needs fixed weights; ONNX's cases feed weights as
 * inputs), imported, run on input_0, and compared with output_0 (the final
 * value: the logits, or the probabilities when the case ends in Softmax),
 * |nn - expected| <= 1e-4 + 1e-4 |expected|. A case is "passed", "refused"
 * (the importer said why: a shape or option nn does not run) or "wrong"
 * (imported, but a different answer). Fails when any case is wrong; prints
 * the tally per operator. Skips (77) when the test data is not installed. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "nn.h"
#include "nn_onnx.h"
#include "onnx.pb-c.h"
#include "test_support.h"

static const char *const mapped[] = {
    "Conv", "BatchNormalization", "Relu", "LeakyRelu", "Clip", "Sigmoid", "HardSwish", "MaxPool",
    "AveragePool", "GlobalAveragePool", "ReduceMean", "Flatten", "Reshape", "Squeeze", "Gemm",
    "MatMul", "Add", "Mul", "Div", "Concat", "Dropout", "Identity", "Constant", "Pad", "Softmax"};

static int is_mapped(const char *op) {
  for (size_t i = 0; i < sizeof mapped / sizeof mapped[0]; i++)
    if (!strcmp(op, mapped[i])) return 1;
  return 0;
}

static Onnx__TensorProto *read_tensor(const char *path) {
  size_t n = 0;
  char *buf = test_read_file(path, &n);
  if (!buf) return NULL;
  Onnx__TensorProto *t = onnx__tensor_proto__unpack(NULL, n, (const uint8_t *)buf);
  free(buf);
  return t;
}

/* float values of t (raw or typed), count in *n; NULL if not float */
static const float *floats_of(const Onnx__TensorProto *t, size_t *n) {
  if (t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) return NULL;
  if (t->has_raw_data) {
    *n = t->raw_data.len / 4;
    return (const float *)t->raw_data.data;
  }
  *n = t->n_float_data;
  return t->float_data;
}

typedef struct {
  char op[32];
  int passed, refused, wrong;
  int images; /* cases whose data input is an image batch (N x 1|3 x H x W float) */
  int images_passed;
} tally;

static tally tallies[32];
static int ntallies;

static tally *tally_of(const char *op) {
  for (int i = 0; i < ntallies; i++)
    if (!strcmp(tallies[i].op, op)) return &tallies[i];
  tally *t = &tallies[ntallies++];
  snprintf(t->op, sizeof t->op, "%s", op);
  return t;
}

/* 1 passed, 0 refused, -1 wrong, -2 not a case for us */
static int last_image; /* the last case's data input was an image batch */
static int run_case(const char *dir, const char *name, char *why, size_t len) {
  char path[1200];
  snprintf(path, sizeof path, "%s/%s/model.onnx", dir, name);
  size_t size = 0;
  char *buf = test_read_file(path, &size);
  if (!buf) return -2;
  Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, size, (const uint8_t *)buf);
  free(buf);
  if (!m || !m->graph || m->graph->n_node == 0) {
    if (m) onnx__model_proto__free_unpacked(m, NULL);
    return -2;
  }
  Onnx__GraphProto *g = m->graph;
  for (size_t i = 0; i < g->n_node; i++)
    if (!is_mapped(g->node[i]->op_type)) {
      onnx__model_proto__free_unpacked(m, NULL);
      return -2;
    }
  /* the inputs: input_0 is the data, the rest become initializers */
  Onnx__TensorProto *in[8] = {0}, *out = NULL;
  size_t nin = g->n_input < 8 ? g->n_input : 8;
  int rc = 0;
  for (size_t k = 0; k < nin; k++) {
    snprintf(path, sizeof path, "%s/%s/test_data_set_0/input_%zu.pb", dir, name, k);
    in[k] = read_tensor(path);
  }
  snprintf(path, sizeof path, "%s/%s/test_data_set_0/output_0.pb", dir, name);
  out = read_tensor(path);
  Onnx__TensorProto **inits = malloc((g->n_initializer + nin) * sizeof *inits);
  size_t saved_n = g->n_initializer;
  Onnx__TensorProto **saved = g->initializer;
  if (saved_n) memcpy(inits, g->initializer, saved_n * sizeof *inits);
  size_t ni = saved_n;
  /* shallow copies named as the inputs they feed (the parsed tensors keep
   * their own names, which free_unpacked frees) */
  Onnx__TensorProto named[8];
  for (size_t k = 1; k < nin; k++)
    if (in[k]) {
      named[k] = *in[k];
      named[k].name = g->input[k]->name;
      inits[ni++] = &named[k];
    }
  g->initializer = inits;
  g->n_initializer = ni;
  size_t ms = onnx__model_proto__get_packed_size(m);
  unsigned char *mb = malloc(ms);
  onnx__model_proto__pack(m, mb);
  int softmax_last = !strcmp(g->node[g->n_node - 1]->op_type, "Softmax");
  g->initializer = saved;
  g->n_initializer = saved_n;
  free(inits);

  size_t nx = 0, ny = 0;
  const float *x = in[0] ? floats_of(in[0], &nx) : NULL, *y = out ? floats_of(out, &ny) : NULL;
  int batch = in[0] && in[0]->n_dims == 4 ? (int)in[0]->dims[0] : 1;
  int image = x && in[0]->n_dims == 4 && (in[0]->dims[1] == 1 || in[0]->dims[1] == 3);
  if (!x || !y || batch < 1 || batch > 64 || ny % (size_t)batch) {
    snprintf(why, len, "input or output is not float data nn can take");
    rc = 0;
  } else {
    int classes = (int)(ny / (size_t)batch);
    char *names = malloc((size_t)classes * 8 + 8);
    size_t at = 0;
    for (int i = 0; i < classes; i++) at += (size_t)sprintf(names + at, i ? ",c%d" : "c%d", i);
    nn_onnx_import_opts o = {.classes = names};
    nn_model model;
    char err[NN_ERR_LEN];
    if (classes > 8192 ||
        nn_onnx_import_buffer(mb, ms, name, &o, &model, batch, err, sizeof err) != 0) {
      snprintf(why, len, "%s", classes > 8192 ? "too many outputs" : err);
      rc = 0;
    } else {
      float *probs = malloc(sizeof(float) * ny);
      nn_net_forward(model.net, x, batch, probs);
      const float *got = softmax_last ? probs : nn_net_logits(model.net);
      double worst = 0;
      int bad = 0;
      for (size_t i = 0; i < ny; i++) {
        double d = fabs((double)got[i] - y[i]);
        worst = fmax(worst, d);
        bad |= !(d <= 1e-4 + 1e-4 * fabs(y[i]));
      }
      snprintf(why, len, "max |nn - expected| %.2g", worst);
      rc = bad ? -1 : 1;
      free(probs);
      nn_model_free(&model);
    }
    free(names);
  }
  free(mb);
  for (size_t k = 0; k < nin; k++)
    if (in[k]) onnx__tensor_proto__free_unpacked(in[k], NULL);
  if (out) onnx__tensor_proto__free_unpacked(out, NULL);
  /* the op name for the tally: the first node that is not a Constant */
  const char *op = g->node[0]->op_type;
  for (size_t i = 0; i < g->n_node; i++)
    if (strcmp(g->node[i]->op_type, "Constant")) {
      op = g->node[i]->op_type;
      break;
    }
  tally *t = tally_of(op);
  t->images += image;
  t->images_passed += image && rc == 1;
  if (rc == 1) t->passed++;
  else if (rc == 0) t->refused++;
  else t->wrong++;
  onnx__model_proto__free_unpacked(m, NULL);
  last_image = image;
  return rc;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : "/usr/share/libonnx-testdata/data/node";
  nn_set_threads(1);
  DIR *d = opendir(dir);
  if (!d) {
    printf("skipped: %s not found (Debian package libonnx-testdata)\n", dir);
    return 77;
  }
  char *names[4096];
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) && n < 4096)
    if (!strncmp(e->d_name, "test_", 5)) names[n++] = strdup(e->d_name);
  closedir(d);
  qsort(names, (size_t)n, sizeof *names, by_name);
  int passed = 0, refused = 0, wrong = 0, images = 0, images_passed = 0;
  for (int i = 0; i < n; i++) {
    char why[NN_ERR_LEN + 64];
    int rc = run_case(dir, names[i], why, sizeof why);
    if (rc == -2) {
      free(names[i]);
      continue;
    }
    const char *what = rc == 1 ? "passed" : rc == 0 ? "refused" : "WRONG";
    printf("%-48s %-8s %-5s %.150s\n", names[i], what, last_image ? "image" : "-", why);
    images += last_image;
    images_passed += last_image && rc == 1;
    passed += rc == 1;
    refused += rc == 0;
    wrong += rc == -1;
    CHECK(rc != -1, "%s: imported but gives another answer (%s)", names[i], why);
    free(names[i]);
  }
  printf("\nper operator: passed / refused / wrong, and passed of the cases with an image input\n");
  for (int i = 0; i < ntallies; i++)
    printf("  %-20s %2d / %2d / %d   %d of %d\n", tallies[i].op, tallies[i].passed,
           tallies[i].refused, tallies[i].wrong, tallies[i].images_passed, tallies[i].images);
  printf("ONNX test cases of the mapped operators: %d passed, %d refused with a reason, %d wrong; "
         "of the %d with an image input (what emocam imports), %d passed\n",
         passed, refused, wrong, images, images_passed);
  CHECK(passed > 0, "no case passed");
  return check_finish("onnx_testdata");
}
