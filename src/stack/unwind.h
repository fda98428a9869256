/* unwind.h - the fast stack walker: CFI rules cached per pc (unwind.c).
 *
 * stack.c calls it first and falls back to libunwind when it declines. */
#ifndef MP_UNWIND_H
#define MP_UNWIND_H

#include <stdint.h>

/* Why a walk was left to the full unwinder (negative returns). */
enum {
	MP_UW_OFF_STACK = -1, /* sp outside this thread's stack (sigaltstack,
			       * coroutine), or the bounds are unknown */
	MP_UW_NO_RULE = -2,   /* a frame no cached rule can express (no CFI,
			       * CFA expression, signal frame), or table full */
	MP_UW_BAD_FRAME = -3, /* a CFA that does not move up the stack */
	MP_UW_NO_CALLER = -4, /* caller_pc not among our first frames */
};
#define MP_UW_NREASONS 4

/* Frames of ours (the pool, the shims) a walk may step over before it
 * reaches the caller's frame: both unwinders (unwind.c, stack.c) skip at
 * most this many, so they agree. */
#define MP_SKIP_MAX 16

/* Walk up from the calling frame with cached CFI rules, skip frames until
 * the one whose pc is caller_pc, keep up to max frames from there.  Returns
 * the number of frames stored in out (>= 1), or an MP_UW_* reason (< 0)
 * when this stack needs the full unwinder.  Reentrancy guard held; no lock
 * and no global atomic read-modify-write unless a pc is new to the table. */
struct mp_depot_memo;
int _mp_unwind_fast(uintptr_t *out, unsigned max, uintptr_t caller_pc);
/* The same, and *memo: the depot memo (depot.h) of the replayed call site
 * whose frames out now holds, cleared whenever they change; NULL when the
 * walk is not one the thread replays. */
int _mp_unwind_fast_memo(uintptr_t *out, unsigned max, uintptr_t caller_pc,
			 struct mp_depot_memo **memo);

/* This thread's stack bounds, given by whoever already knows them (the
 * thread-start shim); hi <= lo: unknown, walks go to libunwind. */
void _mp_unwind_thread_bounds(uintptr_t lo, uintptr_t hi);
/* Work out the calling thread's bounds now (reentrancy guard held, and not
 * from inside a malloc shim: see unwind.c), then stop asking lazily: the
 * preload's constructor does both, for the main thread. */
void _mp_unwind_prepare_thread(void);
/* The calling thread's stack bounds when already known (never asks). */
int _mp_unwind_known_bounds(uintptr_t *lo, uintptr_t *hi);
void _mp_unwind_no_lazy_bounds(void);

/* fork, called inside stack.c's gate (no capture may be deriving). */
void _mp_unwind_fork_prepare(void);
void _mp_unwind_fork_done(void);

/* Forget every cached rule: a module may have been unloaded and its
 * addresses reused.  Also done by itself when the loader's dlopen/dlclose
 * counters moved, checked whenever a new pc is derived. */
void _mp_unwind_flush(void);

struct mp_unwind_stats {
	unsigned long rules;       /* pcs with a usable rule in the table */
	unsigned long unusable;    /* pcs cached as "needs libunwind" */
	unsigned long derived;     /* rules derived from CFI (misses) */
	unsigned long flushes;     /* table emptied (module set changed) */
	int full;                  /* the table refused an insert */
};
void _mp_unwind_stats(struct mp_unwind_stats *st);

#endif
