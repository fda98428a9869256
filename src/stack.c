/* stack.c - capture allocation and free stacks with libunwind.
 *
 * The public entry points pass their own return address down; frames are
 * kept from the one that returns there, which drops every frame of the pool
 * and the preload shims whatever the inlining.  Only program counters are
 * stored (in the depot); symbolization waits for report time.
 */
#define UNW_LOCAL_ONLY
#include "stack.h"
#include "depot.h"
#include "options.h"
#include "reent.h"

#include <libunwind.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#define SKIP_MAX 16 /* pool frames we may have to step over */

void _mp_stack_init(void)
{
	unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
}

static atomic_int in_flight, fork_pending;

void _mp_stack_fork_prepare(void)
{
	atomic_store(&fork_pending, 1);
	struct timespec nap = { 0, 100000 }; /* 0.1 ms, at most 1000 times */
	for (int i = 0; i < 1000 && atomic_load(&in_flight); i++)
		nanosleep(&nap, NULL);
}

void _mp_stack_fork_done(void)
{
	atomic_store(&fork_pending, 0);
}

/* Enter a capture unless a fork is under way (Dekker-style: announce, then
 * look; prepare sets the flag, then looks at the count). */
static void capture_enter(void)
{
	for (;;) {
		atomic_fetch_add(&in_flight, 1);
		if (!atomic_load(&fork_pending))
			return;
		atomic_fetch_sub(&in_flight, 1);
		while (atomic_load(&fork_pending))
			sched_yield();
	}
}

unsigned _mp_stack_capture(uintptr_t *out, unsigned max, uintptr_t caller_pc)
{
	void *buf[MP_MAX_DEPTH + SKIP_MAX];
	if (max == 0)
		return 0;
	if (max > MP_MAX_DEPTH)
		max = MP_MAX_DEPTH;
	capture_enter();
	int n = unw_backtrace(buf, (int)(max + SKIP_MAX));
	atomic_fetch_sub(&in_flight, 1);
	int start = -1;
	for (int i = 0; i < n && i < SKIP_MAX; i++)
		if ((uintptr_t)buf[i] == caller_pc) {
			start = i;
			break;
		}
	if (start < 0) {
		/* the unwinder lost its way inside the pool: the caller's pc
		 * is still exact, keep that one frame */
		out[0] = caller_pc;
		return 1;
	}
	unsigned k = (unsigned)(n - start);
	if (k > max)
		k = max;
	for (unsigned i = 0; i < k; i++)
		out[i] = (uintptr_t)buf[start + (int)i];
	return k;
}

uint32_t _mp_stack_here(uintptr_t caller_pc)
{
	uintptr_t pcs[MP_MAX_DEPTH];
	unsigned depth = (unsigned)_mp_opt.stack_depth;
	if (depth == 0 || caller_pc == 0) /* 0: not called by the program */
		return 0;
	_mp_enter();
	unsigned n = _mp_stack_capture(pcs, depth, caller_pc);
	_mp_leave();
	return _mp_depot_put(pcs, n);
}
