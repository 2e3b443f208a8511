/* metrics: from true labels and predicted probabilities to the numbers of an
 * evaluation report. Definitions follow scikit-learn (classification_report
 * with zero_division=0, balanced_accuracy_score) and Guo et al. 2017 for the
 * expected calibration error, so results can be cross-checked with Python.
 */
#include "reports/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/atomic_file.h"
#include "common/json_out.h"

static double ratio(double num, double den) { return den > 0 ? num / den : 0.0; }

/* Bin of a top-label confidence: [b/15, (b+1)/15), with 1.0 (and anything
 * rounding above) in the last bin. */
static int confidence_bin(double conf) {
  int b = (int)floor(conf * METRICS_ECE_BINS);
  if (b < 0)
    b = 0;
  if (b >= METRICS_ECE_BINS)
    b = METRICS_ECE_BINS - 1;
  return b;
}

void metrics_free(metrics_report *r) {
  if (!r)
    return;
  free(r->confusion);
  free(r->support);
  free(r->predicted);
  free(r->precision);
  free(r->recall);
  free(r->f1);
  free(r->pred);
  free(r->confidence);
  memset(r, 0, sizeof *r);
}

const char *metrics_strerror(int code) {
  switch (code) {
  case METRICS_OK:
    return "success";
  case METRICS_EARG:
    return "invalid arguments (classes < 1, negative count or missing arrays)";
  case METRICS_ELABEL:
    return "a true label is outside [0, classes)";
  case METRICS_ENONFINITE:
    return "a predicted probability is NaN or infinite";
  case METRICS_ENOMEM:
    return "out of memory";
  default:
    return "unknown metrics error";
  }
}

static int alloc_arrays(metrics_report *r, int k, int n) {
  size_t kk = (size_t)k * (size_t)k;
  size_t nn = n > 0 ? (size_t)n : 1;
  r->confusion = calloc(kk, sizeof *r->confusion);
  r->support = calloc((size_t)k, sizeof *r->support);
  r->predicted = calloc((size_t)k, sizeof *r->predicted);
  r->precision = calloc((size_t)k, sizeof *r->precision);
  r->recall = calloc((size_t)k, sizeof *r->recall);
  r->f1 = calloc((size_t)k, sizeof *r->f1);
  r->pred = calloc(nn, sizeof *r->pred);
  r->confidence = calloc(nn, sizeof *r->confidence);
  return r->confusion && r->support && r->predicted && r->precision && r->recall && r->f1 &&
                 r->pred && r->confidence
             ? 0
             : -1;
}

int metrics_compute(metrics_report *r, int num_classes, int n, const int *truth,
                    const float *probs) {
  memset(r, 0, sizeof *r);
  if (num_classes < 1 || n < 0 || (n > 0 && (!truth || !probs)))
    return METRICS_EARG;
  const int k = num_classes;
  /* Validate before allocating so a bad input leaves r empty. */
  for (int i = 0; i < n; i++) {
    if (truth[i] < 0 || truth[i] >= k)
      return METRICS_ELABEL;
    for (int j = 0; j < k; j++)
      if (!isfinite(probs[(size_t)i * k + j]))
        return METRICS_ENONFINITE;
  }
  if (alloc_arrays(r, k, n) != 0) {
    metrics_free(r);
    return METRICS_ENOMEM;
  }
  r->num_classes = k;
  r->n = n;

  double bin_conf_sum[METRICS_ECE_BINS] = {0};
  int bin_correct[METRICS_ECE_BINS] = {0};
  double conf_sum = 0;
  int correct = 0;
  for (int i = 0; i < n; i++) {
    const float *p = probs + (size_t)i * k;
    int best = 0; /* strict > keeps the lowest index on ties */
    for (int j = 1; j < k; j++)
      if (p[j] > p[best])
        best = j;
    r->pred[i] = best;
    r->confidence[i] = p[best];
    r->confusion[truth[i] * k + best]++;
    int ok = best == truth[i];
    correct += ok;
    conf_sum += p[best];
    int b = confidence_bin(p[best]);
    r->bin_count[b]++;
    bin_conf_sum[b] += p[best];
    bin_correct[b] += ok;
  }

  for (int t = 0; t < k; t++)
    for (int p = 0; p < k; p++) {
      r->support[t] += r->confusion[t * k + p];
      r->predicted[p] += r->confusion[t * k + p];
    }

  int present = 0;
  double recall_sum_present = 0;
  for (int c = 0; c < k; c++) {
    double tp = r->confusion[c * k + c];
    double fp = r->predicted[c] - tp;
    double fn = r->support[c] - tp;
    r->precision[c] = ratio(tp, tp + fp);
    r->recall[c] = ratio(tp, tp + fn);
    /* F1 = 2PR/(P+R) = 2tp/(2tp+fp+fn); the count form needs no special case
     * when P or R is 0/0 (scikit-learn >= 1.3 computes it this way). */
    r->f1[c] = ratio(2 * tp, 2 * tp + fp + fn);
    r->macro_precision += r->precision[c] / k;
    r->macro_recall += r->recall[c] / k;
    r->macro_f1 += r->f1[c] / k;
    double w = ratio(r->support[c], n);
    r->weighted_precision += w * r->precision[c];
    r->weighted_recall += w * r->recall[c];
    r->weighted_f1 += w * r->f1[c];
    if (r->support[c] > 0) {
      present++;
      recall_sum_present += r->recall[c];
    }
  }
  r->accuracy = ratio(correct, n);
  r->balanced_accuracy = ratio(recall_sum_present, present);
  r->mean_confidence = ratio(conf_sum, n);

  for (int b = 0; b < METRICS_ECE_BINS; b++) {
    r->bin_confidence[b] = ratio(bin_conf_sum[b], r->bin_count[b]);
    r->bin_accuracy[b] = ratio(bin_correct[b], r->bin_count[b]);
    r->ece += ratio(r->bin_count[b], n) * fabs(r->bin_accuracy[b] - r->bin_confidence[b]);
  }
  return METRICS_OK;
}

/* ---- text report --------------------------------------------------------- */

const char *metrics_class_name(const char *const *names, int c, char *buf, size_t len) {
  if (names && names[c])
    return names[c];
  snprintf(buf, len, "class %d", c);
  return buf;
}

void metrics_print(FILE *out, const metrics_report *r, const char *const *class_names) {
  const int k = r->num_classes;
  char buf[32];
  /* Name column as wide as the longest label, like scikit-learn. */
  int width = (int)strlen("balanced accuracy");
  for (int c = 0; c < k; c++) {
    int len = (int)strlen(metrics_class_name(class_names, c, buf, sizeof buf));
    if (len > width)
      width = len;
  }
  fprintf(out, "%*s  %9s %9s %9s %9s\n\n", width, "", "precision", "recall", "f1-score", "support");
  for (int c = 0; c < k; c++)
    fprintf(out, "%*s  %9.4f %9.4f %9.4f %9d\n", width, metrics_class_name(class_names, c, buf, sizeof buf),
            r->precision[c], r->recall[c], r->f1[c], r->support[c]);
  fputc('\n', out);
  fprintf(out, "%*s  %9s %9s %9.4f %9d\n", width, "accuracy", "", "", r->accuracy, r->n);
  fprintf(out, "%*s  %9s %9s %9.4f %9d\n", width, "balanced accuracy", "", "", r->balanced_accuracy,
          r->n);
  fprintf(out, "%*s  %9.4f %9.4f %9.4f %9d\n", width, "macro avg", r->macro_precision,
          r->macro_recall, r->macro_f1, r->n);
  fprintf(out, "%*s  %9.4f %9.4f %9.4f %9d\n", width, "weighted avg", r->weighted_precision,
          r->weighted_recall, r->weighted_f1, r->n);
  fprintf(out, "%*s  %9s %9s %9.4f %9d\n", width, "ECE (15 bins)", "", "", r->ece, r->n);

  /* Confusion tables: columns as wide as the widest of name and number. */
  int cw = 6;
  for (int c = 0; c < k; c++) {
    int len = (int)strlen(metrics_class_name(class_names, c, buf, sizeof buf));
    if (len > cw)
      cw = len;
  }
  int maxcount = 0;
  for (int i = 0; i < k * k; i++)
    if (r->confusion[i] > maxcount)
      maxcount = r->confusion[i];
  int digits = snprintf(buf, sizeof buf, "%d", maxcount);
  if (digits > cw)
    cw = digits;
  int rw = (int)strlen("true \\ predicted");
  for (int c = 0; c < k; c++) {
    int len = (int)strlen(metrics_class_name(class_names, c, buf, sizeof buf));
    if (len > rw)
      rw = len;
  }
  for (int table = 0; table < 2; table++) {
    fprintf(out, "\nconfusion matrix (%s; rows: true class, columns: predicted class)\n",
            table == 0 ? "counts" : "% of each true class");
    fprintf(out, "%-*s", rw, "true \\ predicted");
    for (int c = 0; c < k; c++)
      fprintf(out, "  %*s", cw, metrics_class_name(class_names, c, buf, sizeof buf));
    fputc('\n', out);
    for (int t = 0; t < k; t++) {
      fprintf(out, "%-*s", rw, metrics_class_name(class_names, t, buf, sizeof buf));
      for (int p = 0; p < k; p++) {
        int v = r->confusion[t * k + p];
        if (table == 0)
          fprintf(out, "  %*d", cw, v);
        else
          fprintf(out, "  %*.1f", cw, 100.0 * ratio(v, r->support[t]));
      }
      fputc('\n', out);
    }
  }
}

/* ---- JSON ---------------------------------------------------------------- */

int metrics_write_json(const char *path, const metrics_report *r, const char *const *class_names,
                       char *err, size_t errlen) {
  atomic_file jf;
  if (atomic_file_open(&jf, path, err, errlen) != 0)
    return -1;
  const int k = r->num_classes;
  char buf[32];
  json_out j;
  json_out_init(&j, jf.f);
  json_begin_object(&j, 0);
  json_key(&j, "accuracy");
  json_number(&j, r->accuracy);
  json_key(&j, "balanced_accuracy");
  json_number(&j, r->balanced_accuracy);
  json_key(&j, "macro_f1");
  json_number(&j, r->macro_f1);
  json_key(&j, "weighted_f1");
  json_number(&j, r->weighted_f1);
  json_key(&j, "ece");
  json_number(&j, r->ece);
  json_key(&j, "classes");
  json_begin_array(&j, 1);
  for (int c = 0; c < k; c++)
    json_string(&j, metrics_class_name(class_names, c, buf, sizeof buf));
  json_end_array(&j);
  json_key(&j, "per_class");
  json_begin_object(&j, 0);
  for (int c = 0; c < k; c++) {
    json_key(&j, metrics_class_name(class_names, c, buf, sizeof buf));
    json_begin_object(&j, 1);
    json_key(&j, "precision");
    json_number(&j, r->precision[c]);
    json_key(&j, "recall");
    json_number(&j, r->recall[c]);
    json_key(&j, "f1");
    json_number(&j, r->f1[c]);
    json_key(&j, "support");
    json_int(&j, r->support[c]);
    json_end_object(&j);
  }
  json_end_object(&j);
  json_key(&j, "confusion");
  json_begin_array(&j, 0);
  for (int t = 0; t < k; t++) {
    json_begin_array(&j, 1);
    for (int p = 0; p < k; p++)
      json_int(&j, r->confusion[t * k + p]);
    json_end_array(&j);
  }
  json_end_array(&j);
  json_key(&j, "images");
  json_int(&j, r->n);
  json_end_object(&j);
  return atomic_file_close(&jf, json_out_status(&j) == 0, err, errlen);
}
