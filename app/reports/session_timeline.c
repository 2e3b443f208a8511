/* session_timeline: draws timeline.png (see session_timeline.h). */
#include "reports/session_timeline.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/emotion.h"
#include "reports/report_canvas.h"

enum { WIDTH = 1200, LEFT = 150, RIGHT = 30, TOP = 96, PLOT_H = 150, STRIP_H = 14,
       PANEL_GAP = 58 };

static SDL_Color rgb(uint32_t c) {
  return (SDL_Color){(Uint8)(c >> 16), (Uint8)(c >> 8), (Uint8)c, 255};
}

void session_timeline_layout_of(const session_summary *s, session_timeline_layout *L) {
  memset(L, 0, sizeof *L);
  L->t0 = s->start_s;
  L->t1 = s->end_s + s->frame_dt;
  /* the faces longest in view, in order of first appearance; the centre
   * square only when it is all there is */
  enum { MAX_FACES = SESSION_TIMELINE_MAX_PANELS - 1 };
  int pick[MAX_FACES], n = 0; /* kept longest first */
  for (int f = 0; f < s->nfaces; f++) {
    if (s->detector && s->faces[f].id < 0) continue;
    double v = s->faces[f].in_view_s;
    if (n == MAX_FACES && v <= s->faces[pick[n - 1]].in_view_s) continue;
    int i = n < MAX_FACES ? n++ : n - 1;
    for (; i > 0 && s->faces[pick[i - 1]].in_view_s < v; i--) pick[i] = pick[i - 1];
    pick[i] = f;
  }
  for (int i = 0; i < n; i++) /* by first appearance */
    for (int j = i + 1; j < n; j++)
      if (s->faces[pick[j]].first_s < s->faces[pick[i]].first_s) {
        int t = pick[i];
        pick[i] = pick[j], pick[j] = t;
      }
  /* the overview first, when there is more than one face to follow */
  int lead = s->detector && n > 1;
  L->npanels = n + lead;
  int y = TOP;
  for (int i = 0; i < L->npanels; i++) {
    L->face[i] = lead ? (i == 0 ? -1 : pick[i - 1]) : pick[i];
    L->plot[i] = (SDL_Rect){LEFT, y, WIDTH - LEFT - RIGHT, PLOT_H};
    L->strip[i] = (SDL_Rect){LEFT, y + PLOT_H + 3, WIDTH - LEFT - RIGHT, STRIP_H};
    y += PLOT_H + 3 + STRIP_H + PANEL_GAP;
  }
  L->width = WIDTH;
  L->height = (n ? y : TOP + 60) + 30;
}

int session_timeline_x(const session_timeline_layout *L, int panel, double t) {
  const SDL_Rect *p = &L->plot[panel];
  double f = L->t1 > L->t0 ? (t - L->t0) / (L->t1 - L->t0) : 0;
  int x = p->x + (int)floor(f * p->w);
  return x < p->x ? p->x : x >= p->x + p->w ? p->x + p->w - 1 : x;
}

/* A step for about `target` ticks over span seconds, in clock units. */
static double tick_step(double span, int target) {
  static const double steps[] = {1,   2,   5,   10,   15,   30,   60,    120,  300,
                                 600, 900, 1800, 3600, 7200, 10800, 21600, 43200};
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
    if (span / steps[i] <= target) return steps[i];
  return 86400;
}

/* One face: the columns of its plot and strip, then the axes. */
static void draw_panel(rc_canvas *cv, const session_summary *s, const session_timeline_layout *L,
                       int panel) {
  const session_log *log = s->log;
  const int K = log->num_classes, f = L->face[panel];
  const SDL_Rect p = L->plot[panel], st = L->strip[panel];
  const long *rows = f < 0 ? s->lead : s->order + s->face_start[f];
  const long n = f < 0 ? s->nlead : s->face_start[f + 1] - s->face_start[f];
  SDL_Color colour[SESSION_MAX_CLASSES];
  for (int k = 0; k < K; k++) colour[k] = rgb(emotion_colour(log->class_names[k], k));
  rc_fill(cv, p.x, p.y, p.w, p.h, (SDL_Color){246, 246, 246, 255});
  long j = 0, m = 0;
  double span = L->t1 - L->t0, last_t = -1e300;
  double sum[SESSION_MAX_CLASSES];
  long shown[SESSION_MAX_CLASSES];
  for (int x = 0; x < p.w; x++) {
    double c1 = L->t0 + span * (x + 1) / p.w;
    int any = j < n && log->rows[rows[j]].t < c1;
    if (any) {
      memset(sum, 0, sizeof sum), memset(shown, 0, sizeof shown), m = 0;
      for (; j < n && log->rows[rows[j]].t < c1; j++, m++) {
        const float *q = s->smoothed + (size_t)rows[j] * K;
        for (int k = 0; k < K; k++) sum[k] += q[k];
        shown[log->rows[rows[j]].shown]++;
        last_t = log->rows[rows[j]].t;
      }
    } else if (!(m > 0 && j < n && log->rows[rows[j]].t - last_t <= SESSION_GAP_S)) {
      continue; /* out of view: the background shows */
    } /* else a column between two rows of the face: it keeps the last one's */
    double acc = 0;
    int prev_y = p.y + p.h;
    for (int k = 0; k < K; k++) {
      acc += sum[k] / m;
      int ytop = p.y + p.h - (int)lround(fmin(acc, 1.0) * p.h);
      if (prev_y > ytop) rc_fill(cv, p.x + x, ytop, 1, prev_y - ytop, colour[k]);
      prev_y = ytop;
    }
    int top = 0;
    for (int k = 1; k < K; k++)
      if (shown[k] > shown[top]) top = k;
    rc_fill(cv, st.x + x, st.y, 1, st.h, colour[top]);
  }
  rc_outline(cv, p.x - 1, p.y - 1, p.w + 2, p.h + 2, 1, RC_AXIS);
  /* y: probability 0 and 1; x: clock ticks under the strip */
  rc_text(cv, cv->small, "1", p.x - 6, p.y, RC_RIGHT, RC_TOP, RC_MUTED, 0, 0);
  rc_text(cv, cv->small, "0", p.x - 6, p.y + p.h, RC_RIGHT, RC_BOTTOM, RC_MUTED, 0, 0);
  rc_text(cv, cv->small, "shown", p.x - 6, st.y + st.h / 2, RC_RIGHT, RC_MIDDLE, RC_MUTED, 0, 0);
  double step = tick_step(span, 10);
  for (double t = ceil(L->t0 / step) * step; t <= L->t1 + 1e-9; t += step) {
    int x = session_timeline_x(L, panel, t);
    char buf[32];
    session_clock(buf, sizeof buf, t);
    rc_fill(cv, x, st.y + st.h, 1, 5, RC_AXIS);
    rc_text(cv, cv->small, buf, x, st.y + st.h + 7, RC_CENTER, RC_TOP, RC_MUTED, 0, 0);
  }
  char name[64], line[128], a[32], b[32];
  if (f < 0) {
    rc_text(cv, cv->bold, "largest face", 16, p.y + 4, RC_LEFT, RC_TOP, RC_INK, 0, LEFT - 24);
    rc_text(cv, cv->small, "in each frame,", 16, p.y + 24, RC_LEFT, RC_TOP, RC_MUTED, 0, LEFT - 24);
    rc_text(cv, cv->small, "whichever it is", 16, p.y + 40, RC_LEFT, RC_TOP, RC_MUTED, 0, LEFT - 24);
    return;
  }
  const session_face *fc = &s->faces[f];
  if (fc->id < 0) snprintf(name, sizeof name, "centre square");
  else snprintf(name, sizeof name, "face %d", fc->id);
  rc_text(cv, cv->bold, name, 16, p.y + 4, RC_LEFT, RC_TOP, RC_INK, 0, LEFT - 24);
  session_clock(a, sizeof a, fc->first_s);
  session_clock(b, sizeof b, fc->last_s);
  snprintf(line, sizeof line, "%s to %s", a, b);
  rc_text(cv, cv->small, line, 16, p.y + 24, RC_LEFT, RC_TOP, RC_MUTED, 0, LEFT - 24);
  snprintf(line, sizeof line, fc->in_view_s < 10 ? "in view %.1f s" : "in view %.0f s",
           fc->in_view_s);
  rc_text(cv, cv->small, line, 16, p.y + 40, RC_LEFT, RC_TOP, RC_MUTED, 0, LEFT - 24);
  if (fc->visits > 1) {
    snprintf(line, sizeof line, "%d visits", fc->visits);
    rc_text(cv, cv->small, line, 16, p.y + 56, RC_LEFT, RC_TOP, RC_MUTED, 0, LEFT - 24);
  }
}

int session_timeline_png(const char *path, const session_summary *s, const char *title,
                         char *err, size_t errlen) {
  session_timeline_layout L;
  session_timeline_layout_of(s, &L);
  rc_canvas cv;
  if (rc_init(&cv, L.width, L.height, err, errlen) != 0) return -1;
  rc_text(&cv, cv.title, title, 16, 14, RC_LEFT, RC_TOP, RC_INK, 0, WIDTH - 32);
  const session_log *log = s->log;
  int x = 16;
  for (int k = 0; k < log->num_classes && x < WIDTH - 80; k++) { /* the legend */
    rc_fill(&cv, x, 52, 14, 14, rgb(emotion_colour(log->class_names[k], k)));
    x += 20 + rc_text(&cv, cv.small, log->class_names[k], x + 20, 59, RC_LEFT, RC_MIDDLE, RC_INK,
                      0, 0) + 16;
  }
  rc_text(&cv, cv.small, "grey: out of view", x + 4, 59, RC_LEFT, RC_MIDDLE, RC_MUTED, 0, 0);
  for (int i = 0; i < L.npanels; i++) draw_panel(&cv, s, &L, i);
  if (L.npanels == 0)
    rc_text(&cv, cv.label, "no face rows to draw", WIDTH / 2, TOP + 20, RC_CENTER, RC_TOP,
            RC_MUTED, 0, 0);
  int hidden = 0;
  for (int f = 0; f < s->nfaces; f++) hidden += !(s->detector && s->faces[f].id < 0);
  hidden -= L.npanels - (L.npanels > 0 && L.face[0] < 0);
  if (hidden > 0) {
    char buf[96];
    snprintf(buf, sizeof buf, "and %d more face%s seen for less time (in summary.txt)", hidden,
             hidden == 1 ? "" : "s");
    rc_text(&cv, cv.small, buf, 16, L.height - 24, RC_LEFT, RC_TOP, RC_MUTED, 0, 0);
  }
  int rc = rc_save_png(&cv, path, err, errlen);
  rc_free(&cv);
  return rc;
}
