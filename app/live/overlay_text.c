/* overlay_text: glyph atlases (see overlay_text.h). */
#include "live/overlay_text.h"

#include <stdio.h>

#include "common/font.h"

#define ATLAS_ROW_W 1024 /* atlas rows wrap here, far below any texture limit */

/* Renders every printable ASCII glyph of one face into one texture. */
int atlas_build(glyph_atlas *a, SDL_Renderer *r, int points, int bold, char *err,
                       size_t errlen) {
  TTF_Font *font = font_open(points, bold, err, errlen);
  if (!font) return -1;
  SDL_Surface *glyph[GLYPH_COUNT] = {0};
  int rc = -1, x = 0, y = 0, row_h = 0, atlas_w = 0;
  const SDL_Color white = {255, 255, 255, 255};
  a->height = TTF_FontLineSkip(font);
  /* First pass: render and place each glyph. */
  for (int i = 0; i < GLYPH_COUNT; i++) {
    Uint32 ch = (Uint32)(GLYPH_FIRST + i);
    int minx, maxx, miny, maxy, adv;
    if (TTF_GlyphMetrics32(font, ch, &minx, &maxx, &miny, &maxy, &adv) != 0) adv = 0;
    a->advance[i] = adv;
    a->src[i] = (SDL_Rect){0, 0, 0, 0};
    if (ch == ' ') continue; /* nothing to draw; SDL_ttf may refuse it */
    glyph[i] = TTF_RenderGlyph32_Blended(font, ch, white);
    if (!glyph[i]) continue; /* glyph missing from the face: drawn as a gap */
    if (x + glyph[i]->w > ATLAS_ROW_W) {
      x = 0;
      y += row_h;
      row_h = 0;
    }
    a->src[i] = (SDL_Rect){x, y, glyph[i]->w, glyph[i]->h};
    x += glyph[i]->w;
    if (x > atlas_w) atlas_w = x;
    if (glyph[i]->h > row_h) row_h = glyph[i]->h;
  }
  SDL_Surface *sheet =
      SDL_CreateRGBSurfaceWithFormat(0, atlas_w > 0 ? atlas_w : 1, y + row_h > 0 ? y + row_h : 1,
                                     32, SDL_PIXELFORMAT_ARGB8888);
  if (!sheet) {
    snprintf(err, errlen, "glyph atlas: %s", SDL_GetError());
    goto done;
  }
  SDL_FillRect(sheet, NULL, 0);
  for (int i = 0; i < GLYPH_COUNT; i++) {
    if (!glyph[i]) continue;
    /* Copy, not blend: the atlas must keep the glyph's own alpha. */
    SDL_SetSurfaceBlendMode(glyph[i], SDL_BLENDMODE_NONE);
    SDL_Rect dst = a->src[i];
    if (SDL_BlitSurface(glyph[i], NULL, sheet, &dst) != 0) {
      snprintf(err, errlen, "glyph atlas: %s", SDL_GetError());
      goto done;
    }
  }
  a->tex = SDL_CreateTextureFromSurface(r, sheet);
  if (!a->tex) {
    snprintf(err, errlen, "glyph atlas texture: %s", SDL_GetError());
    goto done;
  }
  SDL_SetTextureBlendMode(a->tex, SDL_BLENDMODE_BLEND);
  rc = 0;
done:
  SDL_FreeSurface(sheet);
  for (int i = 0; i < GLYPH_COUNT; i++) SDL_FreeSurface(glyph[i]);
  font_close(font);
  return rc;
}

static int glyph_index(char c) {
  unsigned char u = (unsigned char)c;
  return (u >= GLYPH_FIRST && u <= GLYPH_LAST) ? u - GLYPH_FIRST : '?' - GLYPH_FIRST;
}

int text_width(const glyph_atlas *a, const char *s) {
  int w = 0;
  for (; *s; s++) w += a->advance[glyph_index(*s)];
  return w;
}

int draw_text(SDL_Renderer *r, const glyph_atlas *a, int x, int y, const char *s,
                     Uint32 rgb) {
  SDL_SetTextureColorMod(a->tex, (rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255);
  for (; *s; s++) {
    int g = glyph_index(*s);
    if (a->src[g].w > 0) {
      SDL_Rect dst = {x, y, a->src[g].w, a->src[g].h};
      SDL_RenderCopy(r, a->tex, &a->src[g], &dst);
    }
    x += a->advance[g];
  }
  return x;
}

void atlas_free(glyph_atlas *a) {
  if (a->tex) SDL_DestroyTexture(a->tex);
  a->tex = NULL;
}
