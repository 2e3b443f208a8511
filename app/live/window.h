/* window: the live window's SDL side: the window, its renderer, the frame as a
 * streaming texture scaled to the window with its aspect kept, and reading
 * the rendered window back as a PNG. Main (SDL) thread only.
 */
#ifndef APP_WINDOW_H
#define APP_WINDOW_H

#include <SDL.h>
#include <stddef.h>
#include <stdint.h>

#include "capture.h"

typedef struct window window;

/* Initialises SDL video, opens a resizable window sized for frames of
 * frame_w x frame_h (0 x 0: 640 x 480; scaled up by a whole factor to at
 * least 480 rows) and its renderer (SDL's
 * choice; SDL_RENDER_DRIVER=software forces the software one). SDL's own
 * signal handlers are disabled: the caller handles SIGINT/SIGTERM. Returns 0,
 * or -1 with err filled. Call once per process at a time. */
int window_open(window **out, const char *title, int frame_w, int frame_h, char *err,
                size_t errlen);
/* Destroys the window and shuts SDL down; NULL ok. */
void window_close(window *w);

/* Resizes the window to what window_open would pick for frame_w x frame_h
 * (used once the source's frame size is known). */
void window_size_for_frame(window *w, int frame_w, int frame_h);

SDL_Renderer *window_renderer(window *w); /* borrowed */
SDL_Window *window_handle(window *w);     /* borrowed */
const char *window_renderer_name(window *w); /* e.g. "opengl", "software" */

/* Uploads an RGB24 frame (stride width * 3). The texture is remade only when
 * the size changes. Returns 0 or -1 with err filled. */
int window_set_frame(window *w, const uint8_t *rgb, int width, int height, char *err,
                     size_t errlen);

/* Clears the renderer and draws the last frame fitted to the output (aspect
 * kept, centred), mirrored left-right if mirror. *video receives where the
 * frame went, *out_w x *out_h the output size, in pixels. */
void window_draw_video(window *w, int mirror, SDL_Rect *video, int *out_w, int *out_h);

/* Reads the rendered output back (call after drawing, before present) and
 * writes it to path as PNG. Returns 0 or -1 with err naming path. */
int window_save_png(window *w, const char *path, char *err, size_t errlen);

void window_present(window *w);

/* The largest rectangle of src_w:src_h aspect centred in out_w x out_h. */
SDL_Rect window_fit(int src_w, int src_h, int out_w, int out_h);

/* Where rect, in pixels of a frame_w x frame_h frame, appears on screen when
 * the frame is drawn into video (mirrored if mirror). */
SDL_Rect window_map_rect(capture_rect rect, int frame_w, int frame_h, SDL_Rect video,
                         int mirror);

#endif
