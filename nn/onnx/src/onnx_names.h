/* onnx_names: what the exporter and the importer agree on (private): the
 * value names of emocam's graphs and the batch-norm epsilon of nn. */
#ifndef NN_ONNX_NAMES_H
#define NN_ONNX_NAMES_H

#define ONNX_INPUT_NAME "input"
#define ONNX_OUTPUT_NAME "probabilities"
#define ONNX_TEMPERATURE_NAME "temperature"
#define ONNX_MIRROR_NAME "mirror_indices"
#define ONNX_HALF_NAME "half"
#define ONNX_BN_EPSILON 1e-5f /* nn's bn (layer.h BN_EPS) */

#endif
