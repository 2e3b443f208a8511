/* progress: what a training session shows on the terminal: the per-epoch
 * progress display of `emocam train` (a bar with images/s, ETA, running
 * loss and accuracy on a terminal; a few plain lines when stderr is not a
 * terminal: logs, CI), and the session's message and warning lines for
 * train and adapt. */
#ifndef APP_PROGRESS_H
#define APP_PROGRESS_H

typedef struct {
  int tty;            /* redraw one line in place */
  int epoch, epochs;  /* 1-based */
  double last_draw_s; /* throttles redraws */
  int next_quarter;   /* plain mode: next 25% mark to print */
} progress_bar;

void progress_init(progress_bar *bar, int tty);
void progress_begin(progress_bar *bar, int epoch, int epochs);
/* done of total images after elapsed seconds, with running loss/accuracy. */
void progress_update(progress_bar *bar, long done, long total, double elapsed_s, double loss,
                     double acc);
void progress_end(progress_bar *bar);

/* A training session's observer lines (train_observer.message, .warning):
 * messages to stdout, warnings to stderr as "emocam: warning: ...". */
void progress_print_line(void *user, const char *line);
void progress_warn_line(void *user, const char *line);

#endif
