/* test_dataset: loading a folder of class folders. Classes and files come in
 * sorted order; a file that is no image is skipped and counted; with the
 * model's classes given, a subset of folders loads with every class kept and
 * a folder outside them is an error naming both; without them, one class is
 * an error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "training/dataset.h"

static char tmp[] = "/tmp/emocam-dataset-XXXXXX";

static void copy_file(const char *from, const char *to) {
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "cp '%s' '%s'", from, to);
  CHECK(system(cmd) == 0, "%s", cmd);
}

static void make_dir(const char *sub) {
  char p[1024];
  snprintf(p, sizeof p, "%s/%s", tmp, sub);
  CHECK(mkdir(p, 0755) == 0, "mkdir %s", p);
}

int main(void) {
  if (!mkdtemp(tmp)) return 1;
  const char *faces = EMOCAM_FIXTURES "/faces";
  char err[1024], path[1024];
  dataset d;

  CHECK(dataset_load(&d, faces, 1, 48, 48, 1.0f, NULL, 0, err, sizeof err) == 0, "%s", err);
  CHECK(d.num_classes == 7 && strcmp(d.class_names[0], "angry") == 0 &&
            strcmp(d.class_names[6], "surprise") == 0 && d.n == 42 && d.skipped == 0,
        "fixtures: %d classes, %d images, %d skipped", d.num_classes, d.n, d.skipped);
  int sum = 0;
  for (int k = 0; k < d.num_classes; k++) sum += d.class_counts[k];
  CHECK(sum == d.n, "class counts sum to %d of %d", sum, d.n);
  for (int i = 1; i < d.n; i++)
    CHECK(d.labels[i - 1] < d.labels[i] ||
              (d.labels[i - 1] == d.labels[i] && strcmp(d.paths[i - 1], d.paths[i]) < 0),
          "sorted: %s before %s", d.paths[i - 1], d.paths[i]);
  float lo = 1, hi = 0;
  for (long i = 0; i < (long)d.n * 48 * 48; i++) {
    lo = d.x[i] < lo ? d.x[i] : lo;
    hi = d.x[i] > hi ? d.x[i] : hi;
  }
  CHECK(lo >= 0 && hi <= 1 && hi - lo > 0.5f, "pixels in [0,1]: %g..%g", lo, hi);
  char first_angry[1024];
  snprintf(first_angry, sizeof first_angry, "%s", d.paths[0]);
  dataset_free(&d);

  /* two of the seven classes, and a file that is no image */
  make_dir("happy");
  make_dir("sad");
  snprintf(path, sizeof path, "%s/happy/a.jpg", tmp);
  copy_file(first_angry, path);
  snprintf(path, sizeof path, "%s/sad/b.jpg", tmp);
  copy_file(first_angry, path);
  snprintf(path, sizeof path, "%s/sad/notes.txt", tmp);
  FILE *f = fopen(path, "w");
  if (f) fputs("not an image\n", f), fclose(f);
  const char *model_classes[] = {"angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"};
  CHECK(dataset_load(&d, tmp, 1, 48, 48, 1.0f, model_classes, 7, err, sizeof err) == 0, "%s", err);
  CHECK(d.num_classes == 7 && d.n == 2 && d.skipped == 1 && d.labels[0] == 3 && d.labels[1] == 5 &&
            d.class_counts[0] == 0 && d.class_counts[3] == 1,
        "subset: %d classes, %d images, %d skipped, labels %d %d", d.num_classes, d.n, d.skipped,
        d.n > 0 ? d.labels[0] : -1, d.n > 1 ? d.labels[1] : -1);
  /* a split of classes with one image or none holds nothing out */
  float *hx = NULL;
  int *hy = NULL;
  int held = dataset_split(&d, 0.5f, 1, &hx, &hy);
  CHECK(held == 0 && d.n == 2, "split of 1-image and empty classes: %d held, %d kept", held, d.n);
  free(hx);
  free(hy);
  dataset_free(&d);

  /* without known classes, two folders make two classes */
  CHECK(dataset_load(&d, tmp, 1, 48, 48, 1.0f, NULL, 0, err, sizeof err) == 0 && d.num_classes == 2,
        "%s", err);
  dataset_free(&d);

  make_dir("bored");
  snprintf(path, sizeof path, "%s/bored/c.jpg", tmp);
  copy_file(first_angry, path);
  CHECK(dataset_load(&d, tmp, 1, 48, 48, 1.0f, model_classes, 7, err, sizeof err) != 0 &&
            strstr(err, "bored") && strstr(err, "happy"),
        "a folder outside the model's classes: '%s'", err);

  snprintf(path, sizeof path, "%s/missing", tmp);
  CHECK(dataset_load(&d, path, 1, 48, 48, 1.0f, NULL, 0, err, sizeof err) != 0 &&
            strstr(err, "missing"),
        "a missing folder is named: '%s'", err);
  snprintf(path, sizeof path, "%s/happy", tmp);
  CHECK(dataset_load(&d, path, 1, 48, 48, 1.0f, NULL, 0, err, sizeof err) != 0,
        "a folder of images without class folders is an error");
  printf("errors: %s\n", err);

  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
  return check_finish("test_dataset");
}
