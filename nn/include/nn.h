/* nn: a small convolutional network library over NCHW float32 batches.
 *
 * A network is built from an architecture text (format v1, see
 * assets/arch/README.md), trained with softmax cross-entropy and AdamW, and
 * saved to / loaded from `.emo` model files. nn/ knows nothing of images or
 * windows: it sees float tensors. It never prints and never exits: functions
 * that can fail return 0 on success or a negative code, and write a message
 * naming the thing, what was found and what was expected into `err`.
 */
#ifndef NN_H
#define NN_H

#include <stddef.h>
#include <stdint.h>

#define NN_ERR_LEN 512 /* a size that fits every nn error message */

/* ---- threads -------------------------------------------------------------
 * Sets the threads nn uses (its own pool and OpenBLAS). n <= 0: all cores.
 * Call before creating networks; not thread-safe. With 1 thread, training is
 * bit-for-bit reproducible for a given seed. */
void nn_set_threads(int n);
int nn_get_threads(void);

/* ---- network ------------------------------------------------------------- */
typedef struct nn_net nn_net;

/* Builds a network from architecture text. `source_name` (a file name) is used
 * in error messages: "small.arch:4: conv: expected OUT K STRIDE". The word
 * `classes` in `dense classes` becomes num_classes; num_classes <= 0 means the
 * text must give a number. When num_classes > 0 the last dense layer must
 * have num_classes outputs. Buffers for batches of up to max_batch samples are
 * allocated here, once. Parameters are initialised from `seed`.
 * Returns 0, or <0 with err filled. *out is owned by the caller. */
int nn_net_create(nn_net **out, const char *arch_text, const char *source_name,
                  int num_classes, int max_batch, uint64_t seed, char *err, size_t errlen);
void nn_net_destroy(nn_net *net); /* NULL is fine */

int nn_net_input_c(const nn_net *net);
int nn_net_input_h(const nn_net *net);
int nn_net_input_w(const nn_net *net);
int nn_net_num_classes(const nn_net *net);
int nn_net_max_batch(const nn_net *net);
int nn_net_num_layers(const nn_net *net);   /* arch lines after `input` */
const char *nn_net_arch_text(const nn_net *net); /* borrowed */
size_t nn_net_param_count(const nn_net *net);    /* trainable floats */
double nn_net_macs_per_image(const nn_net *net); /* multiply-adds, forward */

/* One layer as the architecture text gives it, for converters (ONNX export)
 * that need to know what each layer computes. */
typedef struct {
  const char *kind;   /* its word: "conv", "dwconv", "bn", "relu", "maxpool",
                         "dropout", "gap", "dense", "add", "mul", "concat", "sigmoid", "leaky",
                         "relu6", "hswish", "silu" or "softmax" (static) */
  int out, k, stride; /* conv: OUT K STRIDE; dwconv: K STRIDE; maxpool, avgpool:
                         kernel k, stride; dense: N */
  int pad;            /* conv, dwconv: zero padding on each side (K/2 unless the
                         line gives one); pooling: padding never counted */
  int groups;         /* conv: channel groups (1 unless the line gives more) */
  float p;            /* dropout probability */
  int c, h, w;        /* input shape of one sample */
  int oc, oh, ow;     /* output shape */
  int src;            /* the layer whose output it reads (-1: the input); v1: i - 1 */
  int src2;           /* add, mul, concat: the second one read (-1: the input); else -2 */
} nn_layer_info;
/* 0 <= i < nn_net_num_layers; returns 0, or -1 for an index out of range. */
int nn_net_layer(const nn_net *net, int i, nn_layer_info *out);

/* Writes a table of the layers (index, kind, output shape, params, MACs)
 * into buf (always NUL-terminated). Returns the length it needed. */
size_t nn_net_summary(const nn_net *net, char *buf, size_t len);

/* (Re)initialises every parameter from seed: He-normal conv/dense weights,
 * zero biases, BN gamma 1, beta 0, running mean 0, var 1. */
void nn_net_init_params(nn_net *net, uint64_t seed);

/* ---- modes --------------------------------------------------------------
 * Training mode: dropout active, batch norm uses batch statistics and updates
 * its running statistics. Inference mode (the default): neither. */
void nn_net_set_training(nn_net *net, int training);
/* The first n layers (arch lines after `input`) are frozen: no parameter
 * updates, and their batch norms use running statistics even in training. */
void nn_net_set_frozen(nn_net *net, int n);
int nn_net_frozen(const nn_net *net);
/* Folds every `bn` into the conv/dwconv before it and fuses the following
 * ReLU, for fast inference. The net can no longer train or be saved after
 * this (those calls then fail). Returns 0 or <0. */
int nn_net_fold_batchnorm(nn_net *net, char *err, size_t errlen);

/* Softmax temperature applied to logits by nn_net_forward (default 1). */
void nn_net_set_temperature(nn_net *net, float t);
float nn_net_temperature(const nn_net *net);

/* ---- forward ------------------------------------------------------------
 * x: [n, C, H, W] (n <= max_batch). probs: [n, classes], softmax of
 * logits / temperature. Returns 0 or <0 (n out of range). Not thread-safe
 * per net: one net, one thread at a time. */
int nn_net_forward(nn_net *net, const float *x, int n, float *probs);
/* Logits of the last forward or training batch, [n, classes]; borrowed. */
const float *nn_net_logits(const nn_net *net);

/* ---- training ------------------------------------------------------------ */
typedef struct {
  const float *class_weights; /* [classes] per-class loss weights, or NULL */
  float label_smoothing;      /* 0 (none) .. <1 */
  /* Distillation: probabilities of another model (a teacher) for the same
   * batch, [n, classes], or NULL; each target becomes
   * (1 - teacher_weight) * smoothed one-hot + teacher_weight * teacher. */
  const float *teacher;
  float teacher_weight;       /* 0 .. 1 */
} nn_loss_opts;

/* One training batch: forward in training mode, softmax cross-entropy
 * (weighted mean over the batch: sum w_y * loss / sum w_y), backward.
 * Gradients are overwritten, not accumulated across calls. labels: [n] in
 * [0, classes). probs_out: [n, classes] (temperature 1) or NULL.
 * Returns the mean loss, or a negative value on bad arguments. */
float nn_net_train_batch(nn_net *net, const float *x, const int *labels, int n,
                         const nn_loss_opts *loss, float *probs_out);

/* Training steps compute the gradient of the loss with respect to the input
 * only when asked (default off): without it, backward stops at the lowest
 * layer with trainable parameters (the first layer after nn_net_set_frozen's
 * count), whose input gradient it skips too. */
void nn_net_want_input_grad(nn_net *net, int on);

/* Gradient of the loss with respect to the input of the last training batch,
 * [n, C, H, W]; borrowed. NULL unless nn_net_want_input_grad was on for that
 * batch. Used by gradient checks. */
const float *nn_net_input_grad(const nn_net *net);

/* ---- tensors: parameters and persistent state ---------------------------- */
typedef struct {
  const char *name; /* stable: "<layer>.<kind>.<what>", e.g. "3.conv.weight" */
  int layer;        /* 0-based layer index (arch lines after `input`) */
  int ndim;
  int dims[4];      /* conv: [OUT,C,K,K]; dwconv: [C,1,K,K]; dense: [N,IN];
                       bias, bn gamma/beta/mean/var: [C] */
  size_t count;     /* product of dims */
  float *data;      /* borrowed from the net */
  float *grad;      /* borrowed; NULL for non-trainable (bn running stats) */
} nn_tensor;
int nn_net_num_tensors(const nn_net *net);
nn_tensor nn_net_tensor(const nn_net *net, int i); /* 0 <= i < num_tensors */
/* Copies every tensor of src whose name and shape match one of dst; returns
 * how many were copied. Used for --init (transfer learning). */
int nn_net_copy_matching(nn_net *dst, const nn_net *src);

/* ---- AdamW --------------------------------------------------------------- */
typedef struct {
  float lr;           /* learning rate of this step */
  float beta1, beta2; /* 0.9, 0.999 */
  float eps;          /* 1e-8 */
  float weight_decay; /* decoupled; applied to conv/dense weights only */
  float clip_norm;    /* clip the global gradient L2 norm to this; 0 = off */
} nn_adamw_opts;
void nn_adamw_defaults(nn_adamw_opts *opts); /* lr 1e-3, wd 1e-4, clip 5 */

typedef struct nn_adamw nn_adamw;
/* Optimizer state (m, v) for every trainable tensor of net; owned by caller. */
int nn_adamw_create(nn_adamw **out, const nn_net *net, char *err, size_t errlen);
void nn_adamw_destroy(nn_adamw *opt);
/* One update of every trainable tensor of non-frozen layers from the net's
 * current gradients. Returns the global gradient norm before clipping. */
float nn_adamw_step(nn_adamw *opt, nn_net *net, const nn_adamw_opts *opts);
int64_t nn_adamw_steps(const nn_adamw *opt);
void nn_adamw_set_steps(nn_adamw *opt, int64_t steps);
/* First and second moments for tensor i of the net (same indexing as
 * nn_net_tensor); NULL for non-trainable tensors. Borrowed. */
float *nn_adamw_m(nn_adamw *opt, int i);
float *nn_adamw_v(nn_adamw *opt, int i);

/* Learning rate at `step` of `total`: linear warmup over `warmup` steps from
 * 0 to base, then cosine decay to base * min_ratio. */
float nn_lr_warmup_cosine(float base, int64_t step, int64_t warmup, int64_t total, float min_ratio);

/* ---- benchmark -----------------------------------------------------------
 * Speed of an architecture on random data with the current nn_set_threads()
 * setting. nn_bench builds its own nets from arch_text (num_classes fills
 * `dense classes`) and measures, keeping the median of `repeats` (>= 1) runs:
 *  - infer_b1_ms: one forward of 1 image with batch norm folded (the live
 *    path), in milliseconds (median over 20 x repeats single forwards);
 *  - infer_b256_images_per_s: one forward of 256 images, unfolded;
 *  - train_b64_images_per_s: nn_net_train_batch + nn_adamw_step of 64.
 * Takes about repeats x 1.5 s for vgg.arch on 2 cores. Returns 0 or <0 with
 * err filled (bad arch text, no memory). */
typedef struct {
  double infer_b1_ms;
  double infer_b256_images_per_s;
  double train_b64_images_per_s;
} nn_bench_result;
int nn_bench(const char *arch_text, const char *source_name, int num_classes, int repeats,
             nn_bench_result *out, char *err, size_t errlen);

/* ---- model files (.emo) --------------------------------------------------
 * A model is a network plus what a user needs to run it: class names, the
 * preprocessing its inputs had, a temperature and whether to average the
 * prediction with a horizontally flipped input. A checkpoint is a model file
 * that also carries the optimizer state and a training-state text. */
typedef struct {
  nn_net *net;          /* owned */
  int num_classes;
  char **class_names;   /* owned, [num_classes], NUL-terminated strings */
  char *preprocess;     /* owned, e.g. "colour=grey crop=center crop_scale=1 resize=area range=0,1" */
  int flip_tta;         /* 1: average with the mirrored input at inference */
  char *train_state;    /* owned; "key=value\n" lines; NULL for plain models */
} nn_model;

/* Writes model (and, if opt is non-NULL, the optimizer state) to path via a
 * temporary file in the same folder and rename(), so a crash never leaves a
 * truncated file. Returns 0 or <0 with err filled. */
int nn_model_save(const char *path, const nn_model *model, const nn_adamw *opt,
                  char *err, size_t errlen);
/* Loads a model; the net gets buffers for max_batch samples. When opt_out is
 * non-NULL and the file holds optimizer state, *opt_out receives it (else
 * NULL). Every length, count and shape is checked before use; a wrong magic,
 * unknown version, truncation or CRC mismatch is an error naming path.
 * On failure *model is left empty (safe to nn_model_free). */
int nn_model_load(const char *path, nn_model *model, int max_batch, nn_adamw **opt_out,
                  char *err, size_t errlen);
/* Same from memory (for the fuzzer); `name` is used in messages. */
int nn_model_load_buffer(const void *data, size_t size, const char *name, nn_model *model,
                         int max_batch, nn_adamw **opt_out, char *err, size_t errlen);
void nn_model_free(nn_model *model); /* frees members, zeroes *model; NULL ok */

/* Writes size bytes to path as nn_model_save does: a temporary file in the
 * same folder, fsync, rename. Returns 0 or <0 with err naming path. */
int nn_write_file_atomic(const char *path, const void *data, size_t size, char *err,
                         size_t errlen);

/* CRC-32 (IEEE 802.3, as zlib's crc32), continuing from crc (start with 0). */
uint32_t nn_crc32(uint32_t crc, const void *data, size_t size);

#endif
