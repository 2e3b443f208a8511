/* interrupt: Ctrl-C (SIGINT) and SIGTERM as a flag the commands poll, for
 * runs that end cleanly when asked (train and adapt stop their session,
 * the live loops finish their CSV). */
#ifndef APP_INTERRUPT_H
#define APP_INTERRUPT_H

#include <signal.h>

/* Installs the handler and clears the flag; returns the flag, set to 1 by
 * the first signal. */
const volatile sig_atomic_t *interrupt_catch(void);
/* 1 once a signal came after interrupt_catch */
int interrupt_requested(void);
/* The default handlers again (a second Ctrl-C then ends the program). */
void interrupt_release(void);

#endif
