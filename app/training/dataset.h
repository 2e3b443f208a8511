/* dataset: a folder of class subfolders (the folder name is the label),
 * decoded once and held in memory at model resolution.
 */
#ifndef APP_DATASET_H
#define APP_DATASET_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  int num_classes;
  char **class_names; /* owned, [num_classes] */
  int n;              /* images decoded */
  int c, h, w;        /* sample shape */
  float *x;           /* owned, [n, c, h, w] in [0,1] */
  int *labels;        /* owned, [n] */
  char **paths;       /* owned, [n] */
  int skipped;        /* files that were not decodable images */
  int *class_counts;  /* owned, [num_classes] */
} dataset;

/* Loads every image under dir/<class>/ (class order = sorted folder names;
 * files sorted too, so loading is deterministic). Undecodable files are
 * skipped with a warning naming each one. When known_classes is non-NULL the
 * folders are matched to those names (a folder not among them is an error
 * listing both), labels index known_classes and every known class is kept in
 * class_names even without a folder; otherwise an empty class folder or fewer
 * than two classes is an error. Returns 0, or -1 with err naming the path. */
int dataset_load(dataset *ds, const char *dir, int c, int h, int w, float crop_scale,
                 const char *const *known_classes, int num_known, char *err, size_t errlen);
void dataset_free(dataset *ds);

/* Stratified split: per class, a share of the samples (shuffled by seed; at
 * least one of a class with two or more when share > 0, never a class's
 * last) moves out of d into *x_out [count, c, h, w] and *y_out [count]
 * (malloc'd); d keeps the rest in order. Returns the count moved, or -1 (no
 * memory). */
int dataset_split(dataset *d, float share, uint64_t seed, float **x_out, int **y_out);

#endif
