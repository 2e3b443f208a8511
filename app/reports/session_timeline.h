/* session_timeline: timeline.png of a session report: for each face drawn,
 * its smoothed probabilities as stacked areas over time (one colour per
 * class, emotion_colour's), the shown label as a strip under them, gaps where
 * the face was out of view, and time in mm:ss. Every pixel column averages
 * the rows that fall in it, so an hour draws as legibly as a minute (the
 * statistics are never down-sampled: session_stats.h). */
#ifndef APP_SESSION_TIMELINE_H
#define APP_SESSION_TIMELINE_H

#include <SDL.h>
#include <stddef.h>

#include "reports/session_stats.h"

/* panels: first the largest face in each frame (what the window's panel
 * follows, whichever face it is), then the faces longest in view */
#define SESSION_TIMELINE_MAX_PANELS 7

typedef struct {
  int width, height;
  double t0, t1;      /* the time the x axis spans */
  int npanels;
  int face[SESSION_TIMELINE_MAX_PANELS];      /* index into the summary's faces; -1: the
                                                 largest face of each frame */
  SDL_Rect plot[SESSION_TIMELINE_MAX_PANELS];  /* the stacked areas */
  SDL_Rect strip[SESSION_TIMELINE_MAX_PANELS]; /* the shown label */
} session_timeline_layout;

/* Where everything goes, for s (also for tests reading the PNG back). */
void session_timeline_layout_of(const session_summary *s, session_timeline_layout *L);
/* The pixel column of time t in a plot of L (clamped to it). */
int session_timeline_x(const session_timeline_layout *L, int panel, double t);

/* Draws s into path (atomically). Returns 0, or -1 with err filled. */
int session_timeline_png(const char *path, const session_summary *s, const char *title,
                         char *err, size_t errlen);

#endif
