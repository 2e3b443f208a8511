/* model_file: the byte-level codec of `.emo` model files (layout documented
 * at the top of model_file.c). It knows lengths, counts, shapes and the CRC,
 * not networks: model.c matches a decoded file against an nn_net. Private to
 * nn/ (and its tests). */
#ifndef NN_MODEL_FILE_H
#define NN_MODEL_FILE_H

#include <stddef.h>
#include <stdint.h>

/* Limits, checked when encoding and, before any allocation, when decoding. */
#define NN_EMO_VERSION 1u
#define NN_EMO_MAX_FILE (1u << 30)        /* bytes */
#define NN_EMO_MAX_ARCH (64u * 1024u)     /* bytes of architecture text */
#define NN_EMO_MAX_NAME 256u              /* bytes of a class or tensor name */
#define NN_EMO_MAX_CLASSES 1000
#define NN_EMO_MAX_INPUT 4096             /* input H, W and C */
#define NN_EMO_MAX_PREPROCESS 4096u       /* bytes */
#define NN_EMO_MAX_TRAIN_STATE (1u << 20) /* bytes */
#define NN_EMO_MAX_TENSORS 4096
#define NN_EMO_MAX_NDIM 4

typedef struct {
  char *name;   /* NUL-terminated, 1..NN_EMO_MAX_NAME bytes */
  int ndim;     /* 1..NN_EMO_MAX_NDIM */
  int dims[4];  /* each >= 1; unused entries 0 */
  size_t count; /* product of dims */
  float *data;  /* [count] */
  float *m, *v; /* [count] AdamW moments, or both NULL (no optimizer state) */
} nn_emo_tensor;

/* The contents of a model file. For nn_emo_encode every pointer is borrowed
 * from the caller; nn_emo_decode fills one whose pointers it owns, released by
 * nn_emo_free. */
typedef struct {
  char *arch_text;    /* NUL-terminated */
  int num_classes;    /* 1..NN_EMO_MAX_CLASSES */
  char **class_names; /* [num_classes], each 1..NN_EMO_MAX_NAME bytes */
  int input_h, input_w, input_c;
  char *preprocess;  /* NUL-terminated, may be empty; NULL is written as "" */
  float temperature; /* finite, > 0 */
  int flip_tta;      /* 0 or 1 */
  char *train_state; /* NULL: none (an empty text is written, and read, as none) */
  int num_tensors;
  nn_emo_tensor *tensors; /* [num_tensors] */
  int has_opt;            /* 1: tensors carry m/v and opt_steps is valid */
  int64_t opt_steps;      /* >= 0 */
} nn_emo_file;

/* Serialises f into a new buffer *out of *out_size bytes (owned by the
 * caller, free()). Fails, with err filled, when a field breaks a limit (so no
 * file is written that the decoder would refuse) or memory runs out. */
int nn_emo_encode(const nn_emo_file *f, unsigned char **out, size_t *out_size, char *err,
                  size_t errlen);

/* Parses size bytes at data. `name` (a file name) starts every message.
 * Checks magic, version, declared size and CRC before anything else, then
 * every length, count and shape before allocating. On failure *f is left
 * empty. Thread-safe (no shared state). */
int nn_emo_decode(const void *data, size_t size, const char *name, nn_emo_file *f, char *err,
                  size_t errlen);

/* Frees what nn_emo_decode allocated and zeroes *f. NULL is fine. */
void nn_emo_free(nn_emo_file *f);

#endif
