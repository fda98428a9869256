/* api.c - the public mp_* entry points: allocation, checks, statistics
 * and mp_destroy (initialisation and fork handlers: detect/init.c).
 *
 * Each entry point passes its own return address down so stacks start at
 * the caller (frame #0 = the caller of mp_alloc).
 */
#define _GNU_SOURCE
#include "mempool.h"
#include "api.h"
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
#include "tcache.h"
#include "deepstack.h"
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

/* libmpwrap.so's classified check (longrun.c registers it when the
 * library starts); libmempool.a has no thread registry nor roots. */
static int (*_Atomic leak_check_fn)(const char *trigger, int checker,
				    struct mp_leak_counts *out);

void _mp_api_on_leak_check(int (*fn)(const char *trigger, int checker,
				     struct mp_leak_counts *out))
{
	atomic_store(&leak_check_fn, fn);
}

struct check_args {
	struct mp_leak_counts *out;
	long ret;
};

static void leak_check_deep(void *a);

/* The scan and the report go deeper than a small thread's stack: on the
 * library's own (deepstack.c). */
API long mp_leak_check(struct mp_leak_counts *out)
{
	struct check_args ca = { out, -1 };
	_mp_deep_call(leak_check_deep, &ca);
	return ca.ret;
}

static long leak_check(struct mp_leak_counts *out)
{
	static atomic_ulong seq;
	struct mp_leak_counts c;
	memset(&c, 0, sizeof c);
	int (*fn)(const char *, int, struct mp_leak_counts *) =
		atomic_load(&leak_check_fn);
	if (fn) {
		if (fn("mp_leak_check", 0, &c) != 0)
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
		_mp_report_live_blocks(&ls);
		_mp_leaks_release(&ls);
	}
	if (out)
		*out = c;
	return (long)c.gated_blocks;
}

static void leak_check_deep(void *a)
{
	struct check_args *ca = a;
	ca->ret = leak_check(ca->out);
}

API int mp_init(void)
{
	return _mp_init();
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
	return _mp_realloc_api(p, n, CALLER);
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
	_mp_stats_read(st, 1);
}

API void mp_dump_stats(void)
{
	struct mp_stats st;
	_mp_stats_read(&st, 1);
	_mp_report_stats(&st);
}

static void dump_leaks_deep(void *a)
{
	struct mp_leak_set ls;
	if (_mp_leaks_collect(&ls, 0) != 0)
		return;
	_mp_report_live_blocks(&ls);
	*(size_t *)a = ls.total_blocks;
	_mp_leaks_release(&ls);
}

API size_t mp_dump_leaks(void)
{
	size_t blocks = 0;
	_mp_deep_call(dump_leaks_deep, &blocks); /* symbolizes: see above */
	return blocks;
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
	if (!_mp_initialized())
		return;
	mp_dump_stats();
	mp_dump_leaks();
	_mp_quarantine_reset();
	release_large();
	_mp_tc_forget_all();
	_mp_slab_destroy_all();
	_mp_counters_reset();
	_mp_report_reset();
	_mp_symbolize_reset();
	_mp_depot_reset();
	_mp_init_forget();
}
