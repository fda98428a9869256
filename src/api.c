/* api.c - the public mp_* entry points, initialisation, statistics,
 * mp_destroy and fork handling.
 *
 * Each entry point passes its own return address down so stacks start at
 * the caller (frame #0 = the caller of mp_alloc).
 */
#define _GNU_SOURCE
#include "mempool.h"
#include "depot.h"
#include "guardpage.h"
#include "large.h"
#include "leaks.h"
#include "options.h"
#include "loaderprobe.h"
#include "pool.h"
#include "quarantine.h"
#include "real.h"
#include "reent.h"
#include "report.h"
#include "slab.h"
#include "stack.h"
#include "symbolize.h"
#include "vm.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CALLER ((uintptr_t)__builtin_return_address(0))
#define API __attribute__((visibility("default"), noinline))

/* libmpwrap.so's classified check (longrun.c); absent from libmempool.a */
extern int _mp_longrun_check(const char *trigger, int checker,
			     struct mp_leak_counts *out) __attribute__((weak));

API long mp_leak_check(struct mp_leak_counts *out)
{
	static atomic_ulong seq;
	struct mp_leak_counts c;
	memset(&c, 0, sizeof c);
	if (_mp_longrun_check) {
		if (_mp_longrun_check("mp_leak_check", 0, &c) != 0)
			return -1;
	} else {
		/* no thread registry nor roots here: every live block counts */
		struct mp_leak_set ls;
		if (_mp_ensure_init() != 0 || _mp_leaks_collect(&ls, 0) != 0)
			return -1;
		c.check = atomic_fetch_add(&seq, 1) + 1;
		c.definite_bytes = ls.total_bytes;
		c.definite_blocks = ls.total_blocks;
		if (_mp_opt.leak_kinds & MP_LEAK_DEFINITE)
			c.gated_blocks = ls.total_blocks;
		_mp_leaks_release(&ls);
		_mp_leaks_dump();
	}
	if (out)
		*out = c;
	return (long)c.gated_blocks;
}

static atomic_int initialized;
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static int atfork_done;

static void fork_prepare(void)
{
	_mp_stack_fork_prepare(); /* no unwinding inside the loader's lock */
	/* order: quarantine, depot, classes, large, vm (see block.h); not the
	 * report lock, whose holder may wait for this fork (report.c) */
	_mp_quarantine_lock();
	_mp_depot_lock();
	_mp_slab_lock_all();
	_mp_large_lock();
	_mp_vm_lock();
}

static void fork_parent(void)
{
	_mp_vm_unlock();
	_mp_large_unlock();
	_mp_slab_unlock_all();
	_mp_depot_unlock();
	_mp_quarantine_unlock();
	_mp_stack_fork_done();
}

static void fork_child(void)
{
	_mp_loader_forked();
	_mp_report_fork_child();
	fork_parent();
	_mp_symbolize_reset(); /* its cache describes the parent */
}

int _mp_ensure_init(void)
{
	if (atomic_load_explicit(&initialized, memory_order_acquire))
		return 0;
	return mp_init();
}

API int mp_init(void)
{
	if (atomic_load_explicit(&initialized, memory_order_acquire))
		return 0;
	_mp_enter(); /* dlsym, getenv, pthread_atfork may allocate */
	pthread_mutex_lock(&init_lock);
	int rc = 0;
	if (!atomic_load(&initialized)) {
		if (_mp_real_resolve() != 0) {
			rc = -1;
		} else {
			_mp_options_parse(secure_getenv("MPWRAP_OPTIONS"),
					  STDERR_FILENO);
			_mp_stack_init();
			_mp_report_init();
			if (!atfork_done) {
				pthread_atfork(fork_prepare, fork_parent, fork_child);
				atfork_done = 1;
			}
			atomic_store_explicit(&initialized, 1, memory_order_release);
		}
	}
	pthread_mutex_unlock(&init_lock);
	_mp_leave();
	if (rc)
		errno = ENOMEM;
	return rc;
}

API void *mp_alloc(size_t n)
{
	return _mp_alloc(n, 16, CALLER);
}

API void *mp_calloc(size_t nmemb, size_t size)
{
	size_t n;
	if (__builtin_mul_overflow(nmemb, size, &n)) {
		errno = ENOMEM;
		return NULL;
	}
	void *p = _mp_alloc(n, 16, CALLER);
	if (p)
		__builtin_memset(p, 0, n);
	return p;
}

API void *mp_realloc(void *p, size_t n)
{
	return _mp_realloc(p, n, CALLER);
}

API void mp_free(void *p)
{
	_mp_free(p, CALLER, "mp_free");
}

API size_t mp_usable_size(const void *p)
{
	return _mp_usable_size(p);
}

API int mp_check(void)
{
	return _mp_check_all(CALLER, "mp_check");
}

API void mp_get_stats(struct mp_stats *st)
{
	struct mp_counters k;
	for (int c = 0; c < MP_NUM_CLASSES; c++) {
		struct mp_class_stats *cs = &st->cls[c];
		*cs = (struct mp_class_stats){ .size = _mp_classes[0][c].size };
		for (int a = 0; a < MP_ARENAS; a++) {
			struct mp_class *cl = &_mp_classes[a][c];
			pthread_mutex_lock(&cl->lock);
			cs->total += cl->total;
			cs->in_use += cl->live;
			cs->quarantined += cl->quarantined;
			pthread_mutex_unlock(&cl->lock);
		}
		cs->free = cs->total - cs->in_use - cs->quarantined;
	}
	_mp_counters_get(&k);
	st->large_blocks = k.large_blocks;
	st->large_bytes = k.large_bytes;
	st->bytes_in_use = k.bytes_in_use;
	st->peak_bytes = k.peak_bytes;
	st->allocs = k.allocs;
	st->frees = k.frees;
	st->errors = _mp_report_error_count();
	st->stacks = _mp_depot_count();
}

API void mp_dump_stats(void)
{
	struct mp_stats st;
	struct mp_out o;
	mp_get_stats(&st);
	_mp_report_begin(&o);
	_mp_report_prefix(&o);
	_mp_out_str(&o, "pool statistics:\n");
	_mp_report_prefix(&o);
	_mp_out_str(&o, "   class      total     in use  quarantined       free\n");
	for (int c = 0; c < MP_NUM_CLASSES; c++) {
		const struct mp_class_stats *s = &st.cls[c];
		_mp_report_prefix(&o);
		_mp_out_printf(&o, "  %6zu %10zu %10zu %12zu %10zu\n", s->size,
			       s->total, s->in_use, s->quarantined, s->free);
	}
	_mp_report_prefix(&o);
	_mp_out_printf(&o, "  large blocks: %zu (%zu bytes)\n", st.large_blocks,
		       st.large_bytes);
	_mp_report_prefix(&o);
	_mp_out_printf(&o, "  in use: %zu bytes, peak %zu bytes; %zu allocations, "
		       "%zu frees, %zu errors, %zu stacks (%zu bytes)\n",
		       st.bytes_in_use, st.peak_bytes, st.allocs, st.frees,
		       st.errors, st.stacks, _mp_depot_bytes());
	_mp_report_end(&o);
}

API size_t mp_dump_leaks(void)
{
	return _mp_leaks_dump();
}

/* Release every large block still in the table (live, quarantined or
 * internal): collect under the lock, free outside it, batch by batch. */
static void release_large(void)
{
	struct mp_large batch[256];
	size_t n;
	do {
		n = 0;
		size_t pos = 0;
		struct mp_large *e;
		_mp_large_lock();
		while (n < 256 && (e = _mp_large_next_locked(&pos))) {
			if (e->flags & MP_F_INTERNAL)
				continue; /* owned by libunwind/libdw: leave */
			batch[n++] = *e;
			_mp_large_remove_locked(e);
			pos--; /* backward shift may have moved an entry here */
		}
		_mp_large_unlock();
		for (size_t i = 0; i < n; i++)
			if (batch[i].flags & MP_F_GUARDPAGE)
				_mp_gp_release(batch[i].real, batch[i].map_pages);
			else
				_mp_real_free((void *)batch[i].real);
	} while (n);
}

API void mp_destroy(void)
{
	if (!atomic_load(&initialized))
		return;
	mp_dump_stats();
	mp_dump_leaks();
	_mp_quarantine_reset();
	release_large();
	_mp_slab_destroy_all();
	_mp_counters_reset();
	_mp_report_reset();
	_mp_symbolize_reset();
	_mp_depot_reset();
	atomic_store(&initialized, 0);
}
