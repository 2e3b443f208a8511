/* onnx_tensor: the values of TensorProtos and attributes, checked (private).
 * A stranger's file may declare any dims and any data; these functions
 * accept a tensor only when its data is all there, of the type asked for,
 * and its element count is one the caller can afford. */
#ifndef NN_ONNX_TENSOR_H
#define NN_ONNX_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "onnx.pb-c.h"

/* Most elements in one imported tensor (256 M floats, 1 GiB): beyond any
 * network nn runs, and below what the file-size limit could hold anyway. */
#define ONNX_MAX_ELEMENTS (1L << 28)

/* Element count of t's dims; -1 when a dim is negative or the product
 * exceeds ONNX_MAX_ELEMENTS. */
long tensor_count(const Onnx__TensorProto *t);

/* t's values as a new float array of *count elements (malloc'd, caller
 * frees). FLOAT tensors (raw_data or float_data) only. Returns NULL with a
 * reason in why (what is wrong with it, without its name). */
float *tensor_floats(const Onnx__TensorProto *t, long *count, char *why, size_t len);
/* The same for INT64 (raw_data or int64_data). */
int64_t *tensor_int64s(const Onnx__TensorProto *t, long *count, char *why, size_t len);

/* The attribute called name of node n, or NULL. */
const Onnx__AttributeProto *node_attr(const Onnx__NodeProto *n, const char *name);
/* Its integer value, or def when absent; -1 (and why) when it is there but
 * not an INT. */
int attr_int(const Onnx__NodeProto *n, const char *name, int64_t def, int64_t *out, char *why,
             size_t len);
int attr_float(const Onnx__NodeProto *n, const char *name, float def, float *out, char *why,
               size_t len);
/* Its INTS value: *count entries at *out (borrowed), or *count 0 when absent;
 * -1 when it is there but not INTS. */
int attr_ints(const Onnx__NodeProto *n, const char *name, const int64_t **out, size_t *count,
              char *why, size_t len);

#endif
