/* panel_place: see panel_place.h. */
#include "live/panel_place.h"

SDL_Rect panel_box_at(const panel_space *sp, int corner) {
  int right = corner == PANEL_TOP_RIGHT || corner == PANEL_BOTTOM_RIGHT;
  int lower = corner == PANEL_BOTTOM_LEFT || corner == PANEL_BOTTOM_RIGHT;
  int x = right ? sp->out_w - sp->margin - sp->w : sp->margin;
  int y = lower ? sp->out_h - sp->bottom - sp->margin - sp->h : sp->top + sp->margin;
  if (x < 0) x = 0;
  if (y < 0) y = 0;
  return (SDL_Rect){x, y, sp->w, sp->h};
}

long panel_overlap(SDL_Rect box, const SDL_Rect *faces, int n, int gap) {
  long sum = 0;
  for (int i = 0; i < n; i++) {
    int x0 = faces[i].x - gap, y0 = faces[i].y - gap;
    int x1 = faces[i].x + faces[i].w + gap, y1 = faces[i].y + faces[i].h + gap;
    int ix0 = box.x > x0 ? box.x : x0, iy0 = box.y > y0 ? box.y : y0;
    int ix1 = box.x + box.w < x1 ? box.x + box.w : x1;
    int iy1 = box.y + box.h < y1 ? box.y + box.h : y1;
    if (ix1 > ix0 && iy1 > iy0) sum += (long)(ix1 - ix0) * (iy1 - iy0);
  }
  return sum;
}

int panel_choose(const panel_space *sp, int current, const SDL_Rect *faces, int n, long *overlap) {
  if (current < 0 || current >= PANEL_CORNERS) current = PANEL_TOP_LEFT;
  long best_overlap = panel_overlap(panel_box_at(sp, current), faces, n, sp->gap);
  int best = current;
  for (int c = 0; c < PANEL_CORNERS && best_overlap > 0; c++) {
    long o = panel_overlap(panel_box_at(sp, c), faces, n, sp->gap);
    if (o < best_overlap) best = c, best_overlap = o;
  }
  *overlap = best_overlap;
  return best;
}
