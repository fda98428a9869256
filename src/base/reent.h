/* reent.h - the per-thread reentrancy guard.
 *
 * libunwind, libdw, dlsym and stdio may call malloc while we are inside the
 * allocator.  Such calls see busy > 0 and are served untracked by the real
 * allocator (or the bootstrap arena before it is known), never recursing.
 * Initial-exec TLS: usable from the first malloc of process start-up.
 */
#ifndef MP_REENT_H
#define MP_REENT_H

struct mp_tls {
	int busy;
	int in_pool; /* inside alloc/free: a crash here may hold pool locks */
	int raw_stacks; /* report without symbolizing (died inside the pool) */
	int arena;      /* 1 + this thread's arena (slab.c), 0 = not chosen */
	int nocancel;   /* depth of _mp_nocancel_enter */
	int cancel_state; /* the program's cancel state, restored at depth 0 */
	int lsan_off;   /* __lsan_disable depth: new blocks are ignored */
	int deferred_sig; /* a termination signal that came inside the pool:
			   * reported when the pool is left (longrun.c) */
};

extern __thread struct mp_tls _mp_tls __attribute__((tls_model("initial-exec")));

static inline void _mp_enter(void) { _mp_tls.busy++; }
static inline void _mp_leave(void) { _mp_tls.busy--; }
static inline int _mp_busy(void) { return _mp_tls.busy; }

/* glibc's malloc is no cancellation point, so ours may not be either: a
 * deferred cancel acted upon inside libdw, libunwind, open() or write()
 * would unwind the thread out of the allocator with our locks held.
 * Around every such call (the unwinder gate, the symbolizer, reports),
 * cancellation is off; nesting is counted. */
void _mp_nocancel_enter(void);
void _mp_nocancel_leave(void);

/* A termination signal met while this thread was inside the pool or a
 * report is held (deferred_sig) until it leaves; then the hook libmpwrap.so
 * registered (longrun.c) reports it.  ret: a block being returned to the
 * program, a root until the program holds it. */
void _mp_reent_on_deferred(void (*hook)(void *ret));
void _mp_reent_run_deferred(void *ret);

#endif
