/* test_onnx: ONNX import and export (nn/onnx).
 *
 *   test_onnx [TORCH_DIR]
 *
 * - PyTorch's exports (tests/fixtures/onnx, or TORCH_DIR written by
 *   torch_models.py): imported, they give PyTorch's probabilities within
 *   1e-4, batch norms in the graph and folded, before and after nn folds
 *   its own.
 * - An export of a net with every layer kind, flip averaging and a
 *   temperature imports as the same model: the same layers, tensors bit for
 *   bit, temperature, flip, classes and preprocessing; and the graph's own
 *   structure is what the file promises (opset, input, output, metadata).
 * - Files from strangers: every truncation of an export, wrong tensor types,
 *   declared sizes larger than the data (or than memory), unsupported
 *   operators and missing class names are errors that say what and where. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "test_support.h"
#include "nn.h"
#include "nn_onnx.h"
#include "onnx.pb-c.h"

static float *read_f32(const char *path, long *count) {
  size_t n = 0;
  float *v = (float *)test_read_file(path, &n);
  *count = (long)(n / sizeof(float));
  return v;
}

/* "c0,c1,...": n generic class names */
static void generic_classes(int n, char *buf, size_t len) {
  size_t at = 0;
  buf[0] = '\0';
  for (int i = 0; i < n && at < len; i++) at += (size_t)snprintf(buf + at, len - at, i ? ",c%d" : "c%d", i);
}

/* One PyTorch export against PyTorch's probabilities. */
static void torch_case(const char *dir, const char *name, int classes) {
  char onnx[1024], in[1024], want[1024], names[256], err[NN_ERR_LEN];
  snprintf(onnx, sizeof onnx, "%s/%s.onnx", dir, name);
  snprintf(in, sizeof in, "%s/%s.input.f32", dir, name);
  snprintf(want, sizeof want, "%s/%s.probs.f32", dir, name);
  long nx = 0, np = 0;
  float *x = read_f32(in, &nx), *p = read_f32(want, &np);
  CHECK(x && p, "%s: cannot read its input or expected probabilities", name);
  if (!x || !p) return;
  int n = (int)(np / classes);

  /* PyTorch's exports carry no class names: the importer asks for them */
  nn_model m;
  CHECK(nn_onnx_import_file(onnx, NULL, &m, n, err, sizeof err) != 0 && strstr(err, "--classes"),
        "%s: without class names: '%s'", name, err);
  generic_classes(classes, names, sizeof names);
  nn_onnx_import_opts o = {.classes = names};
  if (nn_onnx_import_file(onnx, &o, &m, n, err, sizeof err) != 0) {
    check_fail_at(__FILE__, __LINE__, "%s: %s", name, err);
    free(x);
    free(p);
    return;
  }
  CHECK(m.num_classes == classes && !m.flip_tta);
  float *got = malloc(sizeof(float) * (size_t)np);
  double worst[2] = {0, 0};
  for (int pass = 0; pass < 2; pass++) { /* as trained, then folded for inference */
    if (pass == 1) CHECK(nn_net_fold_batchnorm(m.net, err, sizeof err) == 0, "%s", err);
    CHECK(nn_net_forward(m.net, x, n, got) == 0);
    for (long i = 0; i < np; i++) {
      double d = fabs((double)got[i] - p[i]);
      if (d > worst[pass]) worst[pass] = d;
    }
    CHECK(worst[pass] <= 1e-4, "%s: probabilities differ from PyTorch's by %.3g", name, worst[pass]);
  }
  printf("%s: %d layers, %d samples x %d classes: max |nn - PyTorch| %.2g (folded %.2g)\n", name,
         nn_net_num_layers(m.net), n, classes, worst[0], worst[1]);
  free(got);
  free(x);
  free(p);
  nn_model_free(&m);
}

/* ---- export, import, the same model ----------------------------------------- */

static const char every_kind[] =
    "input 20 18 3\n"
    "conv 6 3 1\nbn\nrelu\nmaxpool 2\n"     /* 10 x 9 */
    "dwconv 5 2\nbn\nrelu\n"                 /* 5 x 5 */
    "conv 8 1 1\ndropout 0.2\n"
    "dense 12\nbn\nrelu\n"                   /* dense over a map, bn over features */
    "dense classes\nsoftmax\n";

/* format v2: a residual add, a gate from 1x1 convolutions and one from a
 * dense layer (an [N, C] value multiplied into a map), a grouped conv on a
 * branch `from` an earlier tensor, concatenation, every new activation */
static const char branches[] =
    "input 20 18 3\n"
    "conv 6 3 1 @a\nbn\nrelu\nconv 6 3 1\nbn\nadd a\nleaky 0.1 @r\n"
    "gap\nconv 3 1 1\nrelu6\nconv 6 1 1\nsigmoid\nmul r\nmaxpool 2 @m\n"
    "conv 4 3 2\nhswish @h\nconv 4 3 2 1 2 from m\nsilu\nconcat h @cat\n"
    "gap\ndense 8\nsigmoid\nmul cat\ndense 10\nrelu\ndense classes\nsoftmax\n";

static nn_model make_model(const char *arch) {
  nn_model m = {0};
  char err[NN_ERR_LEN];
  if (nn_net_create(&m.net, arch, "test.arch", 4, 8, 7, err, sizeof err) != 0) {
    check_fail_at(__FILE__, __LINE__, "%s", err);
    exit(1);
  }
  /* running statistics and biases away from their initial 0 and 1 */
  for (int i = 0; i < nn_net_num_tensors(m.net); i++) {
    nn_tensor t = nn_net_tensor(m.net, i);
    int var = strstr(t.name, "running_var") != NULL;
    if (strstr(t.name, "bias") || strstr(t.name, "running") || strstr(t.name, "gamma") ||
        strstr(t.name, "beta"))
      for (size_t k = 0; k < t.count; k++)
        t.data[k] = var ? 0.5f + (float)((k * 37 + i) % 11) / 10 : (float)((int)((k * 53 + i) % 13) - 6) / 20;
  }
  nn_net_set_temperature(m.net, 1.3f);
  m.num_classes = 4;
  m.class_names = malloc(4 * sizeof *m.class_names);
  const char *names[4] = {"calm", "glad", "cross", "wary"};
  for (int i = 0; i < 4; i++) m.class_names[i] = strdup(names[i]);
  m.preprocess = strdup("colour=rgb crop=center crop_scale=1.25 resize=area range=0,1");
  m.flip_tta = 1;
  return m;
}

/* probabilities as the classifier computes them: mean of input and mirror */
static void predict_tta(nn_net *net, const float *x, int n, int c, int h, int w, float *probs) {
  int k = nn_net_num_classes(net);
  size_t sample = (size_t)c * h * w;
  float *mx = malloc(sizeof(float) * sample * n), *p2 = malloc(sizeof(float) * k * n);
  for (size_t r = 0; r < sample * n / w; r++)
    for (int i = 0; i < w; i++) mx[r * w + i] = x[r * w + (w - 1 - i)];
  nn_net_forward(net, x, n, probs);
  nn_net_forward(net, mx, n, p2);
  for (int i = 0; i < k * n; i++) probs[i] = 0.5f * (probs[i] + p2[i]);
  free(mx);
  free(p2);
}

static const char *meta(const Onnx__ModelProto *m, const char *key) {
  for (size_t i = 0; i < m->n_metadata_props; i++)
    if (!strcmp(m->metadata_props[i]->key, key)) return m->metadata_props[i]->value;
  return NULL;
}

static void test_round_trip(void) {
  char err[NN_ERR_LEN];
  nn_model a = make_model(every_kind);
  unsigned char *buf;
  size_t size;
  CHECK(nn_onnx_export_buffer(&a, "9.9.9", &buf, &size, err, sizeof err) == 0, "%s", err);

  /* what the file says of itself */
  Onnx__ModelProto *pm = onnx__model_proto__unpack(NULL, size, buf);
  CHECK(pm && pm->graph, "the export does not parse as a ModelProto");
  if (pm) {
    CHECK(pm->n_opset_import == 1 && pm->opset_import[0]->version == 13);
    CHECK(pm->graph->n_input == 1 && !strcmp(pm->graph->input[0]->name, "input"));
    CHECK(pm->graph->n_output == 1 && !strcmp(pm->graph->output[0]->name, "probabilities"));
    const char *cl = meta(pm, "classes"), *ps = meta(pm, "pixel_scale"), *pmn = meta(pm, "pixel_mean");
    CHECK(cl && !strcmp(cl, "calm,glad,cross,wary"), "classes '%s'", cl ? cl : "");
    CHECK(ps && NEAR(strtod(ps, NULL), 1.0 / 255, 1e-9) && pmn && strtod(pmn, NULL) == 0.0);
    CHECK(meta(pm, "emocam_version") && !strcmp(meta(pm, "emocam_version"), "9.9.9"));
    int gathers = 0, dropouts = 0;
    for (size_t i = 0; i < pm->graph->n_node; i++) {
      gathers += !strcmp(pm->graph->node[i]->op_type, "Gather");
      dropouts += !strcmp(pm->graph->node[i]->op_type, "Dropout");
    }
    CHECK(gathers == 1 && dropouts == 0, "%d Gather (the mirror), %d Dropout nodes", gathers, dropouts);
    onnx__model_proto__free_unpacked(pm, NULL);
  }

  nn_model b;
  CHECK(nn_onnx_import_buffer(buf, size, "round.onnx", NULL, &b, 8, err, sizeof err) == 0, "%s", err);
  if (!b.net) {
    free(buf);
    nn_model_free(&a);
    return;
  }
  /* the same layers; dropout is the identity at inference and not exported */
  int la = nn_net_num_layers(a.net), lb = nn_net_num_layers(b.net);
  CHECK(lb == la - 1, "%d layers back from %d", lb, la);
  int j = 0, same = 1;
  for (int i = 0; i < la && j < lb; i++) {
    nn_layer_info x, y;
    nn_net_layer(a.net, i, &x);
    if (!strcmp(x.kind, "dropout")) continue;
    nn_net_layer(b.net, j++, &y);
    same &= !strcmp(x.kind, y.kind) && x.out == y.out && x.k == y.k && x.stride == y.stride &&
            x.oc == y.oc && x.oh == y.oh && x.ow == y.ow;
  }
  CHECK(same, "the imported layers differ");
  /* tensors bit for bit (names shift by one after the dropout) */
  int nt = nn_net_num_tensors(a.net), mismatched = 0;
  CHECK(nn_net_num_tensors(b.net) == nt);
  for (int i = 0; i < nt && i < nn_net_num_tensors(b.net); i++) {
    nn_tensor x = nn_net_tensor(a.net, i), y = nn_net_tensor(b.net, i);
    mismatched += x.count != y.count || memcmp(x.data, y.data, sizeof(float) * x.count) != 0;
  }
  CHECK(mismatched == 0, "%d tensors differ", mismatched);
  CHECK(nn_net_temperature(b.net) == 1.3f && b.flip_tta == 1);
  CHECK(b.num_classes == 4 && !strcmp(b.class_names[2], "cross"));
  CHECK(!strcmp(b.preprocess, a.preprocess), "preprocess '%s'", b.preprocess);

  float x[2 * 3 * 20 * 18], pa[8], pb[8];
  for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) x[i] = (float)((i * 2654435761u) % 1000) / 1000;
  predict_tta(a.net, x, 2, 3, 20, 18, pa);
  predict_tta(b.net, x, 2, 3, 20, 18, pb);
  double worst = 0;
  for (int i = 0; i < 8; i++) worst = fmax(worst, fabs((double)pa[i] - pb[i]));
  CHECK(worst == 0, "probabilities differ by %g", worst);
  printf("round trip: %zu bytes, %d layers -> %d (dropout dropped), tensors identical, "
         "temperature %.2f, flip averaging kept\n", size, la, lb, (double)nn_net_temperature(b.net));

  /* an export that does not average and has temperature 1 */
  a.flip_tta = 0;
  nn_net_set_temperature(a.net, 1.0f);
  unsigned char *buf2;
  size_t size2;
  nn_model c;
  CHECK(nn_onnx_export_buffer(&a, "9.9.9", &buf2, &size2, err, sizeof err) == 0);
  CHECK(nn_onnx_import_buffer(buf2, size2, "plain.onnx", NULL, &c, 2, err, sizeof err) == 0, "%s", err);
  CHECK(c.net && !c.flip_tta && nn_net_temperature(c.net) == 1.0f);
  nn_model_free(&c);
  free(buf2);

  /* ---- strangers' files ---- */
  /* every truncation: an error, never a crash (the larger half in steps) */
  int refused = 0, tried = 0;
  for (size_t cut = 0; cut < size; cut += cut < 4096 ? 1 : 97) {
    nn_model t;
    tried++;
    if (nn_onnx_import_buffer(buf, cut, "cut.onnx", NULL, &t, 1, err, sizeof err) != 0) {
      refused++;
      if (!strstr(err, "cut.onnx")) {
        check_fail_at(__FILE__, __LINE__, "message without the file name: %s", err);
        break;
      }
    }
    nn_model_free(&t);
  }
  CHECK(refused == tried, "%d of %d truncations loaded", tried - refused, tried);
  printf("truncations: %d of %d refused\n", refused, tried);

  /* mutations of one parsed copy, each packed and imported */
  struct {
    const char *what, *expect;
  } cases[] = {{"a weight stored as int64", "is int64, expected float"},
               {"a bias declaring 2^40 elements", "declares more than"},
               {"a weight declaring more values than it holds", "declares"},
               {"an Erf node", "Erf"},
               {"no class names", "--classes"},
               {"opset 6", "opset 6"},
               {"asymmetric padding", "padding must be the same on every side"}};
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    Onnx__ModelProto *mm = onnx__model_proto__unpack(NULL, size, buf);
    Onnx__GraphProto *g = mm->graph;
    Onnx__TensorProto *w = NULL, *bias = NULL;
    for (size_t i = 0; i < g->n_initializer; i++) {
      if (!strcmp(g->initializer[i]->name, "0.conv.weight")) w = g->initializer[i];
      if (!strcmp(g->initializer[i]->name, "0.conv.bias")) bias = g->initializer[i];
    }
    Onnx__NodeProto *conv = g->node[0];
    int64_t huge = (int64_t)1 << 40, saved_dim = w->dims[0];
    char *saved_op = g->node[2]->op_type, *saved_key = mm->metadata_props[0]->key;
    switch (k) {
    case 0: w->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT64; break;
    case 1: bias->dims[0] = huge; break;
    case 2: w->dims[0] = saved_dim * 2; break;
    case 3: g->node[2]->op_type = (char *)"Erf"; break; /* the first relu */
    case 4: mm->metadata_props[0]->key = (char *)"labels"; break;
    case 5: mm->opset_import[0]->version = 6; break;
    case 6:
      for (size_t a2 = 0; a2 < conv->n_attribute; a2++)
        if (!strcmp(conv->attribute[a2]->name, "pads")) conv->attribute[a2]->ints[2] = 0;
      break;
    }
    size_t ms = onnx__model_proto__get_packed_size(mm);
    unsigned char *mb = malloc(ms);
    onnx__model_proto__pack(mm, mb);
    /* restore what points into static strings before freeing */
    g->node[2]->op_type = saved_op;
    mm->metadata_props[0]->key = saved_key;
    onnx__model_proto__free_unpacked(mm, NULL);
    nn_model t;
    int rc = nn_onnx_import_buffer(mb, ms, "bad.onnx", NULL, &t, 1, err, sizeof err);
    CHECK(rc != 0 && strstr(err, cases[k].expect) && strstr(err, "bad.onnx"),
          "%s: rc %d, '%s' (expected /%s/)", cases[k].what, rc, err, cases[k].expect);
    if (rc != 0) printf("refused, %s: %s\n", cases[k].what, err);
    nn_model_free(&t);
    free(mb);
  }
  free(buf);
  nn_model_free(&a);
  nn_model_free(&b);
}

/* v2: the same layers back, reading the same layers; tensors and
 * probabilities bit for bit. With out_dir, the export, an input and nn's
 * probabilities (flip averaged) are written there for onnx_peers.sh. */
static void test_round_trip_v2(const char *out_dir) {
  char err[NN_ERR_LEN];
  nn_model a = make_model(branches);
  unsigned char *buf;
  size_t size;
  nn_model b = {0};
  CHECK(nn_onnx_export_buffer(&a, "9.9.9", &buf, &size, err, sizeof err) == 0, "%s", err);
  CHECK(nn_onnx_import_buffer(buf, size, "v2.onnx", NULL, &b, 8, err, sizeof err) == 0, "%s", err);
  if (!b.net) {
    nn_model_free(&a);
    free(buf);
    return;
  }
  int la = nn_net_num_layers(a.net), same = la == nn_net_num_layers(b.net);
  for (int i = 0; same && i < la; i++) {
    nn_layer_info x, y;
    nn_net_layer(a.net, i, &x);
    nn_net_layer(b.net, i, &y);
    same = !strcmp(x.kind, y.kind) && x.out == y.out && x.k == y.k && x.stride == y.stride &&
           x.p == y.p && x.src == y.src && x.src2 == y.src2 && x.oc == y.oc && x.oh == y.oh &&
           x.ow == y.ow;
    if (!same) check_fail_at(__FILE__, __LINE__, "layer %d: %s (reads %d, %d) came back as %s (reads %d, %d)",
                             i, x.kind, x.src, x.src2, y.kind, y.src, y.src2);
  }
  int nt = nn_net_num_tensors(a.net), mismatched = nt != nn_net_num_tensors(b.net);
  for (int i = 0; !mismatched && i < nt; i++) {
    nn_tensor x = nn_net_tensor(a.net, i), y = nn_net_tensor(b.net, i);
    mismatched += strcmp(x.name, y.name) || x.count != y.count ||
                  memcmp(x.data, y.data, sizeof(float) * x.count) != 0;
  }
  CHECK(mismatched == 0, "the tensors differ");
  float x[3 * 3 * 20 * 18], pa[12], pb[12];
  for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) x[i] = (float)((i * 2654435761u) % 1000) / 1000;
  predict_tta(a.net, x, 3, 3, 20, 18, pa);
  predict_tta(b.net, x, 3, 3, 20, 18, pb);
  CHECK(memcmp(pa, pb, sizeof pa) == 0, "the probabilities differ");
  printf("round trip, format v2: %d layers (add, mul twice, concat, from, every activation), "
         "sources and tensors identical\n", la);
  if (out_dir) {
    char path[1024];
    snprintf(path, sizeof path, "%s/v2.onnx", out_dir);
    CHECK(nn_onnx_export_file(path, &a, "9.9.9", err, sizeof err) == 0, "%s", err);
    snprintf(path, sizeof path, "%s/v2.input.f32", out_dir);
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(x, sizeof x, 1, f) == 1);
    if (f) fclose(f);
    snprintf(path, sizeof path, "%s/v2.probs.f32", out_dir);
    f = fopen(path, "wb");
    CHECK(f && fwrite(pa, sizeof pa, 1, f) == 1);
    if (f) fclose(f);
  }
  free(buf);
  nn_model_free(&a);
  nn_model_free(&b);
}

int main(int argc, char **argv) {
  nn_set_threads(1);
  if (argc > 2 && !strcmp(argv[1], "--write-v2")) { /* for onnx_peers.sh */
    test_round_trip_v2(argv[2]);
    return check_finish("test_onnx --write-v2");
  }
  const char *dir = argc > 1 ? argv[1] : EMOCAM_FIXTURES "/onnx";
  static const struct {
    const char *name;
    int classes;
  } torch[] = {{"plain_bn", 7}, {"plain_folded", 7}, {"xception_dw", 5},
               {"xception_dw_folded", 5}, {"matmul_head", 3}, {"residual_bn", 7},
               {"residual_folded", 7}, {"gates", 4}, {"windows", 5}};
  for (size_t i = 0; i < sizeof torch / sizeof torch[0]; i++) torch_case(dir, torch[i].name, torch[i].classes);
  if (argc <= 1) {
    test_round_trip();
    test_round_trip_v2(NULL);
  }
  return check_finish("test_onnx");
}
