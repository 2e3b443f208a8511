/* metrics: classification metrics of an evaluation run (confusion matrix,
 * per-class precision/recall/F1, accuracy, balanced accuracy, macro and
 * weighted averages, expected calibration error with its reliability bins),
 * a scikit-learn-style text report, and a JSON summary.
 */
#ifndef APP_METRICS_H
#define APP_METRICS_H

#include <stddef.h>
#include <stdio.h>

#define METRICS_ECE_BINS 15

/* Return codes of metrics_compute. */
enum {
  METRICS_OK = 0,
  METRICS_EARG = -1,       /* num_classes < 1, n < 0, or a NULL array with n > 0 */
  METRICS_ELABEL = -2,     /* a truth label outside [0, num_classes) */
  METRICS_ENONFINITE = -3, /* a probability is NaN or infinite */
  METRICS_ENOMEM = -4
};

/* Everything is filled by metrics_compute; arrays are owned by the report and
 * released by metrics_free. All ratios whose denominator is 0 are 0
 * (scikit-learn's zero_division=0). */
typedef struct {
  int num_classes;                 /* K */
  int n;                           /* samples */
  int *confusion;                  /* [K, K]: confusion[t * K + p] = samples of true class t
                                      predicted as p */
  int *support;                    /* [K] samples whose true class is k (row sums) */
  int *predicted;                  /* [K] samples predicted as k (column sums) */
  double *precision, *recall, *f1; /* [K] */
  double accuracy;                 /* correct / n */
  double balanced_accuracy;        /* mean recall over classes with support > 0 */
  double macro_precision, macro_recall, macro_f1;          /* mean over all K */
  double weighted_precision, weighted_recall, weighted_f1; /* weighted by support */
  /* Calibration: bin b holds samples whose top-label confidence is in
   * [b/15, (b+1)/15) (the last bin also holds 1.0).
   * ECE = sum_b |B_b|/n * |acc(B_b) - conf(B_b)|. */
  double ece;
  double mean_confidence; /* over all samples */
  int bin_count[METRICS_ECE_BINS];
  double bin_confidence[METRICS_ECE_BINS]; /* mean confidence in the bin, 0 if empty */
  double bin_accuracy[METRICS_ECE_BINS];   /* fraction correct in the bin, 0 if empty */
  int *pred;                               /* [n] predicted class: argmax, lowest index wins ties */
  float *confidence;                       /* [n] top-label probability probs[i, pred[i]] */
} metrics_report;

/* Computes every metric of r from truth [n] (labels in [0, num_classes)) and
 * probs [n, num_classes] (each row a probability vector, e.g. softmax output;
 * rows are used as given, not renormalised). n may be 0 (all ratios 0).
 * r is overwritten (not freed first): call metrics_free before reusing it.
 * Returns METRICS_OK, or a negative METRICS_E* code with r left empty
 * (safe to pass to metrics_free). Thread-safe (touches only r). */
int metrics_compute(metrics_report *r, int num_classes, int n, const int *truth,
                    const float *probs);

/* A short English description of a metrics_compute return code. */
const char *metrics_strerror(int code);

/* Releases the arrays of r and zeroes it. Accepts a zeroed report. */
void metrics_free(metrics_report *r);

/* Prints the classification report laid out like scikit-learn's
 * (precision, recall, f1-score, support per class; then accuracy, balanced
 * accuracy, macro avg, weighted avg and ECE), then the confusion matrix as
 * counts and as row-normalised percentages, as aligned tables.
 * class_names: [K] or NULL (then "class 0", "class 1", ...). */
void metrics_print(FILE *out, const metrics_report *r, const char *const *class_names);

/* Writes the JSON summary
 *   {"accuracy", "balanced_accuracy", "macro_f1", "weighted_f1", "ece",
 *    "classes": [names], "per_class": {name: {"precision", "recall", "f1",
 *    "support"}}, "confusion": [[row of true class 0], ...], "images": n}
 * to path atomically (temporary file in the same folder, then rename); path
 * "-" writes to stdout. class_names as for metrics_print.
 * Returns 0, or -1 with err filled. */
int metrics_write_json(const char *path, const metrics_report *r, const char *const *class_names,
                       char *err, size_t errlen);

/* names[c], or "class C" in buf when there are no names. */
const char *metrics_class_name(const char *const *names, int c, char *buf, size_t len);

#endif
