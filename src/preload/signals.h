/* signals.h - report what is known when the program dies of a signal. */
#ifndef MP_SIGNALS_H
#define MP_SIGNALS_H

/* Install the fatal-signal handlers (SIGSEGV, SIGBUS, SIGFPE, SIGILL,
 * SIGABRT) unless the program already has its own. */
void _mp_signals_install(void);

#endif
