/* report: the PNG figures of `emocam eval` and `emocam train`: confusion
 * heatmaps, thumbnail grids of (mis)classified faces, the reliability
 * diagram and learning curves. Drawn in memory with SDL2 surfaces and SDL2_ttf
 * text (no window, no video driver), saved with SDL2_image to a temporary
 * file renamed into place.
 *
 * Every function returns 0, or -1 with err filled (a missing font names the
 * package fonts-dejavu-core). class_names arguments are [K] UTF-8 strings or
 * NULL ("class 0", ...). Threads: SDL_ttf is used, so call from one thread at
 * a time (see font.h).
 */
#ifndef APP_REPORT_H
#define APP_REPORT_H

#include <SDL.h>
#include <stddef.h>

#include "reports/metrics.h"

#define REPORT_GRID_MAX 36 /* tiles in a thumbnail grid */

/* Confusion heatmap of r: rows true class, columns predicted class, each cell
 * coloured from white (0) to strong blue (the largest count, or 100% when
 * normalised) with its count (normalised: the percentage of the true class,
 * and the count below it) printed in a colour that contrasts. */
int report_confusion_png(const char *path, const metrics_report *r, const char *const *class_names,
                         int normalised, char *err, size_t errlen);

/* Grid of up to REPORT_GRID_MAX thumbnails (96x96, bilinear) of the images
 * which[0..count) (more are ignored), in that order, 6 per row. Each tile has
 * a border and the caption "true: X" / "pred: Y (87%)" in green when
 * truth == pred, red otherwise. images: [n, c, h, w] in [0, 1] (c 1: grey,
 * c 3: RGB); which: indices into images, truth, pred and confidence (each
 * indexed by image). count 0 draws the title and "(none)". */
int report_grid_png(const char *path, const char *title, const float *images, int c, int h, int w,
                    const int *which, int count, const int *truth, const int *pred,
                    const float *confidence, const char *const *class_names, char *err,
                    size_t errlen);

/* Reliability diagram of r: per-bin accuracy bars against the diagonal of
 * perfect calibration, the gap to each bin's mean confidence shaded, the ECE
 * in the title, and below it a histogram of how many images fall in each
 * confidence bin with the mean confidence and accuracy marked. */
int report_reliability_png(const char *path, const metrics_report *r, char *err, size_t errlen);

/* Learning curves: a loss panel and an accuracy panel, each with train and
 * validation lines, a legend and tick labels. Arrays are [epochs] (epoch 1
 * first); NaN entries (e.g. epochs without validation) are skipped and the
 * line joins the points around them; any array may be NULL (its line and
 * legend entry are left out). epochs >= 1. note, if not NULL, follows the
 * summary line (e.g. which weights were kept in the end). */
int report_curves_png(const char *path, int epochs, const float *train_loss, const float *val_loss,
                      const float *train_acc, const float *val_acc, const char *note, char *err,
                      size_t errlen);

/* Writes the evaluation figures into dir (created with its parents if
 * needed): confusion.png, confusion_normalized.png, reliability.png, and, when
 * images is not NULL, correct.png (correct predictions spread evenly over the
 * true classes) and incorrect.png (the most confident mistakes first).
 * images [n, c, h, w], truth/pred [n], confidence [n] (top-label probability),
 * with n == r->n; pred and confidence are normally r->pred and r->confidence. */
int report_write_eval(const char *dir, const metrics_report *r, const char *const *class_names,
                      const float *images, int c, int h, int w, const int *truth, const int *pred,
                      const float *confidence, int n, char *err, size_t errlen);

/* Choices report_write_eval makes, for callers that want the same samples.
 * Fill which[] (room for max entries) and return how many were chosen. */
int report_pick_correct(const int *truth, const int *pred, int n, int num_classes, int *which,
                        int max);
int report_pick_incorrect(const int *truth, const int *pred, const float *confidence, int n,
                          int *which, int max);

/* ---- geometry (where things are drawn; used by tests and annotators) ---- */

typedef struct {
  int width, height;  /* of the image */
  int grid_x, grid_y; /* top-left of cell (0, 0) */
  int cell;           /* cell side; cell (t, p) is at grid_x + p*cell, grid_y + t*cell */
} report_confusion_layout;
void report_confusion_geometry(int num_classes, report_confusion_layout *l);

typedef struct {
  int width, height;
  int cols, rows;
} report_grid_layout;
void report_grid_geometry(int count, report_grid_layout *l);
/* Thumbnail rectangle of tile i (its 3-pixel coloured border lies just
 * outside it). */
SDL_Rect report_grid_thumb(const report_grid_layout *l, int i);

/* Plot area of the reliability diagram (x: confidence 0..1, y: accuracy 0..1). */
SDL_Rect report_reliability_plot(void);

#define REPORT_CURVES_WIDTH 1100
#define REPORT_CURVES_HEIGHT 456
/* Plot area of a learning-curves panel: 0 loss, 1 accuracy. */
SDL_Rect report_curves_plot(int panel);

#endif
