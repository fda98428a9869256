/* exit.h - the end-of-process report (text and JSON) and exit status. */
#ifndef MP_EXIT_H
#define MP_EXIT_H

/* Classify live blocks, print the leak report, write the JSON report and,
 * when exitcode is set and something was found, _exit with it.  Runs once
 * per process (a forked child runs its own). */
void _mp_exit_report(void);
/* The same, run by __lsan_do_leak_check: it scans for leaks even with
 * leak_check_at_exit=0, as LSan's explicit check does. */
void _mp_exit_report_lsan(void);

/* The same from a fatal-signal handler: no exit-status override, and no
 * leak scan when `leaks` is 0 (the crash may hold pool locks). */
void _mp_fatal_report(int leaks);

/* A fatal signal is being reported: errors met from now on do not abort
 * (abort_on_error); the process dies of that signal. */
void _mp_exit_dying(void);

/* abort_on_error, after an error report: write the exit report (errors,
 * leaks, JSON) unless it is being written (it aborts at its end then),
 * then abort().  Registered with report.c (_mp_report_on_abort) when the
 * library starts; libmempool.a has no exit report and aborts at once. */
void _mp_abort_after_error(void);

/* This process is aborting on purpose after its report (abort_on_error):
 * the fatal-signal handler lets the SIGABRT kill it without a report. */
int _mp_exit_aborting(void);

/* A termination signal (longrun.c) came while this process writes its exit
 * report: it is kept (1 returned) and acted upon when the report is whole
 * and stdio flushed, as exit() would have: the process then dies of it.
 * 0: no exit report runs, the caller reports the death itself. */
#include <signal.h>
int _mp_exit_defer_term(int sig, const siginfo_t *si);
/* How to die of it (signals.c's _mp_signals_die_of, given by longrun.c:
 * signals.c calls into this file, not the other way round). */
void _mp_exit_on_term(void (*die)(int sig, const siginfo_t *si));

/* A leak check while the program runs (longrun.c): the text report, and
 * the JSON file with the check's number when json_path is set. */
struct mp_check_info;
struct mp_leak_set;
void _mp_exit_check_report(const struct mp_check_info *ci,
			   const struct mp_leak_set *ls);

#endif
