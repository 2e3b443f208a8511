/* report_charts: the figures with numeric axes: the reliability diagram of an
 * evaluation and the learning curves of a training run. A small `axes` value
 * maps data to pixels; ticks follow the usual 1-2-5 "nice numbers" rule.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "reports/report.h"
#include "reports/report_canvas.h"

typedef struct {
  SDL_Rect plot;         /* pixel area */
  double x0, x1, y0, y1; /* data range shown */
} axes;

static float ax_x(const axes *a, double v) {
  return (float)(a->plot.x + (v - a->x0) / (a->x1 - a->x0) * a->plot.w);
}
static float ax_y(const axes *a, double v) {
  return (float)(a->plot.y + a->plot.h - (v - a->y0) / (a->y1 - a->y0) * a->plot.h);
}

/* A 1-2-5 step that cuts range into about `target` intervals. */
static double nice_step(double range, int target) {
  double raw = range / target;
  double mag = pow(10, floor(log10(raw)));
  double f = raw / mag;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

/* Decimals needed to print multiples of step. */
static int decimals(double step) {
  int d = (int)ceil(-log10(step) - 1e-9);
  return d < 0 ? 0 : d > 6 ? 6 : d;
}

enum { TICK_PLAIN, TICK_PERCENT };

/* Light grid lines and tick labels every ystep from y0 to y1 (left), and every
 * xstep (below), then the left and bottom axis lines. */
static void draw_axes(rc_canvas *cv, const axes *a, double xstep, double ystep, int yfmt,
                      const char *xlabel, const char *ylabel) {
  char buf[32];
  int yd = decimals(yfmt == TICK_PERCENT ? ystep * 100 : ystep);
  for (double v = a->y0; v <= a->y1 + ystep * 1e-6; v += ystep) {
    int y = (int)lroundf(ax_y(a, v));
    rc_fill(cv, a->plot.x, y, a->plot.w, 1, RC_GRIDLINE);
    rc_fill(cv, a->plot.x - 5, y, 5, 1, RC_AXIS);
    if (yfmt == TICK_PERCENT)
      snprintf(buf, sizeof buf, "%.*f%%", yd, fabs(v) < 1e-12 ? 0.0 : v * 100);
    else
      snprintf(buf, sizeof buf, "%.*f", yd, fabs(v) < 1e-12 ? 0.0 : v);
    rc_text(cv, cv->small, buf, a->plot.x - 8, y, RC_RIGHT, RC_MIDDLE, RC_INK, 0, 0);
  }
  int xd = decimals(xstep);
  double first = ceil(a->x0 / xstep - 1e-9) * xstep;
  for (double v = first; v <= a->x1 + xstep * 1e-6; v += xstep) {
    int x = (int)lroundf(ax_x(a, v));
    rc_fill(cv, x, a->plot.y + a->plot.h, 1, 5, RC_AXIS);
    snprintf(buf, sizeof buf, "%.*f", xd, fabs(v) < 1e-12 ? 0.0 : v);
    rc_text(cv, cv->small, buf, x, a->plot.y + a->plot.h + 8, RC_CENTER, RC_TOP, RC_INK, 0, 0);
  }
  rc_fill(cv, a->plot.x - 1, a->plot.y, 1, a->plot.h + 1, RC_AXIS);
  rc_fill(cv, a->plot.x - 1, a->plot.y + a->plot.h, a->plot.w + 1, 1, RC_AXIS);
  if (xlabel)
    rc_text(cv, cv->label, xlabel, a->plot.x + a->plot.w / 2, a->plot.y + a->plot.h + 28, RC_CENTER,
            RC_TOP, RC_INK, 0, 0);
  if (ylabel)
    rc_text(cv, cv->label, ylabel, a->plot.x - 62, a->plot.y + a->plot.h / 2, RC_LEFT, RC_MIDDLE,
            RC_INK, 1, 0);
}

/* ---- reliability diagram ------------------------------------------------- */

SDL_Rect report_reliability_plot(void) {
  SDL_Rect r = {100, 100, 520, 410};
  return r;
}

/* Under the reliability diagram: how many images each confidence bin holds,
 * with the accuracy and the mean confidence as dashed lines. */
static void reliability_histogram(rc_canvas *cv, const metrics_report *r) {
  const double bw = 1.0 / METRICS_ECE_BINS;
  char buf[200];
  int maxc = 1;
  for (int b = 0; b < METRICS_ECE_BINS; b++)
    if (r->bin_count[b] > maxc)
      maxc = r->bin_count[b];
  double hstep = nice_step(maxc, 2);
  if (hstep < 1)
    hstep = 1;
  axes hgram = {{100, 610, 520, 100}, 0, 1, 0, ceil(maxc / hstep) * hstep};
  rc_text(cv, cv->bold, "images per confidence bin", 100, 584, RC_LEFT, RC_TOP, RC_INK, 0, 0);
  draw_axes(cv, &hgram, 0.2, hstep, TICK_PLAIN, "confidence (top-label probability)", "images");
  for (int b = 0; b < METRICS_ECE_BINS; b++) {
    if (!r->bin_count[b])
      continue;
    int x = (int)lroundf(ax_x(&hgram, b * bw)) + 1,
        xe = (int)lroundf(ax_x(&hgram, (b + 1) * bw)) - 1;
    int ytop = (int)lroundf(ax_y(&hgram, r->bin_count[b]));
    rc_fill(cv, x, ytop, xe - x, hgram.plot.y + hgram.plot.h - ytop,
            (SDL_Color){140, 170, 200, 255});
  }
  if (r->n > 0) {
    float xa = ax_x(&hgram, r->accuracy), xc = ax_x(&hgram, r->mean_confidence);
    rc_dashed(cv, xa, hgram.plot.y, xa, hgram.plot.y + hgram.plot.h, 2, 6, 4, RC_INK);
    rc_dashed(cv, xc, hgram.plot.y, xc, hgram.plot.y + hgram.plot.h, 2, 6, 4, RC_RED);
    snprintf(buf, sizeof buf, "accuracy %.1f%%", 100 * r->accuracy);
    int w1 = rc_text(cv, cv->small, buf, 620, 584, RC_RIGHT, RC_TOP, RC_INK, 0, 0);
    snprintf(buf, sizeof buf, "mean confidence %.1f%%", 100 * r->mean_confidence);
    rc_text(cv, cv->small, buf, 620 - w1 - 18, 584, RC_RIGHT, RC_TOP, RC_RED, 0, 0);
  }
}

int report_reliability_png(const char *path, const metrics_report *r, char *err, size_t errlen) {
  rc_canvas cv;
  if (rc_init(&cv, 660, 790, err, errlen) != 0)
    return -1;
  char buf[200];
  snprintf(buf, sizeof buf, "Reliability diagram \xE2\x80\x94 ECE %.2f%%", 100 * r->ece);
  rc_text(&cv, cv.title, buf, 20, 16, RC_LEFT, RC_TOP, RC_INK, 0, 620);
  snprintf(buf, sizeof buf,
           "%d images \xC2\xB7 %d equal-width confidence bins \xC2\xB7 accuracy %.1f%% "
           "\xC2\xB7 mean confidence %.1f%%",
           r->n, METRICS_ECE_BINS, 100 * r->accuracy, 100 * r->mean_confidence);
  rc_text(&cv, cv.small, buf, 20, 44, RC_LEFT, RC_TOP, RC_MUTED, 0, 620);

  axes a = {report_reliability_plot(), 0, 1, 0, 1};
  draw_axes(&cv, &a, 0.2, 0.2, TICK_PLAIN, "confidence (top-label probability)", "accuracy");
  const double bw = 1.0 / METRICS_ECE_BINS;
  for (int b = 0; b < METRICS_ECE_BINS; b++) {
    if (!r->bin_count[b])
      continue;
    int x = (int)lroundf(ax_x(&a, b * bw)) + 1, xe = (int)lroundf(ax_x(&a, (b + 1) * bw)) - 1;
    int ytop = (int)lroundf(ax_y(&a, r->bin_accuracy[b]));
    int ybase = a.plot.y + a.plot.h;
    rc_fill(&cv, x, ytop, xe - x, ybase - ytop, RC_BLUE);
    /* The gap between what the model claims (mean confidence) and what it
     * achieves (accuracy), hatched above (over-confident) or inside
     * (under-confident) the bar, with the mean confidence as a red edge. */
    int yconf = (int)lroundf(ax_y(&a, r->bin_confidence[b]));
    int y0 = yconf < ytop ? yconf : ytop, y1 = yconf < ytop ? ytop : yconf;
    rc_hatch(&cv, x, y0, xe - x, y1 - y0, 7, RC_RED, 1.0f);
    rc_fill(&cv, x, yconf - 1, xe - x, 2, RC_RED);
  }
  rc_dashed(&cv, ax_x(&a, 0), ax_y(&a, 0), ax_x(&a, 1), ax_y(&a, 1), 1.6f, 7, 5, RC_AXIS);

  /* Legend in a row above the plot, where no bar can reach it. */
  int lx = a.plot.x, ly = a.plot.y - 20;
  rc_fill(&cv, lx, ly - 6, 18, 12, RC_BLUE);
  lx +=
      26 +
      rc_text(&cv, cv.small, "accuracy in the bin", lx + 26, ly, RC_LEFT, RC_MIDDLE, RC_INK, 0, 0) +
      24;
  rc_hatch(&cv, lx, ly - 6, 18, 12, 7, RC_RED, 1.0f);
  rc_fill(&cv, lx, ly - 7, 18, 2, RC_RED);
  lx += 26 +
        rc_text(&cv, cv.small, "gap to mean confidence", lx + 26, ly, RC_LEFT, RC_MIDDLE, RC_INK, 0,
                0) +
        24;
  rc_dashed(&cv, lx, ly, lx + 20, ly, 1.6f, 5, 3, RC_AXIS);
  rc_text(&cv, cv.small, "perfect calibration", lx + 28, ly, RC_LEFT, RC_MIDDLE, RC_INK, 0, 0);

  reliability_histogram(&cv, r);
  int rc = rc_save_png(&cv, path, err, errlen);
  rc_free(&cv);
  return rc;
}

/* ---- learning curves ----------------------------------------------------- */

SDL_Rect report_curves_plot(int panel) {
  SDL_Rect r = {panel == 0 ? 90 : 640, 104, 420, 290};
  return r;
}

/* Finite range of up to two series; returns 0 when neither has a value. */
static int series_range(const float *a, const float *b, int n, double *lo, double *hi) {
  int any = 0;
  *lo = INFINITY;
  *hi = -INFINITY;
  for (int s = 0; s < 2; s++) {
    const float *v = s ? b : a;
    for (int i = 0; v && i < n; i++)
      if (isfinite(v[i])) {
        any = 1;
        *lo = fmin(*lo, v[i]);
        *hi = fmax(*hi, v[i]);
      }
  }
  return any;
}

/* A polyline through the finite points (joining over NaN gaps), with dots. */
static void draw_series(rc_canvas *cv, const axes *a, const float *v, int n, SDL_Color col) {
  if (!v)
    return;
  float px = 0, py = 0;
  int have = 0;
  for (int i = 0; i < n; i++) {
    if (!isfinite(v[i]))
      continue;
    float x = ax_x(a, i + 1), y = ax_y(a, v[i]);
    if (have)
      rc_line(cv, px, py, x, y, 2.5f, col);
    px = x;
    py = y;
    have = 1;
  }
  if (n > 60)
    return; /* dots would merge into the line */
  for (int i = 0; i < n; i++)
    if (isfinite(v[i]))
      rc_disc(cv, ax_x(a, i + 1), ax_y(a, v[i]), 3.5f, col);
}

static int has_finite(const float *v, int n) {
  for (int i = 0; v && i < n; i++)
    if (isfinite(v[i]))
      return 1;
  return 0;
}

static void draw_panel(rc_canvas *cv, int panel, int epochs, const float *train, const float *val,
                       const char *title) {
  SDL_Rect plot = report_curves_plot(panel);
  axes a = {plot, 1, epochs, 0, 1};
  /* x: epochs 1..E, a little room either side so end dots are not cut. */
  double xstep = epochs <= 1 ? 1 : nice_step(epochs - 1, 8);
  if (xstep < 1)
    xstep = 1;
  a.x0 = 1 - (epochs <= 1 ? 0.5 : (epochs - 1) * 0.03);
  a.x1 = epochs + (epochs <= 1 ? 0.5 : (epochs - 1) * 0.03);
  double lo, hi, ystep;
  if (!series_range(train, val, epochs, &lo, &hi)) {
    lo = 0;
    hi = 1;
  }
  if (panel == 1) { /* accuracy: clamp to [0, 1] */
    lo = fmax(0, lo);
    hi = fmin(1, hi);
  }
  if (hi - lo < 1e-6) { /* flat or single value: show a band around it */
    double pad = fmax(fabs(hi) * 0.1, 0.05);
    lo -= pad;
    hi += pad;
    if (panel == 1) {
      lo = fmax(0, lo);
      hi = fmin(1, hi);
    }
  }
  ystep = nice_step(hi - lo, 5);
  a.y0 = floor(lo / ystep + 1e-9) * ystep;
  a.y1 = ceil(hi / ystep - 1e-9) * ystep;
  if (a.y1 <= a.y0)
    a.y1 = a.y0 + ystep;
  /* A point exactly on the frame hides its dot in the axis line: add a tick
   * of room, unless that crosses a natural bound (0 for a loss that never
   * went negative, 0 and 100% for accuracy). */
  double room = 0.02 * (a.y1 - a.y0);
  if (lo - a.y0 < room && (lo < 0 || a.y0 - ystep >= -1e-9) && !(panel == 1 && a.y0 <= 0))
    a.y0 -= ystep;
  if (a.y1 - hi < room && !(panel == 1 && a.y1 >= 1))
    a.y1 += ystep;
  draw_axes(cv, &a, xstep, ystep, panel == 1 ? TICK_PERCENT : TICK_PLAIN, "epoch",
            panel == 1 ? "accuracy" : "loss");
  draw_series(cv, &a, train, epochs, RC_BLUE);
  draw_series(cv, &a, val, epochs, RC_ORANGE);

  rc_text(cv, cv->bold, title, plot.x, plot.y - 30, RC_LEFT, RC_TOP, RC_INK, 0, 0);
  /* Legend above the plot's right end, so it never hides a line. */
  int x = plot.x + plot.w;
  int y = plot.y - 22;
  const char *names[2] = {"validation", "train"};
  const float *series[2] = {val, train};
  const SDL_Color cols[2] = {RC_ORANGE, RC_BLUE};
  for (int s = 0; s < 2; s++) {
    if (!has_finite(series[s], epochs))
      continue;
    int tw = rc_text(cv, cv->small, names[s], x, y, RC_RIGHT, RC_MIDDLE, RC_INK, 0, 0);
    rc_line(cv, x - tw - 30, y, x - tw - 8, y, 2.5f, cols[s]);
    rc_disc(cv, x - tw - 19, y, 3.5f, cols[s]);
    x -= tw + 48;
  }
}

int report_curves_png(const char *path, int epochs, const float *train_loss, const float *val_loss,
                      const float *train_acc, const float *val_acc, const char *note, char *err,
                      size_t errlen) {
  if (epochs < 1) {
    snprintf(err, errlen, "%s: no epochs to draw", path);
    return -1;
  }
  rc_canvas cv;
  if (rc_init(&cv, REPORT_CURVES_WIDTH, REPORT_CURVES_HEIGHT, err, errlen) != 0)
    return -1;
  char buf[200];
  snprintf(buf, sizeof buf, "Learning curves (%d epoch%s)", epochs, epochs == 1 ? "" : "s");
  rc_text(&cv, cv.title, buf, 20, 16, RC_LEFT, RC_TOP, RC_INK, 0, 0);

  /* Summary line: the best validation accuracy and when it happened. */
  int best = -1;
  for (int i = 0; val_acc && i < epochs; i++)
    if (isfinite(val_acc[i]) && (best < 0 || val_acc[i] > val_acc[best]))
      best = i;
  if (best >= 0)
    snprintf(buf, sizeof buf, "best validation accuracy %.1f%% at epoch %d", 100 * val_acc[best],
             best + 1);
  else if (has_finite(train_loss, epochs))
    snprintf(buf, sizeof buf, "no validation results");
  else
    buf[0] = 0;
  if (note) snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s", buf[0] ? "; " : "", note);
  rc_text(&cv, cv.small, buf, 20, 44, RC_LEFT, RC_TOP, RC_MUTED, 0, 0);

  draw_panel(&cv, 0, epochs, train_loss, val_loss, "loss");
  draw_panel(&cv, 1, epochs, train_acc, val_acc, "accuracy");
  int rc = rc_save_png(&cv, path, err, errlen);
  rc_free(&cv);
  return rc;
}
