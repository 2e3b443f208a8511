/* teach: the live window's adaptation job. T starts adapt_run (training/
 * adapt.h) on a background thread, on every crop collected so far; the
 * window polls its progress for the status line and, when it is done, loads
 * the personal model it wrote. Stopping it (q, Esc, Ctrl-C, closing the
 * window) ends the session after its current batch: nothing is written.
 */
#ifndef APP_LIVE_TEACH_H
#define APP_LIVE_TEACH_H

#include <stddef.h>

#include "training/adapt.h"

typedef enum { TEACH_RUNNING, TEACH_DONE, TEACH_FAILED, TEACH_STOPPED } teach_state;

typedef struct teach teach;

typedef struct {
  teach_state state;
  int epoch, epochs;     /* the epoch in progress, 1-based */
  double fraction;       /* of the whole job, 0..1 */
  adapt_result result;   /* TEACH_DONE */
  char message[512];     /* TEACH_FAILED: why */
} teach_status;

/* Starts adapting model_path (copied) on dir's crops into out_path, with
 * nn's current thread count. Returns 0, or -1 with err. */
int teach_start(teach **out, const char *model_path, const char *dir, const char *out_path,
                char *err, size_t errlen);
/* The job's state now. Any thread but the job's. */
void teach_poll(teach *t, teach_status *st);
/* Asks the job to stop (if running), joins it and frees it; NULL ok. */
void teach_destroy(teach *t);

#endif
