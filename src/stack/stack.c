/* stack.c - capture allocation and free stacks.
 *
 * The public entry points pass their own return address down; frames are
 * kept from the one that returns there, which drops every frame of the pool
 * and the preload shims whatever the inlining.  The fast walker (unwind.c)
 * goes first; libunwind takes the stacks it declines (option unwinder).
 * Only program counters are stored (in the depot); symbolization waits for
 * report time.  When the fast walker replays a call site's last walk, the
 * depot id that walk got is kept beside the replay and reused: no hashing
 * or comparing of the frames (mchurn quarantine_mb=0: _mp_depot_put 5.7%
 * of the samples -> 2.8%).
 */
#define UNW_LOCAL_ONLY
#include "stack.h"
#include "depot.h"
#include "loaderprobe.h"
#include "options.h"
#include "procgate.h"
#include "reent.h"
#include "unwind.h"

#include "lazylibs.h"
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#define MISMATCH_LINES 1000 /* compare mode: lines printed, the rest counted */

void _mp_stack_init(void)
{
	/* the walker's rule table: inside the loader gate's fork wait */
	_mp_procgate_on_fork(MP_FORK_UNWIND, _mp_unwind_fork_prepare,
			     _mp_unwind_fork_done, _mp_unwind_fork_done);
}

/* noinline: the frames between here and caller_pc must not depend on the
 * mode, so that both unwinders skip the same ones in compare mode. */
__attribute__((noinline)) static unsigned capture_libunwind(uintptr_t *out,
							     unsigned max,
							     uintptr_t caller_pc)
{
	void *buf[MP_MAX_DEPTH + MP_SKIP_MAX];
	/* a forked child's loader is locked for good; libunwind missing */
	if (!_mp_loader_ok() || !_mp_lazylibs_ready(MP_LZ_UNWIND)) {
		out[0] = caller_pc;
		return max ? 1 : 0;
	}
	_mp_loader_gate_enter();
	int n = unw_backtrace(buf, (int)(max + MP_SKIP_MAX));
	_mp_loader_gate_leave();
	int start = -1;
	for (int i = 0; i < n && i < MP_SKIP_MAX; i++)
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

/* counted only where a global atomic costs nothing next to the work:
 * walks left to libunwind, by reason (-1 - MP_UW_*), and compare mode */
static atomic_ulong n_declined[MP_UW_NREASONS];
static atomic_ulong n_compared, n_mismatch;

static void declined(int why)
{
	atomic_fetch_add_explicit(&n_declined[-1 - why], 1, memory_order_relaxed);
}

static void (*_Atomic mismatch_hook)(unsigned, const uintptr_t *, unsigned,
				      const uintptr_t *, unsigned);

void _mp_stack_on_mismatch(void (*hook)(unsigned at, const uintptr_t *fast,
					unsigned nf, const uintptr_t *ref,
					unsigned nr))
{
	atomic_store(&mismatch_hook, hook);
}

/* Compare mode: the first MISMATCH_LINES differences go to the hook (the
 * report module words them); the rest are only counted. */
static void mismatch(const uintptr_t *fast, unsigned nf, const uintptr_t *ref,
		     unsigned nr)
{
	unsigned k = 0;
	while (k < nf && k < nr && fast[k] == ref[k])
		k++;
	if (k == nf && k == nr)
		return;
	if (atomic_fetch_add(&n_mismatch, 1) >= MISMATCH_LINES)
		return;
	void (*hook)(unsigned, const uintptr_t *, unsigned, const uintptr_t *,
		     unsigned) = atomic_load(&mismatch_hook);
	if (hook)
		hook(k, fast, nf, ref, nr);
}

/* *memo: see _mp_unwind_fast_memo (NULL unless the fast walker's replay
 * gave the frames) */
static inline __attribute__((always_inline)) unsigned
capture(uintptr_t *out, unsigned max, uintptr_t caller_pc,
	struct mp_depot_memo **memo)
{
	*memo = NULL;
	if (max == 0)
		return 0;
	if (max > MP_MAX_DEPTH)
		max = MP_MAX_DEPTH;
	if (max == 1) {
		/* the frame that returns to caller_pc is the first one every
		 * walk keeps: its pc is caller_pc, known without walking */
		out[0] = caller_pc;
		return 1;
	}
	long mode = _mp_opt.unwinder;
	if (__builtin_expect(!_mp_lazylibs_settled(), 0))
		_mp_lazylibs_need(MP_LZ_ALL); /* sampled mode's first stack loads */
	if (mode == 1) {
		int n = _mp_unwind_fast_memo(out, max, caller_pc, memo);
		if (n > 0)
			return (unsigned)n;
		*memo = NULL;
		declined(n);
		return capture_libunwind(out, max, caller_pc);
	}
	unsigned n = capture_libunwind(out, max, caller_pc);
	if (mode == 2) {
		/* libunwind's frames are the ones kept: the reference */
		uintptr_t fast[MP_MAX_DEPTH];
		int nf = _mp_unwind_fast(fast, max, caller_pc);
		atomic_fetch_add_explicit(&n_compared, 1, memory_order_relaxed);
		if (nf < 0)
			declined(nf);
		else
			mismatch(fast, (unsigned)nf, out, n);
	}
	return n;
}

unsigned _mp_stack_capture(uintptr_t *out, unsigned max, uintptr_t caller_pc)
{
	struct mp_depot_memo *memo;
	return capture(out, max, caller_pc, &memo);
}

/* inline in both entry points: the two calls were 5% of a malloc churn */
static inline __attribute__((always_inline)) uint32_t
stack_here(uintptr_t caller_pc, unsigned depth)
{
	uintptr_t pcs[MP_MAX_DEPTH];
	if (depth == 0 || caller_pc == 0) /* 0: not called by the program */
		return 0;
	struct mp_depot_memo *memo;
	_mp_enter();
	unsigned n = capture(pcs, depth, caller_pc, &memo);
	/* a replayed call site: its depot id, without hashing or comparing
	 * the frames; still inside the guard, so no other capture of this
	 * thread can renew the replay in between */
	uint32_t id = memo ? _mp_depot_put_memo(pcs, n, memo) : 0;
	_mp_leave();
	return memo ? id : _mp_depot_put(pcs, n);
}

uint32_t _mp_stack_here(uintptr_t caller_pc)
{
	return stack_here(caller_pc, (unsigned)_mp_opt.stack_depth);
}

uint32_t _mp_stack_here_free(uintptr_t caller_pc)
{
	long depth = _mp_opt.stack_depth, fd = _mp_opt.free_stack_depth;
	if (fd >= 0 && fd < depth)
		depth = fd;
	return stack_here(caller_pc, (unsigned)depth);
}

void _mp_stack_counts(struct mp_stack_counts *c)
{
	for (int i = 0; i < MP_UW_NREASONS; i++)
		c->declined[i] = atomic_load(&n_declined[i]);
	c->compared = atomic_load(&n_compared);
	c->mismatches = atomic_load(&n_mismatch);
	c->mismatch_lines = MISMATCH_LINES;
}
