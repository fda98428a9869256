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
};

extern __thread struct mp_tls _mp_tls __attribute__((tls_model("initial-exec")));

static inline void _mp_enter(void) { _mp_tls.busy++; }
static inline void _mp_leave(void) { _mp_tls.busy--; }
static inline int _mp_busy(void) { return _mp_tls.busy; }

#endif
