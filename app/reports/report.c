/* report: confusion heatmaps, thumbnail grids and the evaluation folder of
 * `emocam eval`. The charts with axes (reliability, learning curves) are in
 * report_charts.c. Layouts are pure functions of the class/tile count so
 * tests and callers can find each cell and tile.
 */
#include "reports/report.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "reports/report_canvas.h"

/* ---- confusion heatmap --------------------------------------------------- */

enum { CM_LEFT = 170, CM_TOP = 84, CM_BAR_GAP = 24, CM_BAR_W = 18, CM_RIGHT = 96, CM_BOTTOM = 84 };

void report_confusion_geometry(int num_classes, report_confusion_layout *l) {
  int k = num_classes < 1 ? 1 : num_classes;
  int cell = 560 / k;
  l->cell = cell < 40 ? 40 : cell > 96 ? 96 : cell;
  l->grid_x = CM_LEFT;
  l->grid_y = CM_TOP;
  l->width = CM_LEFT + k * l->cell + CM_BAR_GAP + CM_BAR_W + CM_RIGHT;
  l->height = CM_TOP + k * l->cell + CM_BOTTOM;
  if (l->width < 600)
    l->width = 600; /* room for the title and the summary line */
}

/* matplotlib's "Blues" colour map, white (0) to strong blue (1). */
static SDL_Color blues(double v) {
  static const Uint8 stops[9][3] = {{247, 251, 255}, {222, 235, 247}, {198, 219, 239},
                                    {158, 202, 225}, {107, 174, 214}, {66, 146, 198},
                                    {33, 113, 181},  {8, 81, 156},    {8, 48, 107}};
  v = v < 0 ? 0 : v > 1 ? 1 : v;
  double pos = v * 8;
  int i = (int)pos;
  if (i >= 8)
    i = 7;
  double f = pos - i;
  SDL_Color c = {255, 255, 255, 255};
  c.r = (Uint8)lround(stops[i][0] + f * (stops[i + 1][0] - stops[i][0]));
  c.g = (Uint8)lround(stops[i][1] + f * (stops[i + 1][1] - stops[i][1]));
  c.b = (Uint8)lround(stops[i][2] + f * (stops[i + 1][2] - stops[i][2]));
  return c;
}

/* Text colour readable on background bg (Rec. 601 luma). */
static SDL_Color contrast(SDL_Color bg) {
  double luma = 0.299 * bg.r + 0.587 * bg.g + 0.114 * bg.b;
  return luma < 140 ? RC_WHITE : RC_INK;
}

static int bar_tick_step(int max) {
  /* a 1-2-5 step giving at most 5 intervals */
  int step = 1;
  for (int mag = 1;; mag *= 10) {
    if (max <= 5 * mag) {
      step = mag;
      break;
    }
    if (max <= 10 * mag) {
      step = 2 * mag;
      break;
    }
    if (max <= 25 * mag) {
      step = 5 * mag;
      break;
    }
  }
  return step;
}

int report_confusion_png(const char *path, const metrics_report *r, const char *const *class_names,
                         int normalised, char *err, size_t errlen) {
  const int k = r->num_classes;
  if (k < 1) {
    snprintf(err, errlen, "%s: no classes to draw", path);
    return -1;
  }
  report_confusion_layout l;
  report_confusion_geometry(k, &l);
  rc_canvas cv;
  if (rc_init(&cv, l.width, l.height, err, errlen) != 0)
    return -1;
  char buf[160], name[32];

  rc_text(&cv, cv.title,
          normalised ? "Confusion matrix (% of each true class)"
                     : "Confusion matrix (image counts)",
          20, 16, RC_LEFT, RC_TOP, RC_INK, 0, l.width - 40);
  snprintf(buf, sizeof buf,
           "%d images \xC2\xB7 accuracy %.1f%% \xC2\xB7 balanced accuracy %.1f%% \xC2\xB7 "
           "macro F1 %.3f",
           r->n, 100 * r->accuracy, 100 * r->balanced_accuracy, r->macro_f1);
  rc_text(&cv, cv.small, buf, 20, 44, RC_LEFT, RC_TOP, RC_MUTED, 0, l.width - 40);

  int maxcount = 0;
  for (int i = 0; i < k * k; i++)
    if (r->confusion[i] > maxcount)
      maxcount = r->confusion[i];
  TTF_Font *cell_font = l.cell >= 60 ? cv.label : cv.small;
  for (int t = 0; t < k; t++)
    for (int p = 0; p < k; p++) {
      int count = r->confusion[t * k + p];
      double v = normalised ? (r->support[t] ? (double)count / r->support[t] : 0)
                            : (maxcount ? (double)count / maxcount : 0);
      SDL_Color bg = blues(v);
      int x = l.grid_x + p * l.cell, y = l.grid_y + t * l.cell;
      rc_fill(&cv, x, y, l.cell, l.cell, bg);
      int cx = x + l.cell / 2, cy = y + l.cell / 2;
      /* Empty cells get grey text so the populated ones stand out. */
      SDL_Color fg = count ? contrast(bg) : (SDL_Color){165, 165, 165, 255};
      if (!normalised) {
        snprintf(buf, sizeof buf, "%d", count);
        rc_text(&cv, cell_font, buf, cx, cy, RC_CENTER, RC_MIDDLE, fg, 0, l.cell - 4);
      } else if (l.cell >= 56) {
        snprintf(buf, sizeof buf, "%.1f%%", 100 * v);
        rc_text(&cv, cell_font, buf, cx, cy - 2, RC_CENTER, RC_BOTTOM, fg, 0, l.cell - 4);
        snprintf(buf, sizeof buf, "(%d)", count);
        rc_text(&cv, cv.small, buf, cx, cy + 2, RC_CENTER, RC_TOP, fg, 0, l.cell - 4);
      } else {
        snprintf(buf, sizeof buf, "%.0f%%", 100 * v);
        rc_text(&cv, cell_font, buf, cx, cy, RC_CENTER, RC_MIDDLE, fg, 0, l.cell - 4);
      }
    }
  int side = k * l.cell;
  rc_outline(&cv, l.grid_x - 1, l.grid_y - 1, side + 2, side + 2, 1, RC_AXIS);

  /* Class names: true classes left of the rows, predicted below the columns. */
  for (int c = 0; c < k; c++) {
    const char *nm = metrics_class_name(class_names, c, name, sizeof name);
    rc_text(&cv, cv.label, nm, l.grid_x - 8, l.grid_y + c * l.cell + l.cell / 2, RC_RIGHT,
            RC_MIDDLE, RC_INK, 0, CM_LEFT - 48);
    TTF_Font *xf = rc_text_width(cv.label, nm) <= l.cell - 4 ? cv.label : cv.small;
    rc_text(&cv, xf, nm, l.grid_x + c * l.cell + l.cell / 2, l.grid_y + side + 8, RC_CENTER, RC_TOP,
            RC_INK, 0, l.cell - 4);
  }
  rc_text(&cv, cv.bold, "true class", 18, l.grid_y + side / 2, RC_LEFT, RC_MIDDLE, RC_INK, 1, 0);
  rc_text(&cv, cv.bold, "predicted class", l.grid_x + side / 2, l.grid_y + side + 40, RC_CENTER,
          RC_TOP, RC_INK, 0, 0);

  /* Colour bar: strong blue at the top, with its scale. */
  int bx = l.grid_x + side + CM_BAR_GAP;
  for (int y = 0; y < side; y++)
    rc_fill(&cv, bx, l.grid_y + y, CM_BAR_W, 1, blues(1.0 - (y + 0.5) / side));
  rc_outline(&cv, bx - 1, l.grid_y - 1, CM_BAR_W + 2, side + 2, 1, RC_AXIS);
  if (normalised) {
    for (int q = 0; q <= 4; q++) {
      int y = l.grid_y + side - q * side / 4;
      rc_fill(&cv, bx + CM_BAR_W, y, 4, 1, RC_AXIS);
      snprintf(buf, sizeof buf, "%d%%", q * 25);
      rc_text(&cv, cv.small, buf, bx + CM_BAR_W + 7, y, RC_LEFT, RC_MIDDLE, RC_INK, 0, 0);
    }
  } else if (maxcount > 0) {
    int step = bar_tick_step(maxcount);
    for (int v = 0; v <= maxcount; v += step) {
      int y = l.grid_y + side - (int)lround((double)v / maxcount * side);
      rc_fill(&cv, bx + CM_BAR_W, y, 4, 1, RC_AXIS);
      snprintf(buf, sizeof buf, "%d", v);
      rc_text(&cv, cv.small, buf, bx + CM_BAR_W + 7, y, RC_LEFT, RC_MIDDLE, RC_INK, 0, 0);
    }
  }
  int rc = rc_save_png(&cv, path, err, errlen);
  rc_free(&cv);
  return rc;
}

/* ---- thumbnail grid ------------------------------------------------------ */

enum {
  G_MARGIN = 20,
  G_TOP = 64,
  G_TILE_W = 156,
  G_TILE_H = 152,
  G_THUMB = 96,
  G_COLS = 6,
  G_BORDER = 3
};

void report_grid_geometry(int count, report_grid_layout *l) {
  if (count < 0)
    count = 0;
  if (count > REPORT_GRID_MAX)
    count = REPORT_GRID_MAX;
  l->cols = count < G_COLS ? (count ? count : 1) : G_COLS;
  l->rows = (count + l->cols - 1) / l->cols;
  l->width = 2 * G_MARGIN + l->cols * G_TILE_W;
  if (l->width < 640)
    l->width = 640; /* room for the title */
  l->height = G_TOP + (l->rows ? l->rows * G_TILE_H : 40) + G_MARGIN / 2;
}

SDL_Rect report_grid_thumb(const report_grid_layout *l, int i) {
  /* tiles are centred as a block when the title makes the image wider */
  int x0 = (l->width - l->cols * G_TILE_W) / 2;
  SDL_Rect r = {x0 + (i % l->cols) * G_TILE_W + (G_TILE_W - G_THUMB) / 2,
                G_TOP + (i / l->cols) * G_TILE_H + 8, G_THUMB, G_THUMB};
  return r;
}

int report_grid_png(const char *path, const char *title, const float *images, int c, int h, int w,
                    const int *which, int count, const int *truth, const int *pred,
                    const float *confidence, const char *const *class_names, char *err,
                    size_t errlen) {
  if (count > REPORT_GRID_MAX)
    count = REPORT_GRID_MAX;
  if (count < 0 || (count > 0 && (!images || !which || !truth || !pred || !confidence)) || c < 1 ||
      h < 1 || w < 1) {
    snprintf(err, errlen, "%s: invalid thumbnail grid arguments", path);
    return -1;
  }
  report_grid_layout l;
  report_grid_geometry(count, &l);
  rc_canvas cv;
  if (rc_init(&cv, l.width, l.height, err, errlen) != 0)
    return -1;
  rc_text(&cv, cv.title, title, G_MARGIN, 20, RC_LEFT, RC_TOP, RC_INK, 0, l.width - 2 * G_MARGIN);
  if (count == 0)
    rc_text(&cv, cv.label, "(none)", G_MARGIN, G_TOP + 8, RC_LEFT, RC_TOP, RC_MUTED, 0, 0);
  char buf[160], name[32];
  size_t stride = (size_t)c * h * w;
  for (int i = 0; i < count; i++) {
    int s = which[i];
    SDL_Rect th = report_grid_thumb(&l, i);
    int ok = truth[s] == pred[s];
    SDL_Color col = ok ? RC_GREEN : RC_RED;
    rc_fill(&cv, th.x - G_BORDER, th.y - G_BORDER, th.w + 2 * G_BORDER, th.h + 2 * G_BORDER, col);
    rc_image(&cv, images + (size_t)s * stride, c, h, w, th.x, th.y, th.w, th.h);
    int cx = th.x + th.w / 2, ty = th.y + th.h + G_BORDER + 6;
    snprintf(buf, sizeof buf, "true: %s", metrics_class_name(class_names, truth[s], name, sizeof name));
    rc_text(&cv, cv.small, buf, cx, ty, RC_CENTER, RC_TOP, col, 0, G_TILE_W - 6);
    /* Mistakes get a bold prediction when it fits; a long class name is cut
     * rather than the confidence. */
    const char *pname = metrics_class_name(class_names, pred[s], name, sizeof name);
    char pct[16], fitted[64];
    snprintf(pct, sizeof pct, " (%.0f%%)", 100.0 * confidence[s]);
    TTF_Font *pf = ok ? cv.small : cv.bold;
    snprintf(buf, sizeof buf, "pred: %s%s", pname, pct);
    if (rc_text_width(pf, buf) > G_TILE_W - 6)
      pf = cv.small;
    int room = G_TILE_W - 6 - rc_text_width(pf, "pred: ") - rc_text_width(pf, pct);
    snprintf(buf, sizeof buf, "pred: %s%s", rc_fit(pf, pname, room, fitted, sizeof fitted), pct);
    rc_text(&cv, pf, buf, cx, ty + 17, RC_CENTER, RC_TOP, col, 0, G_TILE_W - 6);
  }
  int rc = rc_save_png(&cv, path, err, errlen);
  rc_free(&cv);
  return rc;
}

/* ---- picking samples ----------------------------------------------------- */

int report_pick_correct(const int *truth, const int *pred, int n, int num_classes, int *which,
                        int max) {
  if (n <= 0 || max <= 0 || num_classes < 1)
    return 0;
  int *avail = calloc((size_t)num_classes, sizeof *avail);
  int *quota = calloc((size_t)num_classes, sizeof *quota);
  if (!avail || !quota) {
    free(avail);
    free(quota);
    return -1;
  }
  for (int i = 0; i < n; i++)
    if (truth[i] == pred[i] && truth[i] >= 0 && truth[i] < num_classes)
      avail[truth[i]]++;
  /* Round robin over the classes so rare classes are shown too. */
  int total = 0, progress = 1;
  while (total < max && progress) {
    progress = 0;
    for (int k = 0; k < num_classes && total < max; k++)
      if (quota[k] < avail[k]) {
        quota[k]++;
        total++;
        progress = 1;
      }
  }
  /* Within a class, take samples evenly spaced over its correct ones (the
   * j-th of q at position floor((j + 1/2) * avail / q)), grouped by class. */
  int out = 0;
  for (int k = 0; k < num_classes; k++) {
    if (!quota[k])
      continue;
    int seen = 0, j = 0;
    long next = (long)((0.5) * avail[k] / quota[k]);
    for (int i = 0; i < n && j < quota[k]; i++) {
      if (truth[i] != k || pred[i] != k)
        continue;
      if (seen == next) {
        which[out++] = i;
        j++;
        next = (long)((j + 0.5) * avail[k] / quota[k]);
      }
      seen++;
    }
  }
  free(avail);
  free(quota);
  return out;
}

typedef struct {
  float conf;
  int index;
} ranked;

static int by_confidence_desc(const void *a, const void *b) {
  const ranked *x = a, *y = b;
  if (x->conf != y->conf)
    return x->conf > y->conf ? -1 : 1;
  return (x->index > y->index) - (x->index < y->index); /* stable: lower index first */
}

int report_pick_incorrect(const int *truth, const int *pred, const float *confidence, int n,
                          int *which, int max) {
  if (n <= 0 || max <= 0)
    return 0;
  ranked *wrong = malloc((size_t)n * sizeof *wrong);
  if (!wrong)
    return -1;
  int m = 0;
  for (int i = 0; i < n; i++)
    if (truth[i] != pred[i])
      wrong[m++] = (ranked){confidence[i], i};
  qsort(wrong, (size_t)m, sizeof *wrong, by_confidence_desc);
  int out = m < max ? m : max;
  for (int i = 0; i < out; i++)
    which[i] = wrong[i].index;
  free(wrong);
  return out;
}

/* ---- the evaluation folder ----------------------------------------------- */

/* mkdir -p: creates dir and its missing parents. */
static int make_dirs(const char *dir, char *err, size_t errlen) {
  char buf[4096];
  size_t len = strlen(dir);
  if (len == 0 || len >= sizeof buf) {
    snprintf(err, errlen, "report folder '%s': empty or too long", dir);
    return -1;
  }
  memcpy(buf, dir, len + 1);
  for (size_t i = 1; i <= len; i++) {
    if (buf[i] != '/' && buf[i] != '\0')
      continue;
    char saved = buf[i];
    buf[i] = '\0';
    if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
      snprintf(err, errlen, "cannot create folder %s: %s", buf, strerror(errno));
      return -1;
    }
    buf[i] = saved;
  }
  struct stat st;
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    snprintf(err, errlen, "%s: exists but is not a folder", dir);
    return -1;
  }
  return 0;
}

int report_write_eval(const char *dir, const metrics_report *r, const char *const *class_names,
                      const float *images, int c, int h, int w, const int *truth, const int *pred,
                      const float *confidence, int n, char *err, size_t errlen) {
  if (n != r->n) {
    snprintf(err, errlen, "report_write_eval: %d images but the metrics cover %d", n, r->n);
    return -1;
  }
  if (make_dirs(dir, err, errlen) != 0)
    return -1;
  char path[4200], title[200];
  snprintf(path, sizeof path, "%s/confusion.png", dir);
  if (report_confusion_png(path, r, class_names, 0, err, errlen) != 0)
    return -1;
  snprintf(path, sizeof path, "%s/confusion_normalized.png", dir);
  if (report_confusion_png(path, r, class_names, 1, err, errlen) != 0)
    return -1;
  snprintf(path, sizeof path, "%s/reliability.png", dir);
  if (report_reliability_png(path, r, err, errlen) != 0)
    return -1;
  if (!images)
    return 0;

  int which[REPORT_GRID_MAX] = {0};
  int correct = 0;
  for (int i = 0; i < n; i++)
    correct += truth[i] == pred[i];
  int m = report_pick_correct(truth, pred, n, r->num_classes, which, REPORT_GRID_MAX);
  if (m < 0) {
    snprintf(err, errlen, "out of memory picking sample images");
    return -1;
  }
  snprintf(title, sizeof title, "Correct predictions: %d of %d, spread over the classes", m,
           correct);
  snprintf(path, sizeof path, "%s/correct.png", dir);
  if (report_grid_png(path, title, images, c, h, w, which, m, truth, pred, confidence, class_names,
                      err, errlen) != 0)
    return -1;
  m = report_pick_incorrect(truth, pred, confidence, n, which, REPORT_GRID_MAX);
  if (m < 0) {
    snprintf(err, errlen, "out of memory picking sample images");
    return -1;
  }
  snprintf(title, sizeof title, "Most confident mistakes: %d of %d", m, n - correct);
  snprintf(path, sizeof path, "%s/incorrect.png", dir);
  return report_grid_png(path, title, images, c, h, w, which, m, truth, pred, confidence,
                         class_names, err, errlen);
}
