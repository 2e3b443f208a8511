/* onnx_tensor: checked reads of tensor data and node attributes (onnx_tensor.h). */
#include "onnx_tensor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "nn/onnx reads raw_data as host memory: little-endian hosts only"
#endif

long tensor_count(const Onnx__TensorProto *t) {
  long n = 1;
  for (size_t d = 0; d < t->n_dims; d++) {
    if (t->dims[d] < 0 || t->dims[d] > ONNX_MAX_ELEMENTS) return -1;
    n *= (long)t->dims[d];
    if (n > ONNX_MAX_ELEMENTS) return -1;
  }
  return n;
}

static const char *type_name(int32_t type) {
  switch (type) {
  case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: return "float";
  case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: return "double";
  case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16: return "float16";
  case ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16: return "bfloat16";
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: return "int64";
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: return "int32";
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: return "int8";
  case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8: return "uint8";
  default: return "another type";
  }
}

/* Checks type, count and that the data is present; returns the count or -1. */
static long check(const Onnx__TensorProto *t, int32_t want, size_t elem, size_t typed_n,
                  char *why, size_t len) {
  if (t->n_external_data || (t->has_data_location && t->data_location ==
                                 ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)) {
    snprintf(why, len, "its data is in an external file (not supported: save the model "
                       "with its weights inside)");
    return -1;
  }
  if (!t->has_data_type || t->data_type != want) {
    snprintf(why, len, "is %s, expected %s", t->has_data_type ? type_name(t->data_type) : "untyped",
             type_name(want));
    return -1;
  }
  long n = tensor_count(t);
  if (n < 0) {
    snprintf(why, len, "declares more than %ld elements (or a negative dimension)",
             (long)ONNX_MAX_ELEMENTS);
    return -1;
  }
  size_t have = t->has_raw_data ? t->raw_data.len / elem : typed_n;
  if ((t->has_raw_data && t->raw_data.len % elem) || have != (size_t)n) {
    snprintf(why, len, "declares %ld elements but holds %zu", n, have);
    return -1;
  }
  return n;
}

/* A copy of t's n elements of elem bytes, from raw_data or the typed field. */
static void *copy_values(const Onnx__TensorProto *t, long n, size_t elem, const void *typed,
                         char *why, size_t len) {
  void *out = malloc((size_t)(n ? n : 1) * elem);
  if (!out) {
    snprintf(why, len, "out of memory for %ld values", n);
    return NULL;
  }
  if (n) memcpy(out, t->has_raw_data ? (const void *)t->raw_data.data : typed, (size_t)n * elem);
  return out;
}

float *tensor_floats(const Onnx__TensorProto *t, long *count, char *why, size_t len) {
  long n = check(t, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, sizeof(float), t->n_float_data, why, len);
  float *out = n < 0 ? NULL : copy_values(t, n, sizeof(float), t->float_data, why, len);
  if (out) *count = n;
  return out;
}

int64_t *tensor_int64s(const Onnx__TensorProto *t, long *count, char *why, size_t len) {
  long n = check(t, ONNX__TENSOR_PROTO__DATA_TYPE__INT64, sizeof(int64_t), t->n_int64_data, why, len);
  int64_t *out = n < 0 ? NULL : copy_values(t, n, sizeof(int64_t), t->int64_data, why, len);
  if (out) *count = n;
  return out;
}

const Onnx__AttributeProto *node_attr(const Onnx__NodeProto *n, const char *name) {
  for (size_t i = 0; i < n->n_attribute; i++)
    if (n->attribute[i]->name && !strcmp(n->attribute[i]->name, name)) return n->attribute[i];
  return NULL;
}

int attr_int(const Onnx__NodeProto *n, const char *name, int64_t def, int64_t *out, char *why,
             size_t len) {
  const Onnx__AttributeProto *a = node_attr(n, name);
  *out = def;
  if (!a) return 0;
  if (!a->has_i || (a->has_type && a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT)) {
    snprintf(why, len, "attribute %s is not an integer", name);
    return -1;
  }
  *out = a->i;
  return 0;
}

int attr_float(const Onnx__NodeProto *n, const char *name, float def, float *out, char *why,
               size_t len) {
  const Onnx__AttributeProto *a = node_attr(n, name);
  *out = def;
  if (!a) return 0;
  if (!a->has_f || (a->has_type && a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT)) {
    snprintf(why, len, "attribute %s is not a float", name);
    return -1;
  }
  *out = a->f;
  return 0;
}

int attr_ints(const Onnx__NodeProto *n, const char *name, const int64_t **out, size_t *count,
              char *why, size_t len) {
  const Onnx__AttributeProto *a = node_attr(n, name);
  *out = NULL;
  *count = 0;
  if (!a) return 0;
  if (a->has_type && a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS) {
    snprintf(why, len, "attribute %s is not a list of integers", name);
    return -1;
  }
  *out = a->ints;
  *count = a->n_ints;
  return 0;
}
