/* overlay: the live window's label, bars, face boxes and captions, crop
 * outline, status line and banner. The panel (label and bars) takes the
 * corner no face is near (panel_place.h); everything is sized to the
 * window's output, from glyph atlases made when that size changes.
 */
#include "live/overlay.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/emotion.h"
#include "live/overlay_text.h"
#include "live/panel_place.h"

enum { FACE_LABEL, FACE_TEXT, FACE_SMALL, FACE_COUNT };
static const struct {
  int points, bold;
} faces[FACE_COUNT] = {{34, 1}, {15, 0}, {12, 0}};

/* Sizes at a 480-pixel-high output; others scale with the height. */
enum { MARGIN = 10, PAD = 10, PANEL_W = 310, ROW_GAP = 6, BAR_GAP = 8, FACE_GAP = 12,
       STRIP_H = 6 };
#define COMPACT_ROWS 3         /* the panel when no corner is free at full size */
#define CROWDED_ALPHA 0.45f    /* its opacity when even that covers a face */

struct overlay {
  SDL_Renderer *renderer; /* borrowed */
  glyph_atlas atlas[FACE_COUNT];
  float scale;    /* of the atlases and the layout: the output's height / 480 */
  int name_w;     /* width of the class-name column */
  int pct_w;      /* width of the percentage column */
  /* the panel as last laid out */
  int corner;     /* panel_place's corner */
  SDL_Rect panel;
  int rows;       /* bar rows shown */
  int row_class[OVERLAY_MAX_CLASSES]; /* class of each row */
  float alpha;    /* 1, or CROWDED_ALPHA */
  int status_top; /* the status line is at the top: a face is at the bottom */
};

/* A layout length at the overlay's scale. */
static int S(const overlay *ov, int px) { return (int)lroundf((float)px * ov->scale); }

static void fill(SDL_Renderer *r, SDL_Rect box, Uint32 rgb, Uint8 alpha) {
  SDL_SetRenderDrawBlendMode(r, alpha == 255 ? SDL_BLENDMODE_NONE : SDL_BLENDMODE_BLEND);
  SDL_SetRenderDrawColor(r, (rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255, alpha);
  SDL_RenderFillRect(r, &box);
}

/* The text size for an out_h-pixel-high output: 1 up to 480, then in
 * quarter steps, so a resize rebuilds the atlases only now and then. */
static float scale_for(int out_h) {
  float s = floorf((float)out_h / 480.0f * 4.0f) / 4.0f;
  return s < 1.0f ? 1.0f : s > 3.0f ? 3.0f : s;
}

static int build_atlases(overlay *ov, float scale, char *err, size_t errlen) {
  glyph_atlas fresh[FACE_COUNT] = {0};
  for (int f = 0; f < FACE_COUNT; f++) {
    int points = (int)lroundf((float)faces[f].points * scale);
    if (atlas_build(&fresh[f], ov->renderer, points, faces[f].bold, err, errlen) != 0) {
      for (int g = 0; g < f; g++) atlas_free(&fresh[g]);
      return -1;
    }
  }
  for (int f = 0; f < FACE_COUNT; f++) {
    atlas_free(&ov->atlas[f]);
    ov->atlas[f] = fresh[f];
  }
  ov->scale = scale;
  /* room for a key number before the longest name of the bundled data sets
   * (--collect) */
  ov->name_w = text_width(&ov->atlas[FACE_TEXT], "9 happiness") + S(ov, BAR_GAP);
  ov->pct_w = text_width(&ov->atlas[FACE_TEXT], "100%");
  return 0;
}

int overlay_create(overlay **out, SDL_Renderer *renderer, char *err, size_t errlen) {
  *out = NULL;
  overlay *ov = calloc(1, sizeof *ov);
  if (!ov) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  ov->renderer = renderer;
  ov->alpha = 1.0f;
  if (build_atlases(ov, 1.0f, err, errlen) != 0) {
    overlay_destroy(ov);
    return -1;
  }
  *out = ov;
  return 0;
}

void overlay_destroy(overlay *ov) {
  if (!ov) return;
  for (int f = 0; f < FACE_COUNT; f++) atlas_free(&ov->atlas[f]);
  free(ov);
}

static int panel_width(const overlay *ov, int out_w) {
  int w = S(ov, PANEL_W), room = out_w - 2 * S(ov, MARGIN);
  return room < w ? room : w;
}

static int row_height(const overlay *ov) { return ov->atlas[FACE_TEXT].height + S(ov, ROW_GAP); }

static int panel_height(const overlay *ov, int rows) {
  return S(ov, PAD) / 2 + ov->atlas[FACE_LABEL].height + S(ov, PAD) / 2 + rows * row_height(ov) +
         S(ov, PAD) / 2;
}

static int status_height(const overlay *ov, const char *status) {
  if (!status) return 0;
  int lines = 1;
  for (const char *c = status; *c; c++) lines += *c == '\n';
  return lines * ov->atlas[FACE_SMALL].height + S(ov, 6);
}

SDL_Rect overlay_panel_box(const overlay *ov) { return ov->panel; }

SDL_Rect overlay_label_box(const overlay *ov, int out_w, int out_h) {
  (void)out_w, (void)out_h;
  return (SDL_Rect){ov->panel.x + S(ov, PAD), ov->panel.y + S(ov, PAD) / 2,
                    ov->panel.w - 2 * S(ov, PAD), ov->atlas[FACE_LABEL].height};
}

SDL_Rect overlay_bar_track(const overlay *ov, int i, int out_w, int out_h) {
  int row = -1;
  for (int r = 0; r < ov->rows; r++)
    if (ov->row_class[r] == i) row = r;
  if (row < 0) return (SDL_Rect){0, 0, 0, 0}; /* not shown (the compact panel) */
  SDL_Rect label = overlay_label_box(ov, out_w, out_h);
  int row_h = row_height(ov);
  int row_y = label.y + label.h + S(ov, PAD) / 2 + row * row_h;
  int x = ov->panel.x + S(ov, PAD) + ov->name_w;
  int w = ov->panel.w - 2 * S(ov, PAD) - ov->name_w - S(ov, BAR_GAP) - ov->pct_w;
  int bar_h = row_h - 2 * S(ov, ROW_GAP);
  return (SDL_Rect){x, row_y + (row_h - bar_h) / 2, w > 0 ? w : 0, bar_h};
}

static void draw_outline(SDL_Renderer *r, SDL_Rect box, int t, Uint32 rgb) {
  fill(r, (SDL_Rect){box.x, box.y, box.w, t}, rgb, 255);
  fill(r, (SDL_Rect){box.x, box.y + box.h - t, box.w, t}, rgb, 255);
  fill(r, (SDL_Rect){box.x, box.y, t, box.h}, rgb, 255);
  fill(r, (SDL_Rect){box.x + box.w - t, box.y, t, box.h}, rgb, 255);
}

/* A face's caption on a dark strip, and with probs its classes as one
 * stacked bar: above the box, below it when there is no room (the status
 * line's strip counts as none), inside it only when neither has room. */
static void draw_caption(overlay *ov, SDL_Rect box, const char *text, const float *probs,
                         const overlay_view *v, int out_h) {
  const glyph_atlas *a = &ov->atlas[FACE_TEXT];
  int strip = probs ? S(ov, STRIP_H) : 0, status = status_height(ov, v->status);
  int top = ov->status_top ? status : 0, bottom = out_h - (ov->status_top ? 0 : status);
  int w = text_width(a, text) + S(ov, 8), h = a->height + S(ov, 4);
  int y = box.y - h - strip;
  if (y < top) y = box.y + box.h + h + strip <= bottom ? box.y + box.h + strip : box.y;
  fill(ov->renderer, (SDL_Rect){box.x, y, w, h}, 0x000000, 170);
  draw_text(ov->renderer, a, box.x + S(ov, 4), y + S(ov, 2), text, OVERLAY_FACE_RGB);
  if (!probs) return;
  int sy = y < box.y ? y + h : y - strip, x = box.x, bw = box.w > w ? box.w : w;
  float acc = 0;
  for (int k = 0; k < v->num_classes; k++) {
    float p = probs[k] < 0 ? 0 : probs[k];
    int x1 = box.x + (int)lroundf((acc + p) * (float)bw);
    acc += p;
    if (x1 > x) fill(ov->renderer, (SDL_Rect){x, sy, x1 - x, strip}, emotion_colour(v->class_names[k], k), 255);
    x = x1;
  }
}

/* The status line goes to the top when a face comes into the bottom strip
 * (while none is in the top one), and back as soon as the bottom is free. */
static void place_status(overlay *ov, const overlay_view *v, int out_w, int out_h) {
  int h = status_height(ov, v->status), n = v->num_faces < OVERLAY_MAX_FACES ? v->num_faces : OVERLAY_MAX_FACES;
  long bottom = panel_overlap((SDL_Rect){0, out_h - h, out_w, h}, v->faces, n, 2);
  long top = panel_overlap((SDL_Rect){0, 0, out_w, h}, v->faces, n, 2);
  ov->status_top = bottom > 0 && (ov->status_top ? 1 : top == 0);
}

/* Lays the panel out for this frame: full size where a corner is free of
 * faces, else the compact panel (the top COMPACT_ROWS classes), else that
 * semi-transparent at the freest corner. */
static void place_panel(overlay *ov, const overlay_view *v, int out_w, int out_h) {
  int status = status_height(ov, v->status);
  panel_space sp = {panel_width(ov, out_w), 0, out_w, out_h, S(ov, MARGIN),
                    status, status, S(ov, FACE_GAP)}; /* clear of the status line where it may go */
  int n = v->num_faces < OVERLAY_MAX_FACES ? v->num_faces : OVERLAY_MAX_FACES;
  int rows = v->num_classes < OVERLAY_MAX_CLASSES ? v->num_classes : OVERLAY_MAX_CLASSES;
  long overlap = 0;
  sp.h = panel_height(ov, rows);
  int corner = panel_choose(&sp, ov->corner, v->faces, n, &overlap);
  if (overlap > 0 && rows > COMPACT_ROWS) {
    rows = COMPACT_ROWS;
    sp.h = panel_height(ov, rows);
    corner = panel_choose(&sp, ov->corner, v->faces, n, &overlap);
  }
  ov->corner = corner;
  ov->panel = panel_box_at(&sp, corner);
  ov->alpha = overlap > 0 ? CROWDED_ALPHA : 1.0f;
  ov->rows = rows;
  if (rows == v->num_classes) {
    for (int r = 0; r < rows; r++) ov->row_class[r] = r;
    return;
  }
  /* the compact panel: the shown label first, then the likeliest others */
  ov->row_class[0] = v->label;
  for (int r = 1; r < rows; r++) {
    int best = -1;
    for (int k = 0; k < v->num_classes; k++) {
      int used = 0;
      for (int q = 0; q < r; q++) used |= ov->row_class[q] == k;
      if (!used && (best < 0 || v->probs[k] > v->probs[best])) best = k;
    }
    ov->row_class[r] = best;
  }
}

/* The label, its probability and a bar per class row, in a translucent
 * panel. The label is the one shown (held by the smoothing's hysteresis):
 * its percentage is its own bar's. While another class leads, the label is
 * marked held and the leader's bar outlined, so the two never seem to
 * disagree. */
static void draw_panel(overlay *ov, const overlay_view *v, int out_w, int out_h) {
  SDL_Renderer *r = ov->renderer;
  const glyph_atlas *big = &ov->atlas[FACE_LABEL], *text = &ov->atlas[FACE_TEXT];
  Uint8 a = (Uint8)lroundf(255 * ov->alpha);
  fill(r, ov->panel, 0x000000, (Uint8)lroundf(150 * ov->alpha));
  SDL_Rect label = overlay_label_box(ov, out_w, out_h);
  char buf[64];
  int top = v->label, leader = 0;
  for (int k = 1; k < v->num_classes; k++)
    if (v->probs[k] > v->probs[leader]) leader = k;
  int held = v->probs[leader] > v->probs[top];
  int x = draw_text(r, big, label.x, label.y, v->class_names[top], 0xffffff);
  snprintf(buf, sizeof buf, "  %.0f%%", 100.0 * v->probs[top]);
  x = draw_text(r, big, x, label.y, buf, held ? OVERLAY_HELD_RGB : OVERLAY_TOP_RGB);
  if (held)
    draw_text(r, text, x + S(ov, 8), label.y + big->height - text->height - S(ov, 4), "held",
              OVERLAY_HELD_RGB);
  for (int row = 0; row < ov->rows; row++) {
    int i = ov->row_class[row];
    SDL_Rect track = overlay_bar_track(ov, i, out_w, out_h);
    int text_y = track.y + track.h / 2 - text->height / 2;
    char name[80];
    if (v->counts) snprintf(name, sizeof name, "%d %s", i + 1, v->class_names[i]);
    else snprintf(name, sizeof name, "%s", v->class_names[i]);
    draw_text(r, text, ov->panel.x + S(ov, PAD), text_y, name,
              i == top ? OVERLAY_TOP_RGB : 0xe8e8e8);
    if (held && i == leader)
      draw_outline(r, (SDL_Rect){track.x - 2, track.y - 2, track.w + 4, track.h + 4}, 1,
                   OVERLAY_LEADER_RGB);
    fill(r, track, 0x404040, (Uint8)lroundf(200 * ov->alpha));
    float p = v->probs[i] < 0 ? 0 : v->probs[i] > 1 ? 1 : v->probs[i];
    SDL_Rect bar = track;
    bar.w = (int)lroundf(p * (float)track.w);
    if (bar.w > 0) fill(r, bar, emotion_colour(v->class_names[i], i), a);
    snprintf(buf, sizeof buf, "%.0f%%", 100.0 * p);
    int pct_right = track.x + track.w + S(ov, BAR_GAP) + ov->pct_w;
    draw_text(r, text, pct_right - text_width(text, buf), text_y, buf, 0xe8e8e8);
    if (v->counts) { /* crops collected, at the track's right end */
      snprintf(buf, sizeof buf, "%d", v->counts[i]);
      draw_text(r, text, track.x + track.w - S(ov, 4) - text_width(text, buf), text_y, buf,
                0xffffff);
    }
  }
}

/* The status text, one or more '\n'-separated lines, at the bottom (or the
 * top: place_status). */
static void draw_status(overlay *ov, const char *status, int out_w, int out_h) {
  const glyph_atlas *small = &ov->atlas[FACE_SMALL];
  int h = status_height(ov, status), y0 = ov->status_top ? 0 : out_h - h;
  fill(ov->renderer, (SDL_Rect){0, y0, out_w, h}, 0x000000, 170);
  char line[256];
  int y = y0 + S(ov, 3);
  for (const char *s = status; *s;) {
    size_t n = strcspn(s, "\n");
    if (n >= sizeof line) n = sizeof line - 1;
    memcpy(line, s, n);
    line[n] = '\0';
    draw_text(ov->renderer, small, S(ov, MARGIN), y, line, 0xd0d0d0);
    y += small->height;
    s += strcspn(s, "\n");
    if (*s) s++;
  }
}

void overlay_draw(overlay *ov, const overlay_view *v, int out_w, int out_h) {
  SDL_Renderer *r = ov->renderer;
  float scale = scale_for(out_h);
  char err[256];
  if (scale != ov->scale && build_atlases(ov, scale, err, sizeof err) != 0)
    SDL_Log("emocam: overlay text at scale %.2f: %s (kept the old size)", scale, err);
  if (v->dim) fill(r, (SDL_Rect){0, 0, out_w, out_h}, 0x000000, 150);
  place_status(ov, v, out_w, out_h);
  if (v->show_crop) draw_outline(r, v->crop, OVERLAY_CROP_THICKNESS, OVERLAY_CROP_RGB);
  int several = v->num_faces > 1;
  for (int i = 0; i < v->num_faces && i < OVERLAY_MAX_FACES; i++) {
    int sel = several && i == v->selected;
    draw_outline(r, v->faces[i], sel ? OVERLAY_SELECTED_THICKNESS : OVERLAY_CROP_THICKNESS,
                 v->flash && i == v->selected ? OVERLAY_FLASH_RGB : OVERLAY_FACE_RGB);
    if (v->face_text[i])
      draw_caption(ov, v->faces[i], v->face_text[i],
                   several && v->num_classes > 0 ? v->face_probs[i] : NULL, v, out_h);
  }
  if (v->num_classes > 0) {
    place_panel(ov, v, out_w, out_h);
    draw_panel(ov, v, out_w, out_h);
  }
  if (v->status) draw_status(ov, v->status, out_w, out_h);
  if (v->banner) {
    const glyph_atlas *big = &ov->atlas[FACE_LABEL];
    int w = text_width(big, v->banner) + 2 * S(ov, PAD);
    SDL_Rect box = {(out_w - w) / 2, (out_h - big->height) / 2 - S(ov, PAD), w,
                    big->height + 2 * S(ov, PAD)};
    fill(r, box, 0x000000, 190);
    draw_text(r, big, box.x + S(ov, PAD), box.y + S(ov, PAD), v->banner, 0xff6b5b);
  }
}
