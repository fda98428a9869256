/* procgate.h - the one owner of the process-wide concerns every layer
 * shares: fork (one pthread_atfork, and the order in which every lock of
 * the process is taken around it) and the gate around the dynamic loader.
 */
#ifndef MP_PROCGATE_H
#define MP_PROCGATE_H

/* Fork participants, in the order their prepare handlers run (locks taken
 * top to bottom); parent and child handlers run in the reverse order.
 * This is the process's lock order: a thread holding one of these may take
 * only those below it.  Ranks without a prepare handler only renew state
 * in the child.
 *
 *   MP_FORK_CHECKS     child: leak checks while running start anew (the
 *                      scan gate, the checker thread: longrun.c), last
 *   MP_FORK_PROCESS    child: the process's own pid (preload.c)
 *   MP_FORK_REGISTRY   child: the thread registry, renewed (threads.c)
 *   MP_FORK_REPORT     child: the report lock, renewed (report.c); never
 *                      held across fork: its holder may wait for the fork
 *   MP_FORK_SYMBOLIZE  the symbolizer's lock (symbolize.c)
 *   MP_FORK_LOADER     the loader gate below: no capture or symbolization
 *                      is inside the loader while the process forks
 *   MP_FORK_UNWIND     the fast walker's rule table (unwind.c)
 *   MP_FORK_QUARANTINE the quarantine shards
 *   MP_FORK_DEPOT      the stack depot's writer lock
 *   MP_FORK_SAMPLE     sampled mode's slot list (sampleslots.c)
 *   MP_FORK_CLASSES    every (arena, class) lock, arena by arena
 *   MP_FORK_LARGE      the large-block table
 *   MP_FORK_CUSTOM     the program's described pools and blocks (custom.c)
 *   MP_FORK_VM         the anonymous-mapping registry
 *
 * Not fork participants: the leak-scan snapshot lock and the thread
 * registry's lock, which are taken only by the exit report (after the
 * classes, large and vm locks, block.h) in a process that no longer forks
 * on our account. */
enum mp_fork_rank {
	MP_FORK_CHECKS,
	MP_FORK_PROCESS,
	MP_FORK_REGISTRY,
	MP_FORK_REPORT,
	MP_FORK_SYMBOLIZE,
	MP_FORK_LOADER,
	MP_FORK_UNWIND,
	MP_FORK_QUARANTINE,
	MP_FORK_DEPOT,
	MP_FORK_SAMPLE,
	MP_FORK_CLASSES,
	MP_FORK_LARGE,
	MP_FORK_CUSTOM,
	MP_FORK_VM,
	MP_FORK_RANKS
};

/* Register the handlers of one rank (any may be NULL); a rank registered
 * again replaces its handlers.  The first call also makes the process's
 * one pthread_atfork (below), which may allocate (under the reentrancy
 * guard); every later call is allocation-free. */
void _mp_procgate_on_fork(enum mp_fork_rank rank, void (*prepare)(void),
			  void (*parent)(void), void (*child)(void));

/* The single pthread_atfork registration (idempotent; may allocate, and
 * takes the reentrancy guard for it). */
void _mp_procgate_init(void);

/* The loader gate, around everything that may take the dynamic loader's
 * lock or read the module set: libunwind, the fast walker's rule
 * derivation, symbolization, dladdr.  glibc does not reset the loader's
 * locks in a forked child, so a fork waits (at most MP_LOADER_DRAIN_NS)
 * for the threads inside to leave, and holds newcomers back until it is
 * done.  Counted, never a lock: the thread a fork would wait for may be
 * reporting from inside the loader.  Cancellation is off inside. */
void _mp_loader_gate_enter(void);
void _mp_loader_gate_leave(void);

/* The calling thread's stack, [lo, hi), as glibc knows it; 0 when it
 * cannot tell.  The one place that asks: pthread_getattr_np holds the
 * thread's own lock while it reallocs, so callers ask only where no
 * allocator call of that thread can be under way (thread start, the
 * library's constructor, the plain mp_* API; see unwind.c). */
#include <stdint.h>
int _mp_thread_stack_of_self(uintptr_t *lo, uintptr_t *hi);

/* The loader's dlopen/dlclose counters into c (c returned), or NULL if
 * this libc lacks them: the symbolizer and the fast walker drop what they
 * know of the module set when these move.  A loader call: inside the
 * gate above. */
const unsigned long long *_mp_loader_counters(unsigned long long c[2]);

#endif
