/* panel_place: where the live window's panel (the label and the bars) goes
 * so that it covers no face: the corner no face box comes near. It stays
 * where it is while that corner is free, so it never jumps back and forth
 * when a face sits near the middle; it moves only when a face comes to it,
 * to the freest corner (the first of equals in the order top-left,
 * top-right, bottom-left, bottom-right). Plain geometry, for the overlay. */
#ifndef APP_PANEL_PLACE_H
#define APP_PANEL_PLACE_H

#include <SDL.h>

enum { PANEL_TOP_LEFT, PANEL_TOP_RIGHT, PANEL_BOTTOM_LEFT, PANEL_BOTTOM_RIGHT, PANEL_CORNERS };

typedef struct {
  int w, h;          /* the panel */
  int out_w, out_h;  /* the window's output */
  int margin;        /* from the window's edges */
  int top, bottom;   /* kept free at the top and the bottom (the status line) */
  int gap;           /* how near a face may come before the corner counts as taken */
} panel_space;

/* The panel's box at a corner. */
SDL_Rect panel_box_at(const panel_space *sp, int corner);

/* Pixels of box that lie on the faces' boxes grown by gap on every side. */
long panel_overlap(SDL_Rect box, const SDL_Rect *faces, int n, int gap);

/* The corner for this frame: current while it is free, else the freest.
 * *overlap gets the chosen corner's overlap (0: it covers no face). */
int panel_choose(const panel_space *sp, int current, const SDL_Rect *faces, int n, long *overlap);

#endif
