/* longrun.h - leak checks while the program runs, and the report when it
 * is killed by a termination signal. */
#ifndef MP_LONGRUN_H
#define MP_LONGRUN_H

#include "mempool.h"

/* Install the termination handlers (SIGTERM, SIGPIPE, every signal at
 * their default disposition), signals.c's fatal-signal ones, the
 * leak_check_signal handler, and start
 * the checker thread when leak_check_signal or leak_check_interval asks
 * for one.  From the constructor, once. */
void _mp_longrun_install(void);

/* One classified leak check, reported as "leak check #N (trigger)".
 * checker: run on the checker thread (no root of its own); else the
 * caller's stack from its caller up is a root.  Fills *out (may be NULL).
 * 0, or -1 when no check ran (exiting, pool unusable). */
int _mp_longrun_check(const char *trigger, int checker,
		      struct mp_leak_counts *out);

/* A termination signal came while this thread was inside the pool or a
 * check: report it now that it left (pool.c, after in_pool drops to 0);
 * ret is the block the pool call is returning (a root), or NULL. */
void _mp_longrun_deferred(void *ret);

/* A signal handler of the program's was installed before the library
 * started (not counted): an EINTR may then be its signal's. */
int _mp_longrun_program_catches(void);
/* How many of the program's own handlers ran on the calling thread (each
 * one the program installs through sigaction or signal is counted). */
unsigned _mp_longrun_program_hits(void);

#endif
