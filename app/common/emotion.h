/* emotion: one emotion whatever a model calls it. Its canonical name
 * (FER2013's: "happiness" and "Happy" are "happy"), so that two models'
 * classes can be compared, and its colour, the same in the live window's
 * bars and in the session report's timeline, so that a colour means one
 * emotion wherever the user sees it. Other class names keep their own name
 * and take a fixed palette by index. */
#ifndef APP_EMOTION_H
#define APP_EMOTION_H

#include <stddef.h>
#include <stdint.h>

/* 0xRRGGBB for class `index` named `name` */
uint32_t emotion_colour(const char *name, int index);

/* The canonical name of class `name` into buf (lower case; an emotion's
 * synonyms mapped to FER2013's word). Returns buf. */
const char *emotion_canonical(const char *name, char *buf, size_t len);

#endif
