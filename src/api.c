/* api.c - the public mp_* entry points: allocation, checks, scopes (leak
 * checks per test), statistics and mp_destroy (initialisation and fork
 * handlers: detect/init.c).
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
#include "mpassert.h"
#include "options.h"
#include "loaderprobe.h"
#include "pool.h"
#include "quarantine.h"
#include "real.h"
#include "passthru.h"
#include "reent.h"
#include "sampleslots.h"
#include "tcache.h"
#include "deepstack.h"
#include "report.h"
#include "slab.h"
#include "stack.h"
#include "symbolize.h"
#include "vm.h"

#include <errno.h>
#include <limits.h>
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
		_mp_report_live_blocks(&ls, NULL);
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

/* ---- scopes: mp_scope_begin / mp_scope_end ----------------------------
 * One scope open at a time in the process, and every thread's allocations
 * count in it (as LeakSanitizer's checks are per process: the reachability
 * scan is, a test's helper threads allocate for it, and per-thread scopes
 * would cost a thread id in every block's metadata).  Begin marks every live
 * block as older (leaks.c, MP_AUX_PRE): the allocation path is unchanged. */

static long (*_Atomic scope_check_fn)(const char *name);
static void (*_Atomic scope_begun_fn)(void);

void _mp_api_on_scope_begin(void (*fn)(void))
{
	atomic_store(&scope_begun_fn, fn);
}

void _mp_api_on_scope_end(long (*fn)(const char *name))
{
	atomic_store(&scope_check_fn, fn);
}

#define SCOPE_NAME 256
#define SCOPE_NAMES 4096 /* names whose runs are counted (scope_warmups) */
static pthread_mutex_t scope_lock = PTHREAD_MUTEX_INITIALIZER;
static char scope_name[SCOPE_NAME];
static int scope_open, scope_warm;
static struct { uint64_t hash; unsigned long runs; } scope_runs[SCOPE_NAMES];

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h | 1; /* 0 marks an empty entry */
}

/* How many times a scope of this name has begun, this one included; a
 * full table counts every new name as warmed up (never silent forever). */
static unsigned long scope_run(const char *name)
{
	uint64_t h = name_hash(name);
	for (size_t i = h % SCOPE_NAMES, n = 0; n < SCOPE_NAMES;
	     i = (i + 1) % SCOPE_NAMES, n++) {
		if (scope_runs[i].hash == h)
			return ++scope_runs[i].runs;
		if (!scope_runs[i].hash) {
			scope_runs[i].hash = h;
			return scope_runs[i].runs = 1;
		}
	}
	return ULONG_MAX;
}

API int mp_scope_begin(const char *name)
{
	if (_mp_ensure_init() != 0)
		return -1;
	if (!name || !*name)
		name = "(unnamed scope)";
	pthread_mutex_lock(&scope_lock);
	if (scope_open) {
		pthread_mutex_unlock(&scope_lock);
		_mp_report_misuse("mp_scope_begin: a scope is open already "
				  "(scopes do not nest)", NULL);
		return -1;
	}
	size_t n = strnlen(name, SCOPE_NAME - 1);
	memcpy(scope_name, name, n);
	scope_name[n] = '\0';
	scope_open = 1;
	scope_warm = scope_run(scope_name) <= (unsigned long)_mp_opt.scope_warmups;
	MP_DCHECK(scope_name[0] != '\0');
	if (!scope_warm) {
		_mp_leaks_scope_mark(MP_SCOPE_BEGIN, 0);
		void (*begun)(void) = atomic_load(&scope_begun_fn);
		if (begun)
			begun();
	}
	pthread_mutex_unlock(&scope_lock);
	return 0;
}

/* libmempool.a: no roots, no scan: every block the scope allocated that is
 * still live counts, as mp_leak_check counts every live block there. */
static long scope_end_unclassified(const char *name)
{
	struct mp_leak_set ls;
	if (_mp_leaks_collect(&ls, MP_COLLECT_SCOPE) != 0)
		return -1;
	long n = 0;
	if (ls.total_blocks && ls.total_bytes >= (size_t)_mp_opt.scope_budget) {
		_mp_report_live_blocks(&ls, name);
		_mp_leaks_scope_mark(MP_SCOPE_CLAIM, 0);
		if (_mp_opt.leak_kinds & MP_LEAK_DEFINITE)
			n = (long)ls.total_blocks;
	}
	_mp_leaks_release(&ls);
	return n;
}

static void scope_end_deep(void *a)
{
	long (*fn)(const char *) = atomic_load(&scope_check_fn);
	*(long *)a = fn ? fn(scope_name) : scope_end_unclassified(scope_name);
}

API long mp_scope_end(void)
{
	long n = 0;
	pthread_mutex_lock(&scope_lock);
	if (!scope_open) {
		pthread_mutex_unlock(&scope_lock);
		_mp_report_misuse("mp_scope_end without mp_scope_begin", NULL);
		return -1;
	}
	/* the scan and the report go deep: on the library's stack; the lock
	 * stays held so that no other scope begins meanwhile */
	_mp_report_capture(1); /* for mp_scope_report, empty when warm */
	if (!scope_warm)
		_mp_deep_call(scope_end_deep, &n);
	_mp_report_capture(0);
	scope_open = 0;
	pthread_mutex_unlock(&scope_lock);
	return n;
}

API size_t mp_scope_report(char *buf, size_t cap)
{
	return _mp_report_captured(buf, cap);
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

/* mp_dump_leaks in sampled mode: the live sampled blocks grouped by
 * allocation stack, unclassified (ls->sample_rate set; released with
 * _mp_leaks_release).  0, or -1 (no memory). */

struct live_set {
	struct mp_leak_set *ls;
	size_t cap;
};

static void group_one(void *ctx, const struct mp_block *b)
{
	struct live_set *l = ctx;
	struct mp_leak_set *ls = l->ls;
	size_t i;
	for (i = 0; i < ls->n && ls->g[i].stack != b->alloc_stack; i++)
		;
	if (i == ls->n) {
		if (ls->n == l->cap)
			return;
		ls->g[ls->n++] = (struct mp_leak_group){ .stack = b->alloc_stack };
	}
	ls->g[i].bytes += b->size;
	ls->g[i].blocks++;
	ls->bytes[MP_K_DEFINITE] += b->size;
	ls->blocks[MP_K_DEFINITE]++;
	ls->total_bytes += b->size;
	ls->total_blocks++;
}

static int sampled_live_set(struct mp_leak_set *ls)
{
	memset(ls, 0, sizeof *ls);
	ls->sample_rate = _mp_slots_rate();
	struct live_set l = { ls, _mp_slots_count() ? _mp_slots_count() : 1 };
	ls->map_bytes = l.cap * sizeof *ls->g;
	ls->g = _mp_map(ls->map_bytes, 1);
	if (!ls->g)
		return -1;
	_mp_slots_each_live(group_one, &l);
	for (size_t i = 1; i < ls->n; i++) { /* largest first */
		struct mp_leak_group g = ls->g[i];
		size_t j = i;
		for (; j > 0 && ls->g[j - 1].bytes < g.bytes; j--)
			ls->g[j] = ls->g[j - 1];
		ls->g[j] = g;
	}
	return 0;
}

static void dump_leaks_deep(void *a)
{
	struct mp_leak_set ls;
	if (_mp_passthrough_sampled() ? sampled_live_set(&ls) != 0
				      : _mp_leaks_collect(&ls, 0) != 0)
		return;
	_mp_report_live_blocks(&ls, NULL);
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
