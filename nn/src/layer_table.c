/* layer_table: the layer kinds, one row each (see layer_ops.h). The order
 * is layer_kind's. */
#include "layer_ops.h"

#include <stdio.h>
#include <string.h>

static const layer_ops *const rows[L_KINDS] = {
    [L_CONV] = &conv_ops,       [L_DWCONV] = &dwconv_ops,   [L_BN] = &bn_ops,
    [L_RELU] = &relu_ops,       [L_MAXPOOL] = &maxpool_ops, [L_DROPOUT] = &dropout_ops,
    [L_GAP] = &gap_ops,         [L_DENSE] = &dense_ops,     [L_ADD] = &add_ops,
    [L_MUL] = &mul_ops,         [L_CONCAT] = &concat_ops,   [L_SIGMOID] = &sigmoid_ops,
    [L_LEAKY] = &leaky_ops,     [L_RELU6] = &relu6_ops,     [L_HSWISH] = &hswish_ops,
    [L_SILU] = &silu_ops,       [L_AVGPOOL] = &avgpool_ops, [L_SOFTMAX] = &softmax_ops,
};

const layer_ops *layer_ops_of(layer_kind kind) { return rows[kind]; }

layer_kind layer_kind_of_word(const char *w) {
  for (int k = 0; k < L_KINDS; k++)
    if (!strcmp(rows[k]->word, w)) return (layer_kind)k;
  return L_KINDS;
}

void layer_words(char *buf, size_t len) {
  size_t at = 0;
  if (len) buf[0] = '\0';
  for (int k = 0; k < L_KINDS && at < len; k++) {
    const char *sep = k == 0 ? "" : k == L_KINDS - 1 ? " or " : ", ";
    int n = snprintf(buf + at, len - at, "%s%s", sep, rows[k]->word);
    if (n < 0) break;
    at += (size_t)n;
  }
}
