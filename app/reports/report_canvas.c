/* report_canvas: software drawing on an ARGB8888 surface. Lines and dots are
 * anti-aliased by pixel coverage (distance to the shape), text comes from
 * SDL_ttf's blended (alpha) rendering, and PNGs are written by SDL_image to a
 * temporary file that is renamed into place.
 */
#include "reports/report_canvas.h"

#include "common/atomic_file.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <SDL_image.h>

#include "common/font.h"

void rc_free(rc_canvas *c) {
  if (!c)
    return;
  SDL_FreeSurface(c->s);
  font_close(c->title);
  font_close(c->bold);
  font_close(c->label);
  font_close(c->small);
  memset(c, 0, sizeof *c);
}

int rc_init(rc_canvas *c, int w, int h, char *err, size_t errlen) {
  memset(c, 0, sizeof *c);
  if (w < 1 || h < 1 || w > 16384 || h > 16384) {
    snprintf(err, errlen, "report image size %dx%d out of range (1..16384)", w, h);
    return -1;
  }
  c->s = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_ARGB8888);
  if (!c->s) {
    snprintf(err, errlen, "cannot create a %dx%d image: %s", w, h, SDL_GetError());
    return -1;
  }
  SDL_FillRect(c->s, NULL, 0xFFFFFFFFu);
  if (!(c->title = font_open(18, 1, err, errlen)) || !(c->bold = font_open(13, 1, err, errlen)) ||
      !(c->label = font_open(14, 0, err, errlen)) || !(c->small = font_open(12, 0, err, errlen))) {
    rc_free(c);
    return -1;
  }
  return 0;
}

int rc_save_png(rc_canvas *c, const char *path, char *err, size_t errlen) {
  return atomic_save_png(c->s, path, err, errlen);
}

/* ---- pixels -------------------------------------------------------------- */

static inline Uint32 *pixel_at(rc_canvas *c, int x, int y) {
  return (Uint32 *)((Uint8 *)c->s->pixels + (size_t)y * c->s->pitch) + x;
}

static inline Uint32 pack(SDL_Color col) {
  return 0xFF000000u | (Uint32)col.r << 16 | (Uint32)col.g << 8 | col.b;
}

/* dst = dst * (1 - a) + col * a, for one pixel inside the canvas. */
static void blend(rc_canvas *c, int x, int y, SDL_Color col, float a) {
  if (x < 0 || y < 0 || x >= c->s->w || y >= c->s->h || a <= 0)
    return;
  if (a >= 1) {
    *pixel_at(c, x, y) = pack(col);
    return;
  }
  Uint32 *p = pixel_at(c, x, y);
  float r = (*p >> 16 & 255) * (1 - a) + col.r * a;
  float g = (*p >> 8 & 255) * (1 - a) + col.g * a;
  float b = (*p & 255) * (1 - a) + col.b * a;
  *p = pack((SDL_Color){(Uint8)(r + 0.5f), (Uint8)(g + 0.5f), (Uint8)(b + 0.5f), 255});
}

void rc_fill(rc_canvas *c, int x, int y, int w, int h, SDL_Color col) {
  if (w <= 0 || h <= 0)
    return;
  SDL_Rect r = {x, y, w, h};
  SDL_FillRect(c->s, &r, pack(col)); /* SDL clips to the surface */
}

void rc_fill_alpha(rc_canvas *c, int x, int y, int w, int h, SDL_Color col, float alpha) {
  for (int yy = y; yy < y + h; yy++)
    for (int xx = x; xx < x + w; xx++)
      blend(c, xx, yy, col, alpha);
}

void rc_hatch(rc_canvas *c, int x, int y, int w, int h, int spacing, SDL_Color col, float alpha) {
  if (spacing < 3)
    spacing = 3;
  /* Anchored to canvas coordinates so neighbouring areas line up. */
  for (int yy = y; yy < y + h; yy++)
    for (int xx = x; xx < x + w; xx++)
      if ((xx + yy) % spacing < 2)
        blend(c, xx, yy, col, alpha);
}

void rc_outline(rc_canvas *c, int x, int y, int w, int h, int t, SDL_Color col) {
  rc_fill(c, x, y, w, t, col);
  rc_fill(c, x, y + h - t, w, t, col);
  rc_fill(c, x, y, t, h, col);
  rc_fill(c, x + w - t, y, t, h, col);
}

/* Coverage of a pixel by a shape at distance d (from the pixel centre to the
 * shape's edge, negative inside): a one-pixel linear ramp across the edge. */
static inline float coverage(float d) {
  float a = 0.5f - d;
  return a < 0 ? 0 : a > 1 ? 1 : a;
}

void rc_line(rc_canvas *c, float x0, float y0, float x1, float y1, float width, SDL_Color col) {
  float hw = width * 0.5f;
  int xa = (int)floorf(fminf(x0, x1) - hw - 1), xb = (int)ceilf(fmaxf(x0, x1) + hw + 1);
  int ya = (int)floorf(fminf(y0, y1) - hw - 1), yb = (int)ceilf(fmaxf(y0, y1) + hw + 1);
  float dx = x1 - x0, dy = y1 - y0;
  float len2 = dx * dx + dy * dy;
  for (int y = ya; y <= yb; y++)
    for (int x = xa; x <= xb; x++) {
      float px = x + 0.5f - x0, py = y + 0.5f - y0;
      /* distance from the pixel centre to the segment */
      float t = len2 > 0 ? (px * dx + py * dy) / len2 : 0;
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      float ex = px - t * dx, ey = py - t * dy;
      blend(c, x, y, col, coverage(sqrtf(ex * ex + ey * ey) - hw));
    }
}

void rc_dashed(rc_canvas *c, float x0, float y0, float x1, float y1, float width, float dash,
               float gap, SDL_Color col) {
  float len = hypotf(x1 - x0, y1 - y0);
  if (len <= 0 || dash <= 0)
    return;
  float ux = (x1 - x0) / len, uy = (y1 - y0) / len;
  for (float s = 0; s < len; s += dash + gap) {
    float e = fminf(s + dash, len);
    rc_line(c, x0 + ux * s, y0 + uy * s, x0 + ux * e, y0 + uy * e, width, col);
  }
}

void rc_disc(rc_canvas *c, float cx, float cy, float radius, SDL_Color col) {
  for (int y = (int)floorf(cy - radius - 1); y <= (int)ceilf(cy + radius + 1); y++)
    for (int x = (int)floorf(cx - radius - 1); x <= (int)ceilf(cx + radius + 1); x++)
      blend(c, x, y, col, coverage(hypotf(x + 0.5f - cx, y + 0.5f - cy) - radius));
}

/* ---- text ---------------------------------------------------------------- */

int rc_text_width(TTF_Font *font, const char *text) {
  int w = 0, h = 0;
  if (!text || !*text || TTF_SizeUTF8(font, text, &w, &h) != 0)
    return 0;
  return w;
}

const char *rc_fit(TTF_Font *font, const char *text, int max_width, char *buf, size_t len) {
  if (max_width <= 0 || rc_text_width(font, text) <= max_width)
    return text;
  size_t n = strlen(text);
  if (n + 4 > len)
    n = len - 4;
  while (n > 0) {
    do /* step back over UTF-8 continuation bytes */
      n--;
    while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80);
    memcpy(buf, text, n);
    memcpy(buf + n, "\xE2\x80\xA6", 4); /* U+2026 and the NUL */
    if (rc_text_width(font, buf) <= max_width)
      return buf;
  }
  return "\xE2\x80\xA6";
}

/* A copy of an ARGB8888 surface turned 90 degrees counter-clockwise. */
static SDL_Surface *rotate_ccw(SDL_Surface *src) {
  SDL_Surface *dst =
      SDL_CreateRGBSurfaceWithFormat(0, src->h, src->w, 32, SDL_PIXELFORMAT_ARGB8888);
  if (!dst)
    return NULL;
  for (int y = 0; y < src->h; y++) {
    const Uint32 *row = (const Uint32 *)((const Uint8 *)src->pixels + (size_t)y * src->pitch);
    for (int x = 0; x < src->w; x++) {
      /* source (x, y) -> destination (y, w - 1 - x) */
      Uint32 *d = (Uint32 *)((Uint8 *)dst->pixels + (size_t)(src->w - 1 - x) * dst->pitch) + y;
      *d = row[x];
    }
  }
  SDL_SetSurfaceBlendMode(dst, SDL_BLENDMODE_BLEND);
  return dst;
}

int rc_text(rc_canvas *c, TTF_Font *font, const char *text, int x, int y, int halign, int valign,
            SDL_Color col, int rotated, int max_width) {
  if (!text || !*text)
    return 0;
  char buf[512];
  text = rc_fit(font, text, max_width, buf, sizeof buf);
  SDL_Surface *t = TTF_RenderUTF8_Blended(font, text, col);
  if (!t)
    return 0;
  if (t->format->format != SDL_PIXELFORMAT_ARGB8888) {
    SDL_Surface *conv = SDL_ConvertSurfaceFormat(t, SDL_PIXELFORMAT_ARGB8888, 0);
    SDL_FreeSurface(t);
    if (!conv)
      return 0;
    t = conv;
    SDL_SetSurfaceBlendMode(t, SDL_BLENDMODE_BLEND);
  }
  if (rotated) {
    SDL_Surface *r = rotate_ccw(t);
    SDL_FreeSurface(t);
    if (!r)
      return 0;
    t = r;
  }
  SDL_Rect dst = {x, y, t->w, t->h};
  if (halign == RC_CENTER)
    dst.x -= t->w / 2;
  else if (halign == RC_RIGHT)
    dst.x -= t->w;
  if (valign == RC_MIDDLE)
    dst.y -= t->h / 2;
  else if (valign == RC_BOTTOM)
    dst.y -= t->h;
  SDL_BlitSurface(t, NULL, c->s, &dst);
  int extent = rotated ? t->h : t->w;
  SDL_FreeSurface(t);
  return extent;
}

/* ---- images -------------------------------------------------------------- */

static inline float clamp01(float v) { return v < 0 ? 0 : v > 1 ? 1 : v; }

/* Bilinear sample of plane p at continuous source position (sx, sy), with
 * pixel centres at integer + 0.5 and edges clamped. */
static float sample(const float *p, int h, int w, float sx, float sy) {
  float fx = sx - 0.5f, fy = sy - 0.5f;
  int x0 = (int)floorf(fx), y0 = (int)floorf(fy);
  float ax = fx - x0, ay = fy - y0;
  int x1 = x0 + 1, y1 = y0 + 1;
  x0 = x0 < 0 ? 0 : x0 >= w ? w - 1 : x0;
  x1 = x1 < 0 ? 0 : x1 >= w ? w - 1 : x1;
  y0 = y0 < 0 ? 0 : y0 >= h ? h - 1 : y0;
  y1 = y1 < 0 ? 0 : y1 >= h ? h - 1 : y1;
  float top = p[y0 * w + x0] * (1 - ax) + p[y0 * w + x1] * ax;
  float bot = p[y1 * w + x0] * (1 - ax) + p[y1 * w + x1] * ax;
  return top * (1 - ay) + bot * ay;
}

void rc_image(rc_canvas *c, const float *img, int ch, int h, int w, int x, int y, int dw, int dh) {
  if (ch < 1 || h < 1 || w < 1 || dw < 1 || dh < 1)
    return;
  size_t plane = (size_t)h * w;
  int colour = ch >= 3;
  for (int yy = 0; yy < dh; yy++) {
    int py = y + yy;
    if (py < 0 || py >= c->s->h)
      continue;
    float sy = (yy + 0.5f) * h / dh;
    for (int xx = 0; xx < dw; xx++) {
      int px = x + xx;
      if (px < 0 || px >= c->s->w)
        continue;
      float sx = (xx + 0.5f) * w / dw;
      float r = clamp01(sample(img, h, w, sx, sy));
      float g = colour ? clamp01(sample(img + plane, h, w, sx, sy)) : r;
      float b = colour ? clamp01(sample(img + 2 * plane, h, w, sx, sy)) : r;
      *pixel_at(c, px, py) = pack((SDL_Color){(Uint8)(r * 255 + 0.5f), (Uint8)(g * 255 + 0.5f),
                                              (Uint8)(b * 255 + 0.5f), 255});
    }
  }
}
