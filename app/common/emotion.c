/* emotion: see emotion.h. The colours are readable on the window's dark
 * panel and on the report's white page, and tell apart the pairs a reader
 * compares most (sad and neutral, fear and surprise). */
#include "common/emotion.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const struct {
  const char *name, *canonical;
  uint32_t rgb;
} known[] = {
    {"angry", "angry", 0xe24a3b},       {"anger", "angry", 0xe24a3b},
    {"disgust", "disgust", 0x5aa33f},   {"disgusted", "disgust", 0x5aa33f},
    {"fear", "fear", 0x9b59b6},         {"fearful", "fear", 0x9b59b6},
    {"happy", "happy", 0xf2c12e},       {"happiness", "happy", 0xf2c12e},
    {"neutral", "neutral", 0x9aa5ab},   {"neutrality", "neutral", 0x9aa5ab},
    {"sad", "sad", 0x3b82d6},           {"sadness", "sad", 0x3b82d6},
    {"surprise", "surprise", 0x1fb5a5}, {"surprised", "surprise", 0x1fb5a5},
    {"contempt", "contempt", 0xe67e22},
};

/* Matplotlib's tab10, for classes without an emotion's name */
static const uint32_t palette[] = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
                                   0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf};

static int find(const char *name) {
  char low[64];
  size_t n = 0;
  for (; name && name[n] && n + 1 < sizeof low; n++) low[n] = (char)tolower((unsigned char)name[n]);
  low[n] = '\0';
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
    if (!strcmp(known[i].name, low)) return (int)i;
  return -1;
}

uint32_t emotion_colour(const char *name, int index) {
  int i = find(name);
  if (i >= 0) return known[i].rgb;
  int n = (int)(sizeof palette / sizeof palette[0]);
  return palette[((index % n) + n) % n];
}

const char *emotion_canonical(const char *name, char *buf, size_t len) {
  int i = find(name);
  if (i >= 0) {
    snprintf(buf, len, "%s", known[i].canonical);
    return buf;
  }
  size_t n = 0;
  for (; name && name[n] && n + 1 < len; n++) buf[n] = (char)tolower((unsigned char)name[n]);
  if (len) buf[n < len ? n : len - 1] = '\0';
  return buf;
}
