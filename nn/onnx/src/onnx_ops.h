/* onnx_ops: one ONNX node onto nn layers (private; onnx_ops.c). */
#ifndef NN_ONNX_OPS_H
#define NN_ONNX_OPS_H

#include "onnx_graph.h"

/* Maps node n (not a Constant) onto layers and records its output value.
 * Returns 0 or -1 after import_fail. */
int import_node(importer *im, const Onnx__NodeProto *n);

/* "Conv (...), BatchNormalization, ..." (static) */
extern const char import_supported[];

#endif
