/* assets: finds files shipped in assets/ (default model, architectures, demo
 * clip) from the build tree, the source tree or the install prefix.
 */
#ifndef APP_ASSETS_H
#define APP_ASSETS_H

#include <stddef.h>

/* Looks for `relative` (e.g. "fer2013.emo") next to the executable
 * (<exe dir>/assets, <exe dir>/../assets, <exe dir>/../share/emocam), in the
 * source tree's assets/ and in the install prefix. Returns 0 and the path in
 * out, or -1 with out holding the first place looked. */
int assets_find(const char *relative, char *out, size_t len);

#define ASSETS_DEFAULT_MODEL "fer2013.emo"
#define ASSETS_DEMO_CLIP "demo.mp4"

#endif
