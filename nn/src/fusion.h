/* fusion: the one place that decides which neighbouring layers run as one
 * (private). Every rule asks the layers' rows (layer_ops.h) what they can
 * take; the math of each fused pass stays in the layer's own file (all
 * batch-norm math in bn.c).
 *
 * - Always: a bn followed by a ReLU runs as one pass (bn applies the ReLU,
 *   the relu layer only marks its place: relu_fused).
 * - In training, per batch: a bn + ReLU read only by a layer that can take
 *   its map leaves the map to that layer (fusion_defers_map); a bn after a
 *   layer that can take its input gradient leaves it to that layer
 *   (fusion_leaves_grad). Neither tensor is written and read back.
 * - At inference, once (fusion_fold): a bn after a conv or dwconv is folded
 *   into its weights, and a ReLU after them is applied by the conv. */
#ifndef NN_FUSION_H
#define NN_FUSION_H

#include "layer.h"

/* at build: marks bn + relu pairs (fuse_relu, relu_fused) */
void fusion_plan(layer *L, int nl);
/* 1: in a training batch of n, bn layer i leaves its map to layer i + 2 */
int fusion_defers_map(const layer *L, int nl, int i, int n);
/* 1: in a training batch of n, bn layer i leaves its input gradient to
 * layer i - 1 */
int fusion_leaves_grad(const layer *L, int nl, int i, int n);
/* folds every bn into the conv before it and fuses ReLUs into convs; after
 * it the layers marked skip are the identity (inference only) */
void fusion_fold(layer *L, int nl);

#endif
