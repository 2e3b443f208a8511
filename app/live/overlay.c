/* overlay: the live window's label, bars, crop outline, status line and
 * banner. Text is drawn from glyph atlases (one texture per face and size,
 * printable ASCII) made once at startup, because SDL_ttf's string rendering
 * allocates a surface per call and the window must allocate nothing per frame.
 */
#include "live/overlay.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/emotion.h"
#include "common/font.h"

#define GLYPH_FIRST 32 /* ' ' */
#define GLYPH_LAST 126 /* '~' */
#define GLYPH_COUNT (GLYPH_LAST - GLYPH_FIRST + 1)
#define ATLAS_ROW_W 1024 /* atlas rows wrap here, far below any texture limit */

typedef struct {
  SDL_Texture *tex;          /* white glyphs on transparent, tinted per draw */
  SDL_Rect src[GLYPH_COUNT]; /* each glyph's box in tex (w 0: nothing to draw) */
  int advance[GLYPH_COUNT];  /* pen advance in pixels */
  int height;                /* line height */
} glyph_atlas;

enum { FACE_LABEL, FACE_TEXT, FACE_SMALL, FACE_COUNT };
static const struct {
  int points, bold;
} faces[FACE_COUNT] = {{34, 1}, {15, 0}, {12, 0}};

struct overlay {
  SDL_Renderer *renderer; /* borrowed */
  glyph_atlas atlas[FACE_COUNT];
  int name_w;  /* width of the class-name column */
  int pct_w;   /* width of the percentage column */
};

/* Layout constants in pixels. */
enum { MARGIN = 10, PAD = 10, PANEL_W = 310, ROW_GAP = 6, BAR_GAP = 8 };

/* Renders every printable ASCII glyph of one face into one texture. */
static int atlas_build(glyph_atlas *a, SDL_Renderer *r, int points, int bold, char *err,
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

static int text_width(const glyph_atlas *a, const char *s) {
  int w = 0;
  for (; *s; s++) w += a->advance[glyph_index(*s)];
  return w;
}

/* Draws s with its top-left at (x, y) in colour rgb; returns the end x. */
static int draw_text(SDL_Renderer *r, const glyph_atlas *a, int x, int y, const char *s,
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

static void fill(SDL_Renderer *r, SDL_Rect box, Uint32 rgb, Uint8 alpha) {
  SDL_SetRenderDrawBlendMode(r, alpha == 255 ? SDL_BLENDMODE_NONE : SDL_BLENDMODE_BLEND);
  SDL_SetRenderDrawColor(r, (rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255, alpha);
  SDL_RenderFillRect(r, &box);
}

int overlay_create(overlay **out, SDL_Renderer *renderer, char *err, size_t errlen) {
  *out = NULL;
  overlay *ov = calloc(1, sizeof *ov);
  if (!ov) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  ov->renderer = renderer;
  for (int f = 0; f < FACE_COUNT; f++) {
    if (atlas_build(&ov->atlas[f], renderer, faces[f].points, faces[f].bold, err, errlen) != 0) {
      overlay_destroy(ov);
      return -1;
    }
  }
  /* Wide enough for the longest class name of the bundled data sets. */
  /* room for a key number before the longest name (--collect) */
  ov->name_w = text_width(&ov->atlas[FACE_TEXT], "9 happiness") + BAR_GAP;
  ov->pct_w = text_width(&ov->atlas[FACE_TEXT], "100%");
  *out = ov;
  return 0;
}

void overlay_destroy(overlay *ov) {
  if (!ov) return;
  for (int f = 0; f < FACE_COUNT; f++)
    if (ov->atlas[f].tex) SDL_DestroyTexture(ov->atlas[f].tex);
  free(ov);
}

static int panel_width(int out_w) {
  return out_w - 2 * MARGIN < PANEL_W ? out_w - 2 * MARGIN : PANEL_W;
}

static int row_height(const overlay *ov) { return ov->atlas[FACE_TEXT].height + ROW_GAP; }

SDL_Rect overlay_label_box(const overlay *ov, int out_w, int out_h) {
  (void)out_h;
  return (SDL_Rect){MARGIN + PAD, MARGIN + PAD / 2, panel_width(out_w) - 2 * PAD,
                    ov->atlas[FACE_LABEL].height};
}

SDL_Rect overlay_bar_track(const overlay *ov, int i, int out_w, int out_h) {
  SDL_Rect label = overlay_label_box(ov, out_w, out_h);
  int row_h = row_height(ov);
  int row_y = label.y + label.h + PAD / 2 + i * row_h;
  int x = MARGIN + PAD + ov->name_w;
  int w = panel_width(out_w) - 2 * PAD - ov->name_w - BAR_GAP - ov->pct_w;
  int bar_h = row_h - 2 * ROW_GAP;
  return (SDL_Rect){x, row_y + (row_h - bar_h) / 2, w > 0 ? w : 0, bar_h};
}

static void draw_outline(SDL_Renderer *r, SDL_Rect box, int t, Uint32 rgb) {
  fill(r, (SDL_Rect){box.x, box.y, box.w, t}, rgb, 255);
  fill(r, (SDL_Rect){box.x, box.y + box.h - t, box.w, t}, rgb, 255);
  fill(r, (SDL_Rect){box.x, box.y, t, box.h}, rgb, 255);
  fill(r, (SDL_Rect){box.x + box.w - t, box.y, t, box.h}, rgb, 255);
}

/* text on a dark strip just above box (inside it when there is no room) */
static void draw_caption(overlay *ov, SDL_Rect box, const char *text) {
  const glyph_atlas *a = &ov->atlas[FACE_TEXT];
  int w = text_width(a, text) + 8, h = a->height + 4;
  int y = box.y - h >= 0 ? box.y - h : box.y;
  fill(ov->renderer, (SDL_Rect){box.x, y, w, h}, 0x000000, 170);
  draw_text(ov->renderer, a, box.x + 4, y + 2, text, OVERLAY_FACE_RGB);
}

/* The label, its probability and one bar per class, in a translucent panel. */
static void draw_panel(overlay *ov, const overlay_view *v, int out_w, int out_h) {
  SDL_Renderer *r = ov->renderer;
  const glyph_atlas *big = &ov->atlas[FACE_LABEL], *text = &ov->atlas[FACE_TEXT];
  SDL_Rect label = overlay_label_box(ov, out_w, out_h);
  SDL_Rect last = overlay_bar_track(ov, v->num_classes - 1, out_w, out_h);
  int row_h = row_height(ov);
  int bottom = last.y - (row_h - last.h) / 2 + row_h + PAD / 2;
  fill(r, (SDL_Rect){MARGIN, MARGIN, panel_width(out_w), bottom - MARGIN}, 0x000000, 150);

  char buf[64];
  int top = v->label;
  int x = draw_text(r, big, label.x, label.y, v->class_names[top], 0xffffff);
  snprintf(buf, sizeof buf, "  %.0f%%", 100.0 * v->probs[top]);
  draw_text(r, big, x, label.y, buf, OVERLAY_TOP_RGB);

  for (int i = 0; i < v->num_classes; i++) {
    SDL_Rect track = overlay_bar_track(ov, i, out_w, out_h);
    Uint32 colour = emotion_colour(v->class_names[i], i);
    int text_y = track.y + track.h / 2 - text->height / 2;
    char name[80];
    if (v->counts) snprintf(name, sizeof name, "%d %s", i + 1, v->class_names[i]);
    else snprintf(name, sizeof name, "%s", v->class_names[i]);
    draw_text(r, text, MARGIN + PAD, text_y, name, i == top ? OVERLAY_TOP_RGB : 0xe8e8e8);
    fill(r, track, 0x404040, 200);
    float p = v->probs[i] < 0 ? 0 : v->probs[i] > 1 ? 1 : v->probs[i];
    SDL_Rect bar = track;
    bar.w = (int)lroundf(p * (float)track.w);
    if (bar.w > 0) fill(r, bar, colour, 255);
    snprintf(buf, sizeof buf, "%.0f%%", 100.0 * p);
    int pct_right = track.x + track.w + BAR_GAP + ov->pct_w;
    draw_text(r, text, pct_right - text_width(text, buf), text_y, buf, 0xe8e8e8);
    if (v->counts) { /* crops collected, at the track's right end */
      snprintf(buf, sizeof buf, "%d", v->counts[i]);
      draw_text(r, text, track.x + track.w - 4 - text_width(text, buf), text_y, buf, 0xffffff);
    }
  }
}

/* The status text, one or more '\n'-separated lines, at the bottom. */
static void draw_status(overlay *ov, const char *status, int out_w, int out_h) {
  const glyph_atlas *small = &ov->atlas[FACE_SMALL];
  int lines = 1;
  for (const char *c = status; *c; c++) lines += *c == '\n';
  int h = lines * small->height + 6;
  fill(ov->renderer, (SDL_Rect){0, out_h - h, out_w, h}, 0x000000, 170);
  char line[256];
  int y = out_h - h + 3;
  for (const char *s = status; *s;) {
    size_t n = strcspn(s, "\n");
    if (n >= sizeof line) n = sizeof line - 1;
    memcpy(line, s, n);
    line[n] = '\0';
    draw_text(ov->renderer, small, MARGIN, y, line, 0xd0d0d0);
    y += small->height;
    s += strcspn(s, "\n");
    if (*s) s++;
  }
}

void overlay_draw(overlay *ov, const overlay_view *v, int out_w, int out_h) {
  SDL_Renderer *r = ov->renderer;
  if (v->dim) fill(r, (SDL_Rect){0, 0, out_w, out_h}, 0x000000, 150);
  if (v->show_crop) draw_outline(r, v->crop, OVERLAY_CROP_THICKNESS, OVERLAY_CROP_RGB);
  for (int i = 0; i < v->num_faces && i < OVERLAY_MAX_FACES; i++) {
    int sel = v->num_faces > 1 && i == v->selected;
    draw_outline(r, v->faces[i], sel ? OVERLAY_SELECTED_THICKNESS : OVERLAY_CROP_THICKNESS,
                 v->flash && i == v->selected ? OVERLAY_FLASH_RGB : OVERLAY_FACE_RGB);
    if (v->face_text[i]) draw_caption(ov, v->faces[i], v->face_text[i]);
  }
  if (v->num_classes > 0) draw_panel(ov, v, out_w, out_h);
  if (v->status) draw_status(ov, v->status, out_w, out_h);
  if (v->banner) {
    const glyph_atlas *big = &ov->atlas[FACE_LABEL];
    int w = text_width(big, v->banner) + 2 * PAD;
    SDL_Rect box = {(out_w - w) / 2, (out_h - big->height) / 2 - PAD, w, big->height + 2 * PAD};
    fill(r, box, 0x000000, 190);
    draw_text(r, big, box.x + PAD, box.y + PAD, v->banner, 0xff6b5b);
  }
}
