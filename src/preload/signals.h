/* signals.h - report what is known when the program dies of a signal. */
#ifndef MP_SIGNALS_H
#define MP_SIGNALS_H

#include <signal.h>

/* Install the fatal-signal handlers (SIGSEGV, SIGBUS, SIGFPE, SIGILL,
 * SIGABRT) unless the program already has its own, through real (the C
 * library's sigaction: a program's handler put back through our shim
 * would be wrapped).  From _mp_longrun_install, with those signals
 * blocked. */
void _mp_signals_install(int (*real)(int, const struct sigaction *,
				     struct sigaction *));
/* Add those signals to *set. */
void _mp_signals_add_fatal(sigset_t *set);

/* Die of sig now, as a sent signal is delivered: the default action,
 * unblocked, with the original siginfo.  Never returns. */
__attribute__((noreturn)) void _mp_signals_die_of(int sig, const siginfo_t *si);

#endif
