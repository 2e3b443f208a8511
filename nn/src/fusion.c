/* fusion: which neighbouring layers run as one (see fusion.h). */
#include "fusion.h"
#include "layer_ops.h"

/* 1: layer i reads layer i - 1, the only reader of its output: the two are
 * a chain link, which every fusion needs (v2 text may branch). */
static int chained(const layer *L, int i) { return i > 0 && L[i].a.src == i - 1 && L[i - 1].readers == 1; }

void fusion_plan(layer *L, int nl) {
  for (int i = 1; i < nl; i++)
    if (L[i].a.kind == L_RELU && L[i - 1].a.kind == L_BN && chained(L, i)) {
      L[i].relu_fused = 1;
      L[i - 1].fuse_relu = 1;
    }
}

/* The map's values are the same to the bit whether the bn writes them or
 * the layer after computes them as it loads its input (bn_map_plane). */
int fusion_defers_map(const layer *L, int nl, int i, int n) {
  const layer *l = &L[i];
  if (l->a.kind != L_BN || l->skip || !l->fuse_relu || i + 2 >= nl) return 0;
  if (!chained(L, i + 1) || !chained(L, i + 2)) return 0;
  const layer *next = &L[i + 2];
  const layer_ops *op = layer_ops_of(next->a.kind);
  return op->takes_bn_map && op->takes_bn_map(next, n);
}

int fusion_leaves_grad(const layer *L, int nl, int i, int n) {
  (void)nl;
  if (L[i].a.kind != L_BN || L[i].skip || !chained(L, i)) return 0;
  const layer *before = &L[i - 1];
  const layer_ops *op = layer_ops_of(before->a.kind);
  return op->takes_bn_grad && op->takes_bn_grad(before, n);
}

void fusion_fold(layer *L, int nl) {
  for (int i = 1; i < nl; i++) {
    layer *bn = &L[i], *before = &L[i - 1];
    const layer_ops *op = layer_ops_of(before->a.kind);
    if (bn->a.kind != L_BN || !op->folds_bn || !chained(L, i)) continue;
    bn_fold_into(bn, before->w, before->b, (size_t)op->folds_bn(&before->a));
    bn->skip = 1;
  }
  /* a ReLU into the layer before it, through folded bns */
  for (int i = 1; i < nl; i++) {
    if (L[i].a.kind != L_RELU) continue;
    if (!chained(L, i)) continue;
    int j = i - 1, linked = 1;
    while (linked && j > 0 && L[j].skip) linked = chained(L, j--);
    if (linked && !L[j].skip && layer_ops_of(L[j].a.kind)->folds_bn) {
      L[j].fuse_relu = 1;
      L[i].skip = 1;
    }
  }
}
