/* overlay_text: the glyph atlases the overlay draws its text from (private
 * to the overlay). One texture per font and size holds every printable
 * ASCII glyph, made once (and again when the window's size changes the text
 * size), because SDL_ttf's string rendering allocates a surface per call and
 * the window must allocate nothing per frame. */
#ifndef APP_OVERLAY_TEXT_H
#define APP_OVERLAY_TEXT_H

#include <SDL.h>
#include <stddef.h>

#define GLYPH_FIRST 32 /* ' ' */
#define GLYPH_LAST 126 /* '~' */
#define GLYPH_COUNT (GLYPH_LAST - GLYPH_FIRST + 1)

typedef struct {
  SDL_Texture *tex;          /* white glyphs on transparent, tinted per draw */
  SDL_Rect src[GLYPH_COUNT]; /* each glyph's box in tex (w 0: nothing to draw) */
  int advance[GLYPH_COUNT];  /* pen advance in pixels */
  int height;                /* line height */
} glyph_atlas;

/* Renders the glyphs of DejaVu Sans (bold or not) at `points` into a. Returns
 * 0, or -1 with err naming the font or the SDL failure. */
int atlas_build(glyph_atlas *a, SDL_Renderer *r, int points, int bold, char *err, size_t errlen);
void atlas_free(glyph_atlas *a);
/* Width of s in pixels. */
int text_width(const glyph_atlas *a, const char *s);
/* Draws s with its top-left at (x, y) in colour rgb; returns the end x. */
int draw_text(SDL_Renderer *r, const glyph_atlas *a, int x, int y, const char *s, Uint32 rgb);

#endif
