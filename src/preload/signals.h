/* signals.h - report what is known when the program dies of a signal. */
#ifndef MP_SIGNALS_H
#define MP_SIGNALS_H

/* Install the fatal-signal handlers (SIGSEGV, SIGBUS, SIGFPE, SIGILL,
 * SIGABRT) unless the program already has its own. */
void _mp_signals_install(void);

/* Die of sig now, as a sent signal is delivered: the default action,
 * unblocked, with the original siginfo.  Never returns. */
#include <signal.h>
__attribute__((noreturn)) void _mp_signals_die_of(int sig, const siginfo_t *si);

#endif
