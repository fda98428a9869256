/* passthru.h - whether this process image is checked at all.
 *
 * Decided once, at the first allocator call (before any block is served),
 * so no pointer ever crosses between the pool and the C library's
 * allocator: a set-user-ID program (AT_SECURE), and with
 * system_passthrough=1 a system program, pass every call through.  A fork
 * inherits the decision; an exec makes it again for the new image. */
#ifndef MP_PASSTHRU_H
#define MP_PASSTHRU_H

#include <stdatomic.h>
#include <stddef.h>

/* The decision: -1 not made yet, 0 checked, 1 AT_SECURE, 2 system program,
 * 3 sampled.  Read inline by every shim (one load; the out-of-line calls
 * were two per malloc), made by _mp_passthru_decide at the first call. */
#define MP_PT_SAMPLED 3
extern atomic_int _mp_passthru_mode;
int _mp_passthru_decide(void);

static inline int _mp_passthru_get(void)
{
	int m = atomic_load_explicit(&_mp_passthru_mode, memory_order_acquire);
	return __builtin_expect(m < 0, 0) ? _mp_passthru_decide() : m;
}

/* Nonzero: every shim forwards to the real allocator, nothing is tracked,
 * reported or written (except the passthrough_path line, preload.c). */
static inline int _mp_passthrough(void)
{
	return _mp_passthru_get() != 0;
}

/* Nonzero when the pass-through is system_passthrough's (not AT_SECURE's). */
int _mp_passthrough_system(void);

/* Nonzero in sampled mode (sample_rate=N, N > 0): the shims forward as
 * in pass-through, but one allocation in N goes to a guarded slot
 * (detect/sampled.c).  _mp_passthrough() is nonzero then too. */
static inline int _mp_passthrough_sampled(void)
{
	return _mp_passthru_get() == MP_PT_SAMPLED;
}

/* The decision as the shims' fast path reads it: one relaxed load, no
 * call (sampled mode's unsampled malloc and free go straight to the C
 * library).  -1 until the first allocator call decides it. */
/* the shims' fast path: sampled mode already decided (-1, undecided,
 * is not sampled: the slow path decides) */
static inline int _mp_passthrough_sampled_fast(void)
{
	return atomic_load_explicit(&_mp_passthru_mode, memory_order_relaxed) ==
	       MP_PT_SAMPLED;
}

/* The executable's path (from /proc/self/exe) read by the decision, "" if
 * unknown or AT_SECURE. */
const char *_mp_passthrough_exe(void);

/* Exposed for the unit test: is this executable path one system_passthrough
 * leaves unchecked (a system directory, and no interpreter)? */
int _mp_passthrough_is_system(const char *exe);

#endif
