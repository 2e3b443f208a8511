/* font: finds and opens the one typeface emocam draws with (DejaVu Sans, from
 * the Debian package fonts-dejavu-core), for the PNG reports and the live
 * window alike, so both look the same and fail the same way when it is absent.
 */
#ifndef APP_FONT_H
#define APP_FONT_H

#include <SDL_ttf.h>
#include <stddef.h>

/* Standard install paths of fonts-dejavu-core. */
#define FONT_DEFAULT_PATH "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
#define FONT_DEFAULT_BOLD_PATH "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

/* Opens DejaVu Sans (bold != 0: DejaVu Sans Bold) at point_size (1..500).
 * Overrides: the environment variable EMOCAM_FONT names a .ttf file used
 * instead of the regular face; EMOCAM_FONT_BOLD instead of the bold face. When
 * only EMOCAM_FONT is set, bold requests open that file with SDL_ttf's
 * synthetic bold style.
 * Returns the font, or NULL with err filled: the path tried and, when it is
 * the standard path, the package to install.
 * Each successful open takes one reference on SDL_ttf (TTF_Init, which is
 * reference counted since SDL_ttf 2.0.18) and font_close gives it back, so
 * callers never call TTF_Init/TTF_Quit themselves.
 * Threads: SDL_ttf (and so these functions and every use of the font) must be
 * used from one thread at a time; the reports and the live window each keep
 * to the thread that opened the font. */
TTF_Font *font_open(int point_size, int bold, char *err, size_t errlen);

/* Closes a font from font_open and releases its SDL_ttf reference.
 * Accepts NULL. Same thread rule as font_open. */
void font_close(TTF_Font *font);

#endif
