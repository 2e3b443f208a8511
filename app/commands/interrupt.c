/* interrupt: see interrupt.h.
 *
 * A handler that sets a flag the loops poll is the one way that works here:
 * libraries start threads of their own before main (OpenBLAS's pool), so the
 * signals cannot be blocked in every thread and waited for. The flag is the
 * only state a handler can reach, hence a file-scope variable, written by
 * the handler alone. */
#include "commands/interrupt.h"

#include <string.h>

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig) {
  (void)sig;
  stop_flag = 1;
}

const volatile sig_atomic_t *interrupt_catch(void) {
  stop_flag = 0;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  return &stop_flag;
}

int interrupt_requested(void) { return stop_flag != 0; }

void interrupt_release(void) {
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
}
