/* font: resolves the DejaVu Sans path (environment override or the Debian
 * standard path) and opens it with SDL_ttf, holding one TTF_Init reference per
 * open font so that opening and closing fonts in any order is balanced.
 */
#include "common/font.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Picks the file for the requested face. *synthetic_bold is set when the bold
 * face must be faked from a regular file (only EMOCAM_FONT given). *from_env
 * names the variable the path came from, or NULL for the standard path. */
static const char *font_path(int bold, int *synthetic_bold, const char **from_env) {
  const char *regular = getenv("EMOCAM_FONT");
  const char *boldf = getenv("EMOCAM_FONT_BOLD");
  *synthetic_bold = 0;
  *from_env = NULL;
  if (regular && !*regular)
    regular = NULL;
  if (boldf && !*boldf)
    boldf = NULL;
  if (!bold) {
    if (regular) {
      *from_env = "EMOCAM_FONT";
      return regular;
    }
    return FONT_DEFAULT_PATH;
  }
  if (boldf) {
    *from_env = "EMOCAM_FONT_BOLD";
    return boldf;
  }
  if (regular) {
    *from_env = "EMOCAM_FONT";
    *synthetic_bold = 1;
    return regular;
  }
  return FONT_DEFAULT_BOLD_PATH;
}

TTF_Font *font_open(int point_size, int bold, char *err, size_t errlen) {
  if (point_size < 1 || point_size > 500) {
    snprintf(err, errlen, "font size %d out of range, expected 1..500", point_size);
    return NULL;
  }
  int synthetic_bold;
  const char *env;
  const char *path = font_path(bold, &synthetic_bold, &env);

  /* Check the file first: SDL_ttf's own message for a missing file is
   * vague, and the fix (which package, which variable) is what users need. */
  if (access(path, R_OK) != 0) {
    int e = errno;
    if (env)
      snprintf(err, errlen, "font %s (from %s): %s", path, env, strerror(e));
    else
      snprintf(err, errlen,
               "font %s: %s: install the Debian package fonts-dejavu-core "
               "(or set EMOCAM_FONT to a .ttf file)",
               path, strerror(e));
    return NULL;
  }
  if (TTF_Init() != 0) {
    snprintf(err, errlen, "SDL_ttf initialisation failed: %s", TTF_GetError());
    return NULL;
  }
  TTF_Font *font = TTF_OpenFont(path, point_size);
  if (!font) {
    snprintf(err, errlen, "font %s%s%s: cannot open: %s", path, env ? " from " : "", env ? env : "",
             TTF_GetError());
    TTF_Quit();
    return NULL;
  }
  if (synthetic_bold)
    TTF_SetFontStyle(font, TTF_STYLE_BOLD);
  return font;
}

void font_close(TTF_Font *font) {
  if (!font)
    return;
  TTF_CloseFont(font);
  TTF_Quit();
}
