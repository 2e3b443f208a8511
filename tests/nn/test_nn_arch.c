/* test_nn_arch: the architecture parser. Every rejection names FILE:LINE
 * and a reason; the shipped architectures parse with the expected sizes. */
#include "check.h"
#include "nn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* text must be rejected with a message containing `want` */
static void reject(const char *text, int classes, const char *want) {
  char err[NN_ERR_LEN] = "";
  nn_net *net = NULL;
  int rc = nn_net_create(&net, text, "t.arch", classes, 2, 1, err, sizeof err);
  CHECK(rc < 0 && net == NULL, "accepted: %s", text);
  CHECK(strstr(err, want) != NULL, "message \"%s\" lacks \"%s\"", err, want);
  nn_net_destroy(net);
}

static nn_net *accept(const char *text, int classes) {
  char err[NN_ERR_LEN] = "";
  nn_net *net = NULL;
  int rc = nn_net_create(&net, text, "t.arch", classes, 2, 1, err, sizeof err);
  CHECK(rc == 0 && net != NULL, "rejected: %s: %s", text, err);
  return net;
}

static char *read_arch(const char *name) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", EMOCAM_ARCH_DIR, name);
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = calloc(1, 65536);
  size_t n = buf ? fread(buf, 1, 65535, f) : 0;
  (void)n;
  fclose(f);
  return buf;
}

int main(void) {
  nn_set_threads(1);
  const char *tail = "gap\ndense classes\nsoftmax\n";
  char text[1024];

  reject("input 8 8 1\nconv 4 3\ngap\ndense classes\nsoftmax\n", 3,
         "t.arch:2: conv: expected 'conv OUT K STRIDE' or 'conv OUT K STRIDE PAD [GROUPS]', got 2 numbers");
  reject("input 8 8 1\nconvolution 4 3 1\n", 3, "t.arch:2: unknown layer 'convolution'");
  reject("input 8 8 1\n# comment\n\nconv 4 x 1\n", 3, "t.arch:4: conv: K 'x' is not a whole number");
  reject("input 8 8 1\nconv 4 3 1x\n", 3, "t.arch:2: conv: STRIDE '1x' is not a whole number");
  reject("input 8 8 1\nconv 0 3 1\n", 3, "t.arch:2: conv: OUT 0 is out of range");
  reject("input 8 8 1\nconv 99999999999999999999 3 1\n", 3, "t.arch:2: conv: OUT");
  reject("input 8 8 1\nconv 4 4 1\n", 3, "t.arch:2: conv: K 4 must be odd");
  reject("input 8 8 1\ndwconv 3\n", 3, "t.arch:2: dwconv: expected 'dwconv K STRIDE'");
  reject("input 8 8 1\nbn 3\n", 3, "t.arch:2: bn: takes no arguments");
  reject("input 8 8 1\nrelu relu\n", 3, "t.arch:2: relu: takes no arguments");
  reject("input 8 8 1\ndropout 1.0\n", 3, "t.arch:2: dropout: P 1.0 is out of range");
  reject("input 8 8 1\ndropout 0.5q\n", 3, "t.arch:2: dropout: P '0.5q' is not a number");
  reject("input 8 8 1\ndropout -0.1\n", 3, "t.arch:2: dropout: P -0.1 is out of range");
  reject("input 8 8 1\nmaxpool 2 2\n", 3, "t.arch:2: maxpool: expected 'maxpool S'");
  reject("input 8 8 2\n", 3, "t.arch:1: input: C must be 1 (grey) or 3 (colour)");
  reject("input 8 8\n", 3, "t.arch:1: input: expected 'input H W C', got 2 numbers");
  reject("input 8 8 1 # ok\ninput 8 8 1\n", 3, "t.arch:2: input: only one 'input' line");
  reject("\n# no input\nconv 4 3 1\n", 3, "t.arch:3: expected 'input H W C' as the first layer line");
  reject("", 3, "t.arch:0: no 'input H W C' line");
  reject("input 8 8 1\ngap\nsoftmax\ndense 3\n", 3, "t.arch:4: dense: nothing may follow 'softmax' (line 3)");
  reject("input 8 8 1\ngap\ndense 3\n", 3, "the last layer must be 'softmax'");
  reject("input 8 8 1\nmaxpool 2\nmaxpool 2\nmaxpool 2\nmaxpool 2\n", 3,
         "t.arch:5: maxpool 2: input is 1x1, too small");
  reject("input 8 8 1\ngap\ndense classes\nsoftmax\n", 0,
         "t.arch:3: dense: 'classes' used but the number of classes is not known");
  reject("input 8 8 1\ngap\ndense classes\nsoftmax\n", -2, "t.arch:3: dense: 'classes'");
  reject("input 8 8 1\ngap\ndense 5\nsoftmax\n", 7,
         "t.arch:3: dense: the network ends with 5 outputs but the model has 7 classes");
  reject("input 8 8 1\ndense classes\ndense 4\nsoftmax\n", 7, "t.arch:3: dense: the network ends with 4 outputs");
  reject("input 8 8 1\nconv 4 3 1\nconv 4 3 1\nconv 4 3 1\nconv 4 3 1\nconv 4 3 1\nconv 4 3 1\n"
         "conv 4 3 1\nconv 4 3 1\nconv 4 3 1 1 1 1 1 1 1 1 1 1 1\n", 3, "t.arch:10: too many words");
  /* format v2: names, `from`, merge layers */
  reject("input 8 8 1\nconv 4 3 1\nadd b\ngap\ndense classes\nsoftmax\n", 3,
         "t.arch:3: add: no tensor named 'b' before this line");
  reject("input 8 8 1\nconv 4 3 1 @a\nconv 4 3 1 @a\n", 3, "t.arch:3: conv: the name 'a' is taken (line 2)");
  reject("input 8 8 1\nconv 4 3 1 @1a\n", 3, "t.arch:2: conv: '@1a' is not a tensor name");
  reject("input 8 8 1\nconv 4 3 1 @input\n", 3, "is not a tensor name");
  reject("input 8 8 1\nconv 4 3 1 @a @b\n", 3, "t.arch:2: conv: one name per line");
  reject("input 8 8 1\nconv 4 3 1 from\n", 3, "t.arch:2: conv: 'from' needs a tensor name");
  reject("input 8 8 1\nconv 4 3 1 @a\nconv 6 3 2\nadd a\n", 3,
         "t.arch:4: add: the shapes differ (6x4x4 and 4x8x8)");
  reject("input 8 8 1\nconv 4 3 1 @a\nconv 3 3 1\nmul a\n", 3, "t.arch:4: mul: the shapes");
  reject("input 8 8 1\nconv 4 3 1 @a\nconv 3 3 2\nconcat a\n", 3, "t.arch:4: concat: the maps differ in size");
  reject("input 8 8 1\nconv 4 3 1\nadd\n", 3, "t.arch:3: add: expected 'add NAME'");
  reject("input 8 8 1\nconv 4 3 1 @a\ngap\ndense classes\nsoftmax from a\n", 3,
         "softmax: it reads the line before it");
  reject("input 8 8 1\nleaky 1.5\n", 3, "t.arch:2: leaky: A 1.5 is out of range");
  reject("input 8 8 1\nconv 4 3 1 3\n", 3, "t.arch:2: conv 4 3 1 3: the padding must be less than K");
  reject("input 4 4 1\nconv 4 7 1 0\n", 3, "the input is smaller than the kernel");
  reject("input 8 8 3\nconv 4 3 1 1 2\n", 3, "t.arch:2: conv 4 3 1 1 2: 3 input and 4 output channels do not split into 2 groups");
  reject("input 8 8 1\navgpool 3 1 3\n", 3, "t.arch:2: avgpool 3 1 3: the padding must be less than the kernel");
  reject("input 8 8 1\nmaxpool 2 2\n", 3, "t.arch:2: maxpool: expected 'maxpool S' or 'maxpool K S P'");
  {
    /* a residual block, a branch from the input and a gate: shapes and
     * what nn_net_layer reports of each line's inputs */
    nn_net *net = accept("input 8 8 1\nconv 4 3 1 @a\nrelu\nconv 4 3 1\nadd a\n"
                         "conv 2 3 1 from input @b\nconcat b\nconv 6 3 2 @m\ngap\nsigmoid\nmul m\n"
                         "gap\ndense classes\nsoftmax\n", 3);
    if (net) {
      nn_layer_info l;
      nn_net_layer(net, 3, &l);
      CHECK(!strcmp(l.kind, "add") && l.src == 2 && l.src2 == 0 && l.oc == 4, "add: src %d src2 %d", l.src, l.src2);
      nn_net_layer(net, 4, &l);
      CHECK(!strcmp(l.kind, "conv") && l.src == -1 && l.c == 1, "from input: src %d c %d", l.src, l.c);
      nn_net_layer(net, 5, &l);
      CHECK(!strcmp(l.kind, "concat") && l.src == 4 && l.src2 == 4 && l.oc == 4, "concat b (itself): %d", l.oc);
      nn_net_layer(net, 9, &l);
      CHECK(!strcmp(l.kind, "mul") && l.oc == 6 && l.oh == 4 && l.ow == 4, "mul: %dx%dx%d", l.oc, l.oh, l.ow);
      nn_net_destroy(net);
    }
  }
  reject("input 0 8 1\n", 3, "t.arch:1: input: H 0 is out of range");
  reject("input 8 8 1\nsoftmax\n", 3, "t.arch:2: softmax: there is no layer before it");

  /* accepted forms: comments, blank lines, tabs, CRLF, a number for dense */
  nn_net *net = accept("# head\n\ninput\t8 8 1   # grey\r\nconv 4 3 2\r\n\nbn\nrelu\n"
                       "maxpool 2\ndropout 0\ndense 3\nsoftmax", 0);
  if (net) {
    CHECK(nn_net_num_layers(net) == 7, "layers %d", nn_net_num_layers(net));
    CHECK(nn_net_num_classes(net) == 3, "classes %d", nn_net_num_classes(net));
    CHECK(nn_net_input_h(net) == 8 && nn_net_input_c(net) == 1, "input shape");
    /* conv 4x1x3x3 + 4, bn 4 + 4, dense 3x(4*2*2) + 3 */
    CHECK(nn_net_param_count(net) == 40 + 8 + 51, "params %zu", nn_net_param_count(net));
    CHECK(nn_net_num_tensors(net) == 8, "tensors %d", nn_net_num_tensors(net));
    nn_tensor t = nn_net_tensor(net, 6);
    CHECK(!strcmp(t.name, "5.dense.weight") && t.dims[0] == 3 && t.dims[1] == 16,
          "tensor 6 is %s [%d,%d]", t.name, t.dims[0], t.dims[1]);
    t = nn_net_tensor(net, 4);
    CHECK(!strcmp(t.name, "1.bn.running_mean") && t.grad == NULL, "tensor 4 is %s", t.name);
    CHECK(nn_net_macs_per_image(net) == 4 * 9 * 16 + 48.0, "macs %.0f", nn_net_macs_per_image(net));
    char buf[2048];
    size_t need = nn_net_summary(net, buf, sizeof buf);
    CHECK(need == strlen(buf) && strstr(buf, "maxpool") && strstr(buf, "99 parameters"), "summary:\n%s", buf);
    char small[16];
    CHECK(nn_net_summary(net, small, sizeof small) == need && strlen(small) == 15, "truncated summary");
    nn_net_destroy(net);
  }
  snprintf(text, sizeof text, "input 48 48 3\nconv 8 3 2\ndwconv 5 2\n%s", tail);
  net = accept(text, 7);
  if (net) {
    CHECK(nn_net_input_c(net) == 3 && nn_net_num_classes(net) == 7, "shape");
    nn_net_destroy(net);
  }

  /* the shipped architectures */
  const char *names[] = {"vgg.arch", "small.arch"};
  for (int i = 0; i < 2; i++) {
    char *a = read_arch(names[i]);
    CHECK(a != NULL, "cannot read %s", names[i]);
    if (!a) continue;
    net = accept(a, 7);
    if (net) {
      double m = nn_net_macs_per_image(net);
      printf("%s: %zu parameters, %.1f M multiply-adds\n", names[i], nn_net_param_count(net), m / 1e6);
      if (i == 0) CHECK(m > 80e6 && m < 140e6, "vgg MACs %.0f", m);
      else CHECK(m > 1e6 && m < 8e6, "small MACs %.0f", m);
      nn_net_destroy(net);
    }
    free(a);
  }
  return check_finish("test_nn_arch");
}
