/* window: SDL window, renderer and streaming frame texture of the live view,
 * plus the PNG read-back that screenshots and tests use.
 */
#include "live/window.h"

#include "common/atomic_file.h"

#include <SDL_image.h>
#include <stdio.h>
#include <stdlib.h>

struct window {
  SDL_Window *win;
  SDL_Renderer *renderer;
  SDL_Texture *frame; /* streaming RGB24, frame_w x frame_h; NULL before the first */
  int frame_w, frame_h;
};

/* Frames scaled up by a whole factor to at least 480 rows (small frames
 * would make the overlay crowd the picture), at most 1920 columns. */
static void initial_size(int frame_w, int frame_h, int *ww, int *wh) {
  if (frame_w <= 0 || frame_h <= 0) frame_w = 640, frame_h = 480;
  int scale = (480 + frame_h - 1) / frame_h;
  while (scale > 1 && frame_w * scale > 1920) scale--;
  *ww = frame_w * scale;
  *wh = frame_h * scale;
}

int window_open(window **out, const char *title, int frame_w, int frame_h, char *err,
                size_t errlen) {
  *out = NULL;
  /* The live command catches SIGINT/SIGTERM itself (with threads to join);
   * SDL's handlers would turn them into SDL_QUIT behind its back. */
  SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
  SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "linear");
  if (SDL_Init(SDL_INIT_VIDEO) != 0) {
    snprintf(err, errlen, "cannot open a window: %s (no display? try --headless)",
             SDL_GetError());
    return -1;
  }
  window *w = calloc(1, sizeof *w);
  if (!w) {
    snprintf(err, errlen, "out of memory");
    SDL_Quit();
    return -1;
  }
  int ww, wh;
  initial_size(frame_w, frame_h, &ww, &wh);
  w->win = SDL_CreateWindow(title, SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, ww, wh,
                            SDL_WINDOW_RESIZABLE);
  if (!w->win) {
    snprintf(err, errlen, "cannot open a window: %s", SDL_GetError());
    window_close(w);
    return -1;
  }
  SDL_SetWindowMinimumSize(w->win, 320, 240);
  w->renderer = SDL_CreateRenderer(w->win, -1, 0);
  if (!w->renderer) {
    snprintf(err, errlen, "cannot create a renderer: %s", SDL_GetError());
    window_close(w);
    return -1;
  }
  *out = w;
  return 0;
}

void window_close(window *w) {
  if (!w) return;
  if (w->frame) SDL_DestroyTexture(w->frame);
  if (w->renderer) SDL_DestroyRenderer(w->renderer);
  if (w->win) SDL_DestroyWindow(w->win);
  free(w);
  SDL_Quit();
}

void window_size_for_frame(window *w, int frame_w, int frame_h) {
  int ww, wh;
  initial_size(frame_w, frame_h, &ww, &wh);
  SDL_SetWindowSize(w->win, ww, wh);
}

SDL_Renderer *window_renderer(window *w) { return w->renderer; }

SDL_Window *window_handle(window *w) { return w->win; }

const char *window_renderer_name(window *w) {
  SDL_RendererInfo info;
  return SDL_GetRendererInfo(w->renderer, &info) == 0 && info.name ? info.name : "unknown";
}

int window_set_frame(window *w, const uint8_t *rgb, int width, int height, char *err,
                     size_t errlen) {
  if (!w->frame || width != w->frame_w || height != w->frame_h) {
    if (w->frame) SDL_DestroyTexture(w->frame);
    w->frame = SDL_CreateTexture(w->renderer, SDL_PIXELFORMAT_RGB24,
                                 SDL_TEXTUREACCESS_STREAMING, width, height);
    if (!w->frame) {
      snprintf(err, errlen, "frame texture %dx%d: %s", width, height, SDL_GetError());
      return -1;
    }
    w->frame_w = width;
    w->frame_h = height;
  }
  if (SDL_UpdateTexture(w->frame, NULL, rgb, width * 3) != 0) {
    snprintf(err, errlen, "frame upload: %s", SDL_GetError());
    return -1;
  }
  return 0;
}

SDL_Rect window_fit(int src_w, int src_h, int out_w, int out_h) {
  if (src_w <= 0 || src_h <= 0) return (SDL_Rect){0, 0, out_w, out_h};
  /* Compare aspect ratios in integers: out_w/out_h vs src_w/src_h. */
  int w, h;
  if ((long long)out_w * src_h > (long long)out_h * src_w) {
    h = out_h;
    w = (int)((long long)out_h * src_w / src_h);
  } else {
    w = out_w;
    h = (int)((long long)out_w * src_h / src_w);
  }
  return (SDL_Rect){(out_w - w) / 2, (out_h - h) / 2, w, h};
}

SDL_Rect window_map_rect(capture_rect rect, int frame_w, int frame_h, SDL_Rect video,
                         int mirror) {
  if (frame_w <= 0 || frame_h <= 0) return (SDL_Rect){0, 0, 0, 0};
  if (mirror) rect.x = frame_w - rect.x - rect.w;
  int x0 = video.x + (int)((long long)rect.x * video.w / frame_w);
  int y0 = video.y + (int)((long long)rect.y * video.h / frame_h);
  int x1 = video.x + (int)((long long)(rect.x + rect.w) * video.w / frame_w);
  int y1 = video.y + (int)((long long)(rect.y + rect.h) * video.h / frame_h);
  return (SDL_Rect){x0, y0, x1 - x0, y1 - y0};
}

void window_draw_video(window *w, int mirror, SDL_Rect *video, int *out_w, int *out_h) {
  SDL_GetRendererOutputSize(w->renderer, out_w, out_h);
  SDL_SetRenderDrawBlendMode(w->renderer, SDL_BLENDMODE_NONE);
  SDL_SetRenderDrawColor(w->renderer, 0, 0, 0, 255);
  SDL_RenderClear(w->renderer);
  *video = window_fit(w->frame_w, w->frame_h, *out_w, *out_h);
  if (w->frame)
    SDL_RenderCopyEx(w->renderer, w->frame, NULL, video, 0.0, NULL,
                     mirror ? SDL_FLIP_HORIZONTAL : SDL_FLIP_NONE);
}

int window_save_png(window *w, const char *path, char *err, size_t errlen) {
  int ow, oh;
  SDL_GetRendererOutputSize(w->renderer, &ow, &oh);
  /* RGB, no alpha: a screenshot is opaque whatever the blending left. */
  SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, ow, oh, 24, SDL_PIXELFORMAT_RGB24);
  if (!s) {
    snprintf(err, errlen, "%s: %s", path, SDL_GetError());
    return -1;
  }
  int rc = -1;
  if (SDL_RenderReadPixels(w->renderer, NULL, SDL_PIXELFORMAT_RGB24, s->pixels, s->pitch) != 0)
    snprintf(err, errlen, "%s: cannot read the window back: %s", path, SDL_GetError());
  else
    rc = atomic_save_png(s, path, err, errlen);
  SDL_FreeSurface(s);
  return rc;
}

void window_present(window *w) { SDL_RenderPresent(w->renderer); }
