/* progress: terminal progress bar and plain-text fallback, on stderr. */
#include "commands/progress.h"
#include "common/cli.h"

#include <stdio.h>

void progress_init(progress_bar *bar, int tty) {
  bar->tty = tty;
  bar->epoch = bar->epochs = 0;
  bar->last_draw_s = -1;
  bar->next_quarter = 1;
}

void progress_begin(progress_bar *bar, int epoch, int epochs) {
  bar->epoch = epoch;
  bar->epochs = epochs;
  bar->last_draw_s = -1;
  bar->next_quarter = 1;
}

void progress_update(progress_bar *bar, long done, long total, double elapsed_s, double loss,
                     double acc) {
  double rate = elapsed_s > 0 ? done / elapsed_s : 0;
  double eta = rate > 0 ? (total - done) / rate : 0;
  if (bar->tty) {
    /* Redraw at most 10 times a second, and always at the end. */
    if (done < total && bar->last_draw_s >= 0 && elapsed_s - bar->last_draw_s < 0.1) return;
    bar->last_draw_s = elapsed_s;
    enum { WIDTH = 28 };
    char cells[WIDTH + 1];
    int filled = total > 0 ? (int)((double)done / total * WIDTH) : 0;
    for (int i = 0; i < WIDTH; i++) cells[i] = i < filled ? '#' : '.';
    cells[WIDTH] = '\0';
    fprintf(stderr, "\repoch %d/%d [%s] %ld/%ld %4.0f img/s ETA %d:%02d loss %.4f acc %5.1f%% ",
            bar->epoch, bar->epochs, cells, done, total, rate, (int)eta / 60, (int)eta % 60, loss,
            100 * acc);
    fflush(stderr);
    return;
  }
  /* Plain lines at 25%, 50% and 75%: enough to see a long run move. */
  if (bar->next_quarter <= 3 && done * 4 >= (long)bar->next_quarter * total && done < total) {
    fprintf(stderr, "epoch %d/%d: %d%% %ld/%ld %.0f img/s ETA %d:%02d loss %.4f acc %.1f%%\n",
            bar->epoch, bar->epochs, bar->next_quarter * 25, done, total, rate, (int)eta / 60,
            (int)eta % 60, loss, 100 * acc);
    bar->next_quarter++;
  }
}

void progress_end(progress_bar *bar) {
  if (bar->tty) fputc('\n', stderr);
}

void progress_print_line(void *user, const char *line) {
  (void)user;
  printf("%s\n", line);
}

void progress_warn_line(void *user, const char *line) {
  (void)user;
  cli_warn("%s", line);
}
