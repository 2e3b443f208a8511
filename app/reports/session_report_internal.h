/* session_report_internal: what session_report.c hands session_html.c
 * (private to the report). */
#ifndef APP_SESSION_REPORT_INTERNAL_H
#define APP_SESSION_REPORT_INTERNAL_H

#include <stdio.h>

#include "reports/session_report.h"
#include "reports/session_stats.h"
#include "reports/session_thumbs.h"

typedef struct {
  const session_report_inputs *in;
  const session_summary *s;
  const session_agreement *cmp;      /* NULL: no second model */
  const unsigned char *timeline_png; /* the timeline, to inline */
  size_t timeline_size;
  const session_thumb *thumbs;       /* [num_classes]: the total's peaks; png NULL: none */
  const char *thumbs_note;           /* why there are no thumbnails, or NULL */
} session_page;

/* session_html.c: report.html into f. Returns 0, or -1 on a write error. */
int session_html_write(FILE *f, const session_page *page);

/* The notes every output carries: how faces are told apart, frames
 * without a face. */
const char *session_identity_note(const session_summary *s);

#endif
