/* sampled.c - sampled mode's allocation, free and report (sample_rate=N).
 *
 * The shims (preload.c) forward every call to the C library as in
 * pass-through mode, except one allocation in N on average, which comes
 * here: its stack goes to the depot and the block to a guarded slot.  A
 * free whose pointer lies in the slots region comes here too, and only
 * then is any stack taken.  What is found is reported exactly as the
 * full mode reports it (verdicts to report.c); a fault on a slot is the
 * fatal-signal handler's (signals.c asks _mp_slots_fault).
 */
#define _GNU_SOURCE
#include "sampled.h"
#include "options.h"
#include "pool.h"
#include "procgate.h"
#include "real.h"
#include "reent.h"
#include "report.h"
#include "stack.h"

#include <stdatomic.h>
#include <string.h>

/* Stacks taken (allocations and frees of sampled blocks): verbosity=2
 * says how many, so a test can count that no unsampled call took one. */
static atomic_ulong stacks_taken;

static uint32_t stack_here(uintptr_t caller)
{
	atomic_fetch_add_explicit(&stacks_taken, 1, memory_order_relaxed);
	_mp_tls.in_pool++;
	uint32_t id = _mp_stack_here(caller);
	_mp_tls.in_pool--;
	return id;
}

int _mp_sampled_start(void)
{
	if (_mp_ensure_init() != 0)
		return -1;
	_mp_procgate_on_fork(MP_FORK_SAMPLE, _mp_slots_lock, _mp_slots_unlock,
			     _mp_slots_fork_child);
	if (_mp_slots_init((unsigned)_mp_opt.sample_slots,
			   (unsigned long)_mp_opt.sample_rate) != 0)
		return -1;
	/* the main thread's first countdown, drawn here as every thread's is
	 * at its first allocator call (which is then never sampled): that
	 * call was the constructor's own pthread_getattr_np, and with it
	 * gone the program's first malloc would be the one left out */
	_mp_slots_draw();
	return 0;
}

void *_mp_sampled_alloc(size_t n, size_t align, unsigned family,
			uintptr_t caller)
{
	/* the library's own allocations (stack capture, symbolizer) stay
	 * the C library's */
	if (_mp_busy() || !_mp_slots_lo)
		return NULL;
	return _mp_slots_take(n, align, stack_here(caller), family);
}

static void report_all(const struct mp_verdict *v, int nv)
{
	for (int i = 0; i < nv; i++)
		_mp_report_error(&v[i]);
}

/* Free p if it is a live block's start; else report why not.  1: freed. */
static int release(void *p, unsigned family, uintptr_t caller,
		   const char *where)
{
	uint32_t stack = stack_here(caller);
	struct mp_block b;
	struct mp_verdict v[3];
	int nv = 0, freed = 0;
	uintptr_t u = (uintptr_t)p;
	if (!_mp_slots_block(p, &b)) {
		v[nv++] = _mp_verdict(MP_E_INVALID_FREE, u, NULL, 0, 0, stack, where);
	} else if (u != b.user) {
		v[nv++] = _mp_verdict(MP_E_INVALID_FREE, u, &b, (long)(u - b.user),
				      0, stack, where);
	} else if (b.state != MP_ST_LIVE) {
		v[nv++] = _mp_verdict(MP_E_DOUBLE_FREE, u, &b, 0, 0, stack, where);
	} else {
		nv = _mp_slots_verdicts(&b, stack, where, v);
		if (b.family != family && _mp_opt.alloc_dealloc_mismatch)
			v[nv++] = _mp_verdict(MP_E_ALLOC_DEALLOC_MISMATCH, u, &b,
					      0, 0, stack, where);
		freed = _mp_slots_put(u, stack);
		if (!freed) /* another thread freed it meanwhile */
			v[nv++] = _mp_verdict(MP_E_DOUBLE_FREE, u, &b, 0, 0,
					      stack, where);
	}
	report_all(v, nv);
	return freed;
}

void _mp_sampled_free(void *p, unsigned family, uintptr_t caller,
		      const char *where)
{
	release(p, family, caller, where);
}

size_t _mp_sampled_usable_size(const void *p)
{
	struct mp_block b;
	if (!_mp_slots_block(p, &b) || b.state != MP_ST_LIVE ||
	    b.user != (uintptr_t)p)
		return 0;
	return b.size;
}

void *_mp_sampled_realloc(void *p, size_t n, uintptr_t caller)
{
	struct mp_block b;
	if (!_mp_slots_block(p, &b) || b.state != MP_ST_LIVE ||
	    b.user != (uintptr_t)p) {
		release(p, MP_FAM_MALLOC, caller, "realloc"); /* reports it */
		return NULL;
	}
	if (n == 0) { /* glibc's realloc(p, 0): frees p, returns NULL */
		release(p, MP_FAM_MALLOC, caller, "realloc");
		return NULL;
	}
	void *q = NULL;
	if (_mp_slots_tick())
		q = _mp_sampled_alloc(n, MP_ALIGN, MP_FAM_MALLOC, caller);
	if (!q)
		q = _mp_real_malloc(n);
	if (!q)
		return NULL;
	memcpy(q, p, b.size < n ? b.size : n);
	release(p, MP_FAM_MALLOC, caller, "realloc");
	return q;
}

/* ---- at exit ------------------------------------------------------------ */

static size_t live_at_exit, live_bytes_at_exit;

struct sweep {
	struct mp_verdict v[16];
	int nv;
	size_t live, live_bytes;
};

static void sweep_one(void *ctx, const struct mp_block *b)
{
	struct sweep *s = ctx;
	s->live++;
	s->live_bytes += b->size;
	if (s->nv <= 14) {
		int k = _mp_slots_verdicts(b, 0, "exit", s->v + s->nv);
		for (int i = 0; i < k; i++)
			s->v[s->nv + i].sweep = 1;
		s->nv += k;
	}
}

void _mp_sampled_sweep(int fatal)
{
	struct sweep s = { .nv = 0 };
	/* guards of blocks never freed (not at a fault: the dying thread
	 * may be half-way through writing one) */
	if (!fatal)
		_mp_slots_each_live(sweep_one, &s);
	report_all(s.v, s.nv);
	live_at_exit = s.live;
	live_bytes_at_exit = s.live_bytes;
}

void _mp_sampled_summary(size_t errors, size_t lost_blocks, int scanned)
{
	if (!_mp_opt.report_at_exit)
		return;
	if (errors || lost_blocks) {
		_mp_report_error_summary(errors);
	} else if (_mp_opt.verbosity >= 1) {
		struct mp_out o;
		_mp_report_begin(&o);
		_mp_report_prefix(&o);
		_mp_out_printf(&o, "mpwrap: sampled mode (sample_rate=%lu): no "
			       "errors%s in %lu sampled allocation%s\n",
			       _mp_slots_rate(), scanned ? ", no leaks" : "",
			       _mp_slots_sampled(),
			       _mp_slots_sampled() == 1 ? "" : "s");
		_mp_report_end(&o);
	}
	if (_mp_opt.verbosity >= 2) {
		struct mp_out o;
		_mp_report_begin(&o);
		_mp_report_prefix(&o);
		_mp_out_printf(&o, "mpwrap: sampled mode statistics: %lu sampled "
			       "allocations, %lu stacks taken, %zu sampled "
			       "blocks (%zu bytes) live at exit\n",
			       _mp_slots_sampled(),
			       atomic_load(&stacks_taken), live_at_exit,
			       live_bytes_at_exit);
		_mp_report_end(&o);
	}
}
