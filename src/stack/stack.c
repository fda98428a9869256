/* stack.c - capture allocation and free stacks.
 *
 * The public entry points pass their own return address down; frames are
 * kept from the one that returns there, which drops every frame of the pool
 * and the preload shims whatever the inlining.  The fast walker (unwind.c)
 * goes first; libunwind takes the stacks it declines (option unwinder).
 * Only program counters are stored (in the depot); symbolization waits for
 * report time.
 */
#define UNW_LOCAL_ONLY
#include "stack.h"
#include "depot.h"
#include "loaderprobe.h"
#include "options.h"
#include "reent.h"
#include "report.h"
#include "unwind.h"

#include <libunwind.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#define SKIP_MAX 16 /* pool frames we may have to step over */
#define MISMATCH_LINES 1000 /* compare mode: lines printed, the rest counted */

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
	_mp_unwind_fork_prepare();
}

void _mp_stack_fork_done(void)
{
	_mp_unwind_fork_done();
	atomic_store(&fork_pending, 0);
}

/* Enter unless a fork is under way (Dekker-style: announce, then look;
 * prepare sets the flag, then looks at the count).  Two global atomic
 * read-modify-writes: fine for libunwind and rule derivation, which is why
 * the fast walk stays outside. */
void _mp_stack_gate_enter(void)
{
	_mp_nocancel_enter(); /* libdw and libunwind open and read files */
	for (;;) {
		atomic_fetch_add(&in_flight, 1);
		if (!atomic_load(&fork_pending))
			return;
		atomic_fetch_sub(&in_flight, 1);
		while (atomic_load(&fork_pending))
			sched_yield();
	}
}

void _mp_stack_gate_leave(void)
{
	atomic_fetch_sub(&in_flight, 1);
	_mp_nocancel_leave();
}

/* noinline: the frames between here and caller_pc must not depend on the
 * mode, so that both unwinders skip the same ones in compare mode. */
__attribute__((noinline)) static unsigned capture_libunwind(uintptr_t *out,
							     unsigned max,
							     uintptr_t caller_pc)
{
	void *buf[MP_MAX_DEPTH + SKIP_MAX];
	if (!_mp_loader_ok()) { /* a forked child's loader is locked for good */
		out[0] = caller_pc;
		return max ? 1 : 0;
	}
	_mp_stack_gate_enter();
	int n = unw_backtrace(buf, (int)(max + SKIP_MAX));
	_mp_stack_gate_leave();
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

/* counted only where a global atomic costs nothing next to the work:
 * walks left to libunwind, by reason (-1 - MP_UW_*), and compare mode */
static atomic_ulong n_declined[MP_UW_NREASONS];
static atomic_ulong n_compared, n_mismatch;

static void declined(int why)
{
	atomic_fetch_add_explicit(&n_declined[-1 - why], 1, memory_order_relaxed);
}

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
	struct mp_out o;
	_mp_report_begin(&o);
	_mp_report_prefix(&o);
	_mp_out_printf(&o, "mpwrap: unwinder mismatch at frame %u: fast ", k);
	if (k < nf)
		_mp_out_printf(&o, "0x%lx", (unsigned long)fast[k]);
	else
		_mp_out_str(&o, "(end)");
	_mp_out_str(&o, " libunwind ");
	if (k < nr)
		_mp_out_printf(&o, "0x%lx", (unsigned long)ref[k]);
	else
		_mp_out_str(&o, "(end)");
	_mp_out_printf(&o, " (%u and %u frames)\n", nf, nr);
	_mp_report_end(&o);
}

unsigned _mp_stack_capture(uintptr_t *out, unsigned max, uintptr_t caller_pc)
{
	if (max == 0)
		return 0;
	if (max > MP_MAX_DEPTH)
		max = MP_MAX_DEPTH;
	long mode = _mp_opt.unwinder;
	if (mode == 1) {
		int n = _mp_unwind_fast(out, max, caller_pc);
		if (n > 0)
			return (unsigned)n;
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

/* "N left to libunwind (a outside the thread's stack, b no usable rule, ...)" */
static void print_declined(struct mp_out *o)
{
	static const char *const why[MP_UW_NREASONS] = {
		"outside the thread's stack", "no usable rule", "bad frame",
		"entry frame not found"
	};
	unsigned long total = 0;
	for (int i = 0; i < MP_UW_NREASONS; i++)
		total += atomic_load(&n_declined[i]);
	_mp_out_printf(o, "%lu left to libunwind", total);
	const char *sep = " (";
	for (int i = 0; i < MP_UW_NREASONS; i++) {
		unsigned long k = atomic_load(&n_declined[i]);
		if (k) {
			_mp_out_printf(o, "%s%lu %s", sep, k, why[i]);
			sep = ", ";
		}
	}
	_mp_out_str(o, total ? ")" : "");
}

void _mp_stack_exit_note(void)
{
	struct mp_out o;
	if (_mp_opt.unwinder == 2) {
		unsigned long nm = atomic_load(&n_mismatch);
		_mp_report_begin(&o);
		_mp_report_prefix(&o);
		_mp_out_printf(&o, "mpwrap: unwinder compare: %lu captures, %lu mismatches, ",
			       atomic_load(&n_compared), nm);
		print_declined(&o);
		_mp_out_str(&o, nm > MISMATCH_LINES ? "; mismatches past the first "
					"1000 not listed\n" : "\n");
		_mp_report_end(&o);
	}
	if (_mp_opt.verbosity >= 2 && _mp_opt.unwinder == 1) {
		struct mp_unwind_stats st;
		_mp_enter();
		_mp_unwind_stats(&st);
		_mp_leave();
		_mp_report_begin(&o);
		_mp_report_prefix(&o);
		_mp_out_printf(&o, "mpwrap: unwinder: %lu pcs cached (%lu without a "
			       "usable rule), %lu rules derived, %lu flushes%s; ",
			       st.rules + st.unusable, st.unusable, st.derived,
			       st.flushes, st.full ? ", table full" : "");
		print_declined(&o);
		_mp_out_str(&o, "\n");
		_mp_report_end(&o);
	}
}
