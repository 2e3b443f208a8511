/* overlay: what the live window draws over the video: the shown label and its
 * probability in large text (marked held while the smoothing keeps it and
 * another class leads), one bar per class in the class's colour with its
 * name and percentage, in the corner no face is near, the crop rectangle or each face's box with its
 * label above it, a status line and a banner
 * ("camera disconnected", "paused"). Text comes from glyph atlases built once,
 * so drawing a frame allocates nothing.
 */
#ifndef APP_OVERLAY_H
#define APP_OVERLAY_H

#include <SDL.h>
#include <stddef.h>

typedef struct overlay overlay;

#define OVERLAY_MAX_FACES 16
#define OVERLAY_MAX_CLASSES 64

/* What one frame of the overlay shows; every pointer is borrowed. */
typedef struct {
  int num_classes;               /* 0: no model result yet (no label, no bars) */
  const char *const *class_names; /* [num_classes], in the model's order */
  const float *probs;            /* [num_classes] shown (smoothed) probabilities */
  int label;                     /* class shown as the label and highlighted */
  int show_crop;                 /* outline crop (the centre square) */
  SDL_Rect crop;                 /* crop rectangle in window pixels */
  int num_faces;                 /* face boxes to outline, each with a caption */
  SDL_Rect faces[OVERLAY_MAX_FACES];          /* in window pixels */
  const char *face_text[OVERLAY_MAX_FACES];   /* caption above each box, or NULL */
  const float *face_probs[OVERLAY_MAX_FACES]; /* each face's shown probabilities
                                                 [num_classes], drawn as a strip
                                                 by its caption when there are
                                                 several faces; NULL: none */
  const char *status;            /* status lines ('\n'-separated), or NULL */
  const int *counts;             /* --collect: [num_classes] crops saved per class,
                                    shown with each bar's key number; NULL: none */
  int selected;                  /* faces[] index of the face the panel and the
                                    collect keys are about (outlined thicker) */
  int flash;                     /* a crop was just saved: flash the selected box */
  const char *banner;            /* centred message, or NULL */
  int dim;                       /* veil the picture (it is stale) */
} overlay_view;

/* Builds the glyph atlases (DejaVu Sans via font_open) as textures of
 * renderer, which is borrowed and must outlive the overlay. Returns 0, or -1
 * with err naming the font or the SDL failure. Main (SDL) thread only. */
int overlay_create(overlay **out, SDL_Renderer *renderer, char *err, size_t errlen);
void overlay_destroy(overlay *ov); /* NULL ok */

/* Draws view over whatever is in the renderer, for an out_w x out_h output.
 * Allocates nothing. */
void overlay_draw(overlay *ov, const overlay_view *view, int out_w, int out_h);

/* Layout as last drawn, for tests and hit checks: the panel's box (in the
 * corner no face is near: panel_place.h), the full-length track of class
 * i's bar (a bar of probability p fills round(p * track.w) pixels from
 * track.x; w 0 when the compact panel does not show class i) and the box of
 * the large label text, for an out_w x out_h output. Text and layout scale
 * with the output's height (1 up to 480 pixels). */
SDL_Rect overlay_panel_box(const overlay *ov);
SDL_Rect overlay_bar_track(const overlay *ov, int i, int out_w, int out_h);
SDL_Rect overlay_label_box(const overlay *ov, int out_w, int out_h);

/* Colours, so tests can find what was drawn. */
/* each class's bar: emotion_colour(name, index), as in the session report */
#define OVERLAY_TOP_RGB 0xffb627u  /* name and percentage of the shown label */
#define OVERLAY_HELD_RGB 0xa8a8a8u /* its percentage and "held" while another class leads */
#define OVERLAY_LEADER_RGB 0xffffffu /* the outline of that leader's bar */
#define OVERLAY_CROP_RGB 0x4cd97bu /* crop rectangle */
#define OVERLAY_CROP_THICKNESS 2
#define OVERLAY_FACE_RGB 0x3fc1ffu /* face boxes and their captions */
#define OVERLAY_FLASH_RGB 0xffffffu /* the selected box as a crop is saved */
#define OVERLAY_SELECTED_THICKNESS 4

#endif
