/* test_metrics: metrics_compute against numbers worked out by hand, the
 * zero-division edge cases, input validation, the text report and the JSON
 * file (content and atomic replacement).
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "reports/metrics.h"

/* Hand-worked example: 3 classes (A, B, C), 10 samples.
 *   #  true  probs (A, B, C)      pred  conf  ok  ECE bin floor(conf*15)
 *   1  A     .70 .20 .10          A     .70   y   10
 *   2  A     .50 .30 .20          A     .50   y    7
 *   3  A     .25 .65 .10          B     .65   n    9
 *   4  B     .10 .85 .05          B     .85   y   12
 *   5  B     .05 .90 .05          B     .90   y   13
 *   6  B     .45 .45 .10          A     .45   n    6   (tie: lowest index wins)
 *   7  B     .30 .25 .45          C     .45   n    6
 *   8  C     .05 .05 .90          C     .90   y   13
 *   9  C     .10 .35 .55          C     .55   y    8
 *  10  C     .95 .03 .02          A     .95   n   14
 * Confusion (rows true, cols predicted): A [2 1 0], B [1 2 1], C [1 0 2].
 * support A3 B4 C3; predicted A4 B3 C3; correct 6 -> accuracy 0.6.
 * precision A 2/4 = .5, B 2/3, C 2/3; recall A 2/3, B 2/4 = .5, C 2/3.
 * F1 = 2tp/(2tp+fp+fn): A 4/(4+2+1) = 4/7, B 4/(4+1+2) = 4/7, C 4/(4+1+1) = 2/3.
 * macro P = (.5+2/3+2/3)/3 = 11/18; macro R = 11/18; macro F1 = (8/7+2/3)/3 = 38/63.
 * weighted P = .3*.5 + .4*2/3 + .3*2/3 = 37/60; weighted R = .2+.2+.2 = .6;
 * weighted F1 = .3*4/7 + .4*4/7 + .3*2/3 = .4 + .2 = .6.
 * balanced accuracy = mean recall (all classes present) = 11/18.
 * ECE: bin 6: 2 samples, acc 0, conf .45 -> .2*.45 = .090
 *      bin 7: acc 1, conf .50 -> .1*.50 = .050;  bin 8: acc 1, conf .55 -> .045
 *      bin 9: acc 0, conf .65 -> .065;           bin 10: acc 1, conf .70 -> .030
 *      bin 12: acc 1, conf .85 -> .015;          bin 13: 2 samples, acc 1, conf .90 -> .2*.1 = .020
 *      bin 14: acc 0, conf .95 -> .095;          total ECE = .41
 * mean confidence = 6.9 / 10 = .69.
 */
static const int ex_truth[10] = {0, 0, 0, 1, 1, 1, 1, 2, 2, 2};
static const float ex_probs[10 * 3] = {
    .70f, .20f, .10f, .50f, .30f, .20f, .25f, .65f, .10f, .10f, .85f, .05f, .05f, .90f, .05f,
    .45f, .45f, .10f, .30f, .25f, .45f, .05f, .05f, .90f, .10f, .35f, .55f, .95f, .03f, .02f,
};

static void test_hand_example(void) {
  metrics_report r;
  CHECK(metrics_compute(&r, 3, 10, ex_truth, ex_probs) == METRICS_OK);
  const int confusion[9] = {2, 1, 0, 1, 2, 1, 1, 0, 2};
  for (int i = 0; i < 9; i++)
    CHECK(r.confusion[i] == confusion[i]);
  const int pred[10] = {0, 0, 1, 1, 1, 0, 2, 2, 2, 0};
  for (int i = 0; i < 10; i++) {
    CHECK(r.pred[i] == pred[i]);
    CHECK_NEAR(r.confidence[i], ex_probs[i * 3 + pred[i]], 1e-6);
  }
  CHECK(r.support[0] == 3 && r.support[1] == 4 && r.support[2] == 3);
  CHECK(r.predicted[0] == 4 && r.predicted[1] == 3 && r.predicted[2] == 3);
  CHECK_NEAR(r.precision[0], 0.5, 1e-6);
  CHECK_NEAR(r.precision[1], 2.0 / 3, 1e-6);
  CHECK_NEAR(r.precision[2], 2.0 / 3, 1e-6);
  CHECK_NEAR(r.recall[0], 2.0 / 3, 1e-6);
  CHECK_NEAR(r.recall[1], 0.5, 1e-6);
  CHECK_NEAR(r.recall[2], 2.0 / 3, 1e-6);
  CHECK_NEAR(r.f1[0], 4.0 / 7, 1e-6);
  CHECK_NEAR(r.f1[1], 4.0 / 7, 1e-6);
  CHECK_NEAR(r.f1[2], 2.0 / 3, 1e-6);
  CHECK_NEAR(r.accuracy, 0.6, 1e-6);
  CHECK_NEAR(r.balanced_accuracy, 11.0 / 18, 1e-6);
  CHECK_NEAR(r.macro_precision, 11.0 / 18, 1e-6);
  CHECK_NEAR(r.macro_recall, 11.0 / 18, 1e-6);
  CHECK_NEAR(r.macro_f1, 38.0 / 63, 1e-6);
  CHECK_NEAR(r.weighted_precision, 37.0 / 60, 1e-6);
  CHECK_NEAR(r.weighted_recall, 0.6, 1e-6);
  CHECK_NEAR(r.weighted_f1, 0.6, 1e-6);
  CHECK_NEAR(r.ece, 0.41, 1e-6);
  CHECK_NEAR(r.mean_confidence, 0.69, 1e-6);
  const int bin_count[15] = {0, 0, 0, 0, 0, 0, 2, 1, 1, 1, 1, 0, 1, 2, 1};
  const double bin_acc[15] = {0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 0, 1, 1, 0};
  const double bin_conf[15] = {0, 0, 0, 0, 0, 0, .45, .50, .55, .65, .70, 0, .85, .90, .95};
  for (int b = 0; b < 15; b++) {
    CHECK(r.bin_count[b] == bin_count[b]);
    CHECK_NEAR(r.bin_accuracy[b], bin_acc[b], 1e-6);
    CHECK_NEAR(r.bin_confidence[b], bin_conf[b], 1e-6);
  }
  metrics_free(&r);
  CHECK(r.confusion == NULL && r.n == 0);
  metrics_free(&r); /* a freed (zeroed) report may be freed again */
}

/* 4 classes, one-hot predictions: class 2 is never predicted, class 3 has no
 * samples and is never predicted.
 *   truth 0 0 1 2 2, pred 0 1 1 0 1
 * Confusion: [1 1 0 0] [0 1 0 0] [1 1 0 0] [0 0 0 0]; support 2 1 2 0;
 * predicted 2 3 0 0.
 * precision .5, 1/3, 0 (0/0), 0 (0/0); recall .5, 1, 0, 0 (0/0);
 * F1 2/4 = .5, 2/4 = .5, 0/2 = 0, 0/0 = 0.
 * accuracy 2/5 = .4; balanced accuracy over classes 0..2 = (.5+1+0)/3 = .5.
 * macro (over all 4): P (.5+1/3)/4 = 5/24, R 1.5/4 = .375, F1 1/4 = .25.
 * weighted: P .4*.5 + .2/3 = 4/15, R .4*.5 + .2*1 = .4, F1 .4*.5 + .2*.5 = .3.
 * Every confidence is 1.0 (last bin): ECE = |.4 - 1| = .6. */
static void test_zero_division(void) {
  const int truth[5] = {0, 0, 1, 2, 2};
  const int pred[5] = {0, 1, 1, 0, 1};
  float probs[5 * 4] = {0};
  for (int i = 0; i < 5; i++)
    probs[i * 4 + pred[i]] = 1.0f;
  metrics_report r;
  CHECK(metrics_compute(&r, 4, 5, truth, probs) == METRICS_OK);
  const int confusion[16] = {1, 1, 0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0};
  for (int i = 0; i < 16; i++)
    CHECK(r.confusion[i] == confusion[i]);
  CHECK(r.support[3] == 0 && r.predicted[2] == 0 && r.predicted[3] == 0);
  CHECK_NEAR(r.precision[0], 0.5, 1e-6);
  CHECK_NEAR(r.precision[1], 1.0 / 3, 1e-6);
  CHECK_NEAR(r.precision[2], 0, 1e-6);
  CHECK_NEAR(r.precision[3], 0, 1e-6);
  CHECK_NEAR(r.recall[0], 0.5, 1e-6);
  CHECK_NEAR(r.recall[1], 1, 1e-6);
  CHECK_NEAR(r.recall[2], 0, 1e-6);
  CHECK_NEAR(r.recall[3], 0, 1e-6);
  CHECK_NEAR(r.f1[0], 0.5, 1e-6);
  CHECK_NEAR(r.f1[1], 0.5, 1e-6);
  CHECK_NEAR(r.f1[2], 0, 1e-6);
  CHECK_NEAR(r.f1[3], 0, 1e-6);
  CHECK_NEAR(r.accuracy, 0.4, 1e-6);
  CHECK_NEAR(r.balanced_accuracy, 0.5, 1e-6);
  CHECK_NEAR(r.macro_precision, 5.0 / 24, 1e-6);
  CHECK_NEAR(r.macro_recall, 0.375, 1e-6);
  CHECK_NEAR(r.macro_f1, 0.25, 1e-6);
  CHECK_NEAR(r.weighted_precision, 4.0 / 15, 1e-6);
  CHECK_NEAR(r.weighted_recall, 0.4, 1e-6);
  CHECK_NEAR(r.weighted_f1, 0.3, 1e-6);
  CHECK(r.bin_count[14] == 5);
  CHECK_NEAR(r.bin_accuracy[14], 0.4, 1e-6);
  CHECK_NEAR(r.ece, 0.6, 1e-6);
  for (int b = 0; b < 14; b++)
    CHECK(r.bin_count[b] == 0);
  metrics_free(&r);
}

static void test_invalid_input(void) {
  metrics_report r;
  const int bad_truth[2] = {0, 3};
  const float probs[6] = {.2f, .3f, .5f, .6f, .3f, .1f};
  CHECK(metrics_compute(&r, 3, 2, bad_truth, probs) == METRICS_ELABEL);
  CHECK(r.confusion == NULL && r.pred == NULL);
  metrics_free(&r);
  const int neg_truth[2] = {-1, 0};
  CHECK(metrics_compute(&r, 3, 2, neg_truth, probs) == METRICS_ELABEL);
  const int truth[2] = {0, 1};
  float nan_probs[6] = {.2f, .3f, .5f, .6f, NAN, .1f};
  CHECK(metrics_compute(&r, 3, 2, truth, nan_probs) == METRICS_ENONFINITE);
  CHECK(metrics_compute(&r, 0, 2, truth, probs) == METRICS_EARG);
  CHECK(metrics_compute(&r, 3, -1, truth, probs) == METRICS_EARG);
  CHECK(metrics_compute(&r, 3, 2, NULL, probs) == METRICS_EARG);
  CHECK(strstr(metrics_strerror(METRICS_ELABEL), "label") != NULL);
  /* No samples: a valid, empty report with every ratio 0. */
  CHECK(metrics_compute(&r, 3, 0, NULL, NULL) == METRICS_OK);
  CHECK(r.n == 0 && r.accuracy == 0 && r.ece == 0 && r.macro_f1 == 0);
  CHECK(r.balanced_accuracy == 0 && r.confusion[0] == 0);
  metrics_free(&r);
}

static char *read_all(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  static char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = 0;
  fclose(f);
  return buf;
}

static void test_print(void) {
  metrics_report r;
  CHECK(metrics_compute(&r, 3, 10, ex_truth, ex_probs) == METRICS_OK);
  const char *names[3] = {"angry", "happy", "surprise"};
  char path[] = "/tmp/emocam_test_metrics_print_XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  FILE *f = fdopen(fd, "w");
  metrics_print(f, &r, names);
  fclose(f);
  const char *text = read_all(path);
  CHECK(text != NULL);
  if (text) {
    fputs(text, stdout);
    /* Name column is as wide as "balanced accuracy" (17), right-aligned. */
    CHECK(strstr(text, "            angry     0.5000    0.6667    0.5714         3\n"));
    CHECK(strstr(text, "            happy     0.6667    0.5000    0.5714         4\n"));
    CHECK(strstr(text, "         accuracy                         0.6000        10\n"));
    CHECK(strstr(text, "balanced accuracy                         0.6111        10\n"));
    CHECK(strstr(text, "        macro avg     0.6111    0.6111    0.6032        10\n"));
    CHECK(strstr(text, "     weighted avg     0.6167    0.6000    0.6000        10\n"));
    CHECK(strstr(text, "    ECE (15 bins)                         0.4100        10\n"));
    CHECK(strstr(text, "true \\ predicted     angry     happy  surprise\n"));
    CHECK(strstr(text, "happy                    1         2         1\n"));
    CHECK(strstr(text, "happy                 25.0      50.0      25.0\n"));
  }
  unlink(path);
  metrics_free(&r);
}

static int count_dir_entries(const char *dir) {
  DIR *d = opendir(dir);
  if (!d)
    return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
      n++;
  closedir(d);
  return n;
}

/* The number that follows the first occurrence of key in text, or NAN. */
static double number_after(const char *text, const char *key) {
  const char *p = strstr(text, key);
  if (!p)
    return NAN;
  char *end;
  double v = strtod(p + strlen(key), &end);
  return end == p + strlen(key) ? NAN : v;
}

static void test_json(void) {
  metrics_report r;
  CHECK(metrics_compute(&r, 3, 10, ex_truth, ex_probs) == METRICS_OK);
  /* A name with a quote, a backslash and a newline must come out escaped. */
  const char *names[3] = {"angry", "ha\"p\\py", "sur\nprise"};
  char dir[] = "/tmp/emocam_test_metrics_XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char path[256], err[512] = "";
  snprintf(path, sizeof path, "%s/metrics.json", dir);

  /* An older file at the path is replaced as a whole. */
  FILE *old = fopen(path, "w");
  CHECK(old != NULL);
  if (old) {
    fputs("old content that is longer than nothing", old);
    fclose(old);
  }
  CHECK(metrics_write_json(path, &r, names, err, sizeof err) == 0);
  CHECK(count_dir_entries(dir) == 1); /* no temporary file left behind */
  struct stat st;
  CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
  const char *text = read_all(path);
  CHECK(text != NULL);
  if (text) {
    fputs(text, stdout);
    CHECK(text[0] == '{' && !strstr(text, "old content"));
    CHECK(strstr(text, "\"accuracy\": 0.6,"));
    CHECK(strstr(text, "\"balanced_accuracy\": 0.6111111111,"));
    CHECK(strstr(text, "\"macro_f1\": 0.6031746032,"));
    CHECK(strstr(text, "\"weighted_f1\": 0.6,"));
    CHECK_NEAR(number_after(text, "\"ece\": "), 0.41, 1e-6);
    CHECK(strstr(text, "\"classes\": [\"angry\", \"ha\\\"p\\\\py\", \"sur\\nprise\"]"));
    CHECK(strstr(text, "\"angry\": {\"precision\": 0.5, \"recall\": 0.6666666667, "
                       "\"f1\": 0.5714285714, \"support\": 3}"));
    CHECK(strstr(text, "\"sur\\nprise\": {\"precision\": 0.6666666667"));
    CHECK(strstr(text, "\"confusion\": [\n    [2, 1, 0],\n    [1, 2, 1],\n    [1, 0, 2]\n  ]"));
    CHECK(strstr(text, "\"images\": 10\n}\n"));
    /* Balanced braces and brackets outside strings: a cheap structure check. */
    int depth = 0, in_string = 0, min_depth = 0;
    for (const char *p = text; *p; p++) {
      if (in_string) {
        if (*p == '\\')
          p++;
        else if (*p == '"')
          in_string = 0;
      } else if (*p == '"') {
        in_string = 1;
      } else if (*p == '{' || *p == '[') {
        depth++;
      } else if (*p == '}' || *p == ']') {
        depth--;
        if (depth < min_depth)
          min_depth = depth;
      }
    }
    CHECK(depth == 0 && min_depth == 0 && !in_string);
  }

  /* Renaming onto a directory fails: error reported, temp file removed. */
  char sub[300];
  snprintf(sub, sizeof sub, "%s/adir", dir);
  CHECK(mkdir(sub, 0755) == 0);
  err[0] = 0;
  CHECK(metrics_write_json(sub, &r, names, err, sizeof err) == -1);
  CHECK(strstr(err, "adir") != NULL);
  CHECK(count_dir_entries(dir) == 2); /* metrics.json and adir only */
  rmdir(sub);

  /* A folder that does not exist: error names the path. */
  char missing[300];
  snprintf(missing, sizeof missing, "%s/no/such/metrics.json", dir);
  err[0] = 0;
  CHECK(metrics_write_json(missing, &r, names, err, sizeof err) == -1);
  CHECK(strstr(err, "no/such/metrics.json") != NULL);
  printf("expected error: %s\n", err);

  unlink(path);
  CHECK(rmdir(dir) == 0);
  metrics_free(&r);
}

int main(void) {
  test_hand_example();
  test_zero_division();
  test_invalid_input();
  test_print();
  test_json();
  return check_finish("test_metrics");
}
