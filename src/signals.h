/* signals.h - report what is known when the program dies of a signal. */
#ifndef MP_SIGNALS_H
#define MP_SIGNALS_H

/* Install the fatal-signal handlers (SIGSEGV, SIGBUS, SIGFPE, SIGILL,
 * SIGABRT) unless the program already has its own. */
void _mp_signals_install(void);

/* abort_on_error: one line saying so, then abort(); the handler then only
 * lets SIGABRT kill the process (the report is written already). */
__attribute__((noreturn)) void _mp_signals_abort(void);

/* Die of sig now, as a sent signal is delivered: the default action,
 * unblocked, with the original siginfo.  Never returns. */
#include <signal.h>
__attribute__((noreturn)) void _mp_signals_die_of(int sig, const siginfo_t *si);

#endif
