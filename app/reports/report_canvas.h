/* report_canvas (prefix rc_): an in-memory SDL surface with the fonts and the
 * few drawing primitives the PNG reports need (rectangles, anti-aliased lines
 * and dots, aligned and rotated text, scaled images), saved atomically as PNG.
 * No window and no video subsystem are needed.
 */
#ifndef APP_REPORT_CANVAS_H
#define APP_REPORT_CANVAS_H

#include <SDL.h>
#include <SDL_ttf.h>
#include <stddef.h>

/* Palette shared by the reports. */
#define RC_WHITE ((SDL_Color){255, 255, 255, 255})
#define RC_INK ((SDL_Color){33, 33, 33, 255})      /* text */
#define RC_MUTED ((SDL_Color){110, 110, 110, 255}) /* secondary text */
#define RC_AXIS ((SDL_Color){90, 90, 90, 255})
#define RC_GRIDLINE ((SDL_Color){228, 228, 228, 255})
#define RC_BLUE ((SDL_Color){31, 119, 180, 255})   /* train / accuracy */
#define RC_ORANGE ((SDL_Color){255, 127, 14, 255}) /* validation */
#define RC_GREEN ((SDL_Color){0, 140, 40, 255})    /* correct */
#define RC_RED ((SDL_Color){214, 39, 40, 255})     /* wrong / gap */

enum { RC_LEFT, RC_CENTER, RC_RIGHT }; /* horizontal anchor of text */
enum { RC_TOP, RC_MIDDLE, RC_BOTTOM }; /* vertical anchor of text */

typedef struct {
  SDL_Surface *s;  /* ARGB8888, opaque; owned */
  TTF_Font *title; /* DejaVu Sans Bold 18 */
  TTF_Font *bold;  /* DejaVu Sans Bold 13 */
  TTF_Font *label; /* DejaVu Sans 14 */
  TTF_Font *small; /* DejaVu Sans 12 */
} rc_canvas;

/* Creates a white w x h canvas (1..16384 each) and opens its fonts.
 * Returns 0, or -1 with err filled (c is then empty and safe to free).
 * Threads: uses SDL_ttf, so one thread at a time (see font.h). */
int rc_init(rc_canvas *c, int w, int h, char *err, size_t errlen);
/* Frees the surface and fonts; accepts an empty canvas. */
void rc_free(rc_canvas *c);

/* Saves as PNG through "<path>.XXXXXX" in the same folder, renamed onto path
 * when complete (mode 0644). Returns 0, or -1 with err filled. */
int rc_save_png(rc_canvas *c, const char *path, char *err, size_t errlen);

/* Opaque filled rectangle (clipped to the canvas). */
void rc_fill(rc_canvas *c, int x, int y, int w, int h, SDL_Color col);
/* Rectangle blended over the canvas with opacity alpha in [0, 1]. */
void rc_fill_alpha(rc_canvas *c, int x, int y, int w, int h, SDL_Color col, float alpha);
/* Diagonal hatching ("////"): 2-pixel lines every `spacing` pixels, blended
 * with opacity alpha, clipped to the rectangle. */
void rc_hatch(rc_canvas *c, int x, int y, int w, int h, int spacing, SDL_Color col, float alpha);
/* Outline of thickness t drawn inside the rectangle. */
void rc_outline(rc_canvas *c, int x, int y, int w, int h, int t, SDL_Color col);
/* Anti-aliased segment of the given width in pixels (coordinates are pixel
 * positions; a pixel's centre is at +0.5). */
void rc_line(rc_canvas *c, float x0, float y0, float x1, float y1, float width, SDL_Color col);
/* As rc_line, drawn as dashes of length dash separated by gaps of length gap. */
void rc_dashed(rc_canvas *c, float x0, float y0, float x1, float y1, float width, float dash,
               float gap, SDL_Color col);
/* Anti-aliased filled disc. */
void rc_disc(rc_canvas *c, float cx, float cy, float radius, SDL_Color col);

/* Draws UTF-8 text anchored at (x, y) by halign/valign. rotated != 0 draws it
 * turned 90 degrees counter-clockwise (reading bottom to top; the anchors
 * then refer to the rotated box). Text wider than max_width (> 0) is cut and
 * ends with an ellipsis. Returns the width of the drawn text box (its height
 * when rotated), 0 for empty text or on a rendering failure. */
int rc_text(rc_canvas *c, TTF_Font *font, const char *text, int x, int y, int halign, int valign,
            SDL_Color col, int rotated, int max_width);
/* text itself when it fits max_width (or max_width <= 0), else a copy in buf
 * (len >= 8) cut at a UTF-8 character boundary and ended with an ellipsis so
 * that it fits. */
const char *rc_fit(TTF_Font *font, const char *text, int max_width, char *buf, size_t len);
/* Width in pixels of text in font (0 on failure). */
int rc_text_width(TTF_Font *font, const char *text);

/* Draws a [ch, h, w] image with values in [0, 1] (ch 1: grey, ch >= 3: the
 * first three planes as RGB, ch 2: first plane) scaled bilinearly into the
 * rectangle (x, y, dw, dh). Values outside [0, 1] are clamped. */
void rc_image(rc_canvas *c, const float *img, int ch, int h, int w, int x, int y, int dw, int dh);

#endif
