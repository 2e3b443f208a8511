/* finish: what a session writes besides the model: the per-epoch CSV log
 * and the learning curves beside it, and the softmax temperature fitted on
 * the validation set. */
#include <stdlib.h>
#include <string.h>

#include "common/atomic_file.h"
#include "common/json_out.h"
#include "reports/metrics.h"
#include "reports/report.h"
#include "training/session_internal.h"

/* Writes the per-epoch CSV log and the learning-curve PNG beside the model. */
void session_write_logs(train_session *s) {
  const train_config *cfg = &s->st.cfg;
  char base[1100], path[1200], err[NN_ERR_LEN];
  snprintf(base, sizeof base, "%s", cfg->out_path);
  char *dot = strrchr(base, '.');
  if (dot && strcmp(dot, ".emo") == 0) *dot = '\0';
  snprintf(path, sizeof path, "%s.log.csv", base);
  atomic_file f;
  if (atomic_file_open(&f, path, err, sizeof err) != 0) {
    session_warn(s, "%s", err);
    return;
  }
  fprintf(f.f, "epoch,lr,train_loss,train_acc,val_loss,val_acc,val_macro_f1,seconds\n");
  for (int i = 0; i < s->st.num_records; i++) {
    const epoch_record *e = &s->st.records[i];
    fprintf(f.f, "%d,%.6g,%.5f,%.5f,%.5f,%.5f,%.5f,%.1f\n", e->epoch, e->lr, e->train_loss,
            e->train_acc, e->val_loss, e->val_acc, e->val_macro_f1, e->seconds);
  }
  if (atomic_file_close(&f, 1, err, sizeof err) != 0) session_warn(s, "%s", err);

  int n = s->st.num_records;
  float *series = malloc(sizeof(float) * 4 * (n ? n : 1));
  if (!series) return;
  for (int i = 0; i < n; i++) {
    series[i] = s->st.records[i].train_loss;
    series[n + i] = s->st.records[i].val_loss;
    series[2 * n + i] = s->st.records[i].train_acc;
    series[3 * n + i] = s->st.records[i].val_acc;
  }
  char note[160] = "";
  if (isfinite(s->swa_val_acc))
    snprintf(note, sizeof note, "the mean of epochs %d-%d (--swa): %.1f%%, %s",
             s->st.next_epoch - s->st.swa_count + 1, s->st.next_epoch, 100 * s->swa_val_acc,
             s->swa_kept ? "kept" : "not kept");
  snprintf(path, sizeof path, "%s.curves.png", base);
  if (report_curves_png(path, n, series, series + n, series + 2 * n, series + 3 * n,
                        note[0] ? note : NULL, err, sizeof err) != 0)
    session_warn(s, "%s", err);
  free(series);
}

/* Mean negative log-likelihood of the validation logits at temperature t. */
static double val_nll(const train_session *s, double t) {
  const int K = s->model.num_classes;
  double total = 0;
  for (int i = 0; i < s->val_n; i++) {
    const float *z = s->val_logits + (size_t)i * K;
    double mx = z[0];
    for (int k = 1; k < K; k++) mx = fmax(mx, z[k]);
    double sum = 0;
    for (int k = 0; k < K; k++) sum += exp((z[k] - mx) / t);
    total += log(sum) - (z[s->val_y[i]] - mx) / t;
  }
  return total / s->val_n;
}

/* When the validation ECE is above 0.05, fits the softmax temperature on the
 * validation set (golden-section search of the NLL over log t), so the bars'
 * probabilities mean what they say, and keeps it if it lowers the ECE. */
void session_calibrate(train_session *s) {
  if (s->val_n == 0) return;
  epoch_record rec;
  if (session_validate(s, &rec) != 0) return;
  const int K = s->model.num_classes;
  metrics_report before, after;
  if (metrics_compute(&before, K, s->val_n, s->val_y, s->val_probs) != METRICS_OK) return;
  if (before.ece <= 0.05) {
    session_say(s, "calibration: val ECE %.4f <= 0.05, temperature stays 1", before.ece);
    metrics_free(&before);
    return;
  }
  double a = log(0.25), b = log(8.0);
  const double g = (sqrt(5.0) - 1) / 2;
  for (int it = 0; it < 60; it++) {
    double c = b - g * (b - a), d = a + g * (b - a);
    if (val_nll(s, exp(c)) < val_nll(s, exp(d))) b = d;
    else a = c;
  }
  const float t = (float)exp((a + b) / 2);
  nn_net_set_temperature(s->model.net, t);
  if (session_validate(s, &rec) == 0 &&
      metrics_compute(&after, K, s->val_n, s->val_y, s->val_probs) == METRICS_OK) {
    if (after.ece >= before.ece) nn_net_set_temperature(s->model.net, 1.0f);
    session_say(s, "calibration: fitted temperature %.3f, val ECE %.4f -> %.4f, %s", t, before.ece,
                after.ece, after.ece < before.ece ? "kept" : "not kept");
    metrics_free(&after);
  } else {
    nn_net_set_temperature(s->model.net, 1.0f);
  }
  metrics_free(&before);
}

