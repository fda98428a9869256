/* clientreq.c - the pool annotations of include/mpwrap/pools.h, exported
 * by libmpwrap.so: a program describes its own allocators (pools, blocks
 * in them, malloc-like blocks; memcheck's client requests through
 * include/mpwrap/valgrind-compat) and the leak scan then treats those
 * blocks as blocks of their own (heap/custom.c keeps them).  Frees of
 * blocks freed already or never allocated are reported here, with the
 * program's stack.  Errno is kept: an annotation never changes the
 * program. */
#define _GNU_SOURCE
#include "custom.h"
#include "guard.h"
#include "longrun.h"
#include "lsanhooks.h"
#include "pool.h"
#include "report.h"
#include "stack.h"
#include "verdict.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>

#define API __attribute__((visibility("default"), noinline))
#define CALLER ((uintptr_t)__builtin_return_address(0))

static int ready(void)
{
	return _mp_ensure_init() == 0;
}

static void no_pool(const char *what, const void *pool)
{
	_mp_report_misuse(what, pool);
}

API int mp_pools_active(void)
{
	return ready();
}

API void mp_pool_create(const void *pool, size_t redzone, int is_zeroed,
			unsigned flags)
{
	int e = errno;
	(void)is_zeroed; /* no definedness here: nothing to zero */
	if (ready() && _mp_cpool_create((uintptr_t)pool, redzone, flags) != MP_C_OK)
		_mp_report_misuse("mp_pool_create: no memory for the pool table", pool);
	errno = e;
}

API void mp_pool_destroy(const void *pool)
{
	int e = errno;
	if (ready() && _mp_cpool_destroy((uintptr_t)pool) != MP_C_OK)
		no_pool("mp_pool_destroy: no pool with this anchor", pool);
	errno = e;
}

API void mp_pool_move(const void *from, const void *to)
{
	int e = errno;
	if (ready() && _mp_cpool_move((uintptr_t)from, (uintptr_t)to) != MP_C_OK)
		no_pool("mp_pool_move: no pool with this anchor", from);
	errno = e;
}

API int mp_pool_exists(const void *pool)
{
	int e = errno;
	int r = ready() && _mp_cpool_exists((uintptr_t)pool);
	errno = e;
	return r;
}

static const char *what_alloc(uintptr_t pool)
{
	return pool ? "mp_pool_alloc" : "mp_block_alloc";
}

static void alloc_block(uintptr_t pool, const void *addr, size_t size,
			size_t rz, uintptr_t caller, const char *what)
{
	if (!ready())
		return;
	uint32_t stack = _mp_stack_here(caller); /* no lock held */
	struct mp_cblock reused;
	uintptr_t clo = 0, chi = 0; /* the chunk, found before the table's lock */
	if (pool && !_mp_cguard_chunk((uintptr_t)addr, &clo, &chi))
		clo = chi = 0;
	int rc = _mp_cblock_alloc(pool, (uintptr_t)addr, size, rz, stack, clo,
				  chi, &reused);
	if (reused.state) { /* freed memory handed out again: written since? */
		struct mp_verdict v[MP_FREED_RUNS_MAX];
		int n = _mp_cguard_poison(&reused, stack, what_alloc(pool), v);
		for (int k = 0; k < n; k++)
			_mp_report_error(&v[k]);
	}
	if (rc == MP_C_NO_POOL)
		no_pool(what, (const void *)pool);
	else if (rc == MP_C_NOMEM)
		_mp_report_misuse("pool annotation: no memory for the block table, "
				  "block not tracked", addr);
}

API void mp_pool_alloc(const void *pool, const void *addr, size_t size)
{
	int e = errno;
	alloc_block((uintptr_t)pool, addr, size, 0, CALLER,
		    "mp_pool_alloc: no pool with this anchor");
	errno = e;
}

API void mp_mem_accessible(const void *addr, size_t len)
{
	int e = errno;
	uintptr_t lo = (uintptr_t)addr;
	if (ready())
		_mp_custom_accessible(lo, lo + len < lo ? UINTPTR_MAX : lo + len);
	errno = e;
}

API void mp_block_alloc(const void *addr, size_t size, size_t redzone,
			int is_zeroed)
{
	int e = errno;
	(void)is_zeroed;
	if (addr) /* memcheck ignores a NULL block */
		alloc_block(0, addr, size, redzone, CALLER, "mp_block_alloc");
	errno = e;
}

/* A free: the block's record goes to FREED; a second free is a double
 * free, an address where no block of this pool starts an invalid one. */
static void free_block(uintptr_t pool, const void *addr, uintptr_t caller,
		       const char *where)
{
	if (!ready())
		return;
	uint32_t stack = _mp_stack_here(caller);
	struct mp_cblock c;
	int rc = _mp_cblock_free(pool, (uintptr_t)addr, stack, &c);
	if (rc == MP_C_OK) { /* its redzones: written past either end? */
		struct mp_verdict v[2];
		int n = _mp_cguard_windows(&c, stack, where, v);
		for (int k = 0; k < n; k++)
			_mp_report_error(&v[k]);
		return;
	}
	if (rc == MP_C_NO_POOL) {
		no_pool("mp_pool_free: no pool with this anchor", (const void *)pool);
		return;
	}
	struct mp_block b = { .user = c.user, .size = c.size, .cls = -1,
			      .alloc_stack = c.alloc_stack,
			      .free_stack = c.free_stack, .state = c.state };
	int known = rc == MP_C_DOUBLE || rc == MP_C_INTERIOR;
	struct mp_verdict v = _mp_verdict(
		rc == MP_C_DOUBLE ? MP_E_DOUBLE_FREE : MP_E_INVALID_FREE,
		(uintptr_t)addr, known ? &b : NULL,
		known ? (long)((uintptr_t)addr - c.user) : 0, 0, stack, where);
	_mp_report_error(&v);
}

API void mp_pool_free(const void *pool, const void *addr)
{
	int e = errno;
	free_block((uintptr_t)pool, addr, CALLER, "mp_pool_free");
	errno = e;
}

API void mp_block_free(const void *addr, size_t redzone)
{
	int e = errno;
	(void)redzone;
	if (addr)
		free_block(0, addr, CALLER, "mp_block_free");
	errno = e;
}

API void mp_pool_trim(const void *pool, const void *addr, size_t size)
{
	int e = errno;
	uintptr_t lo = (uintptr_t)addr;
	if (ready() && _mp_cpool_trim((uintptr_t)pool, lo,
				      lo + size < lo ? UINTPTR_MAX : lo + size) != MP_C_OK)
		no_pool("mp_pool_trim: no pool with this anchor", pool);
	errno = e;
}

API void mp_pool_change(const void *pool, const void *old, const void *addr,
			size_t size)
{
	int e = errno;
	if (ready() && _mp_cblock_change((uintptr_t)pool, (uintptr_t)old,
					 (uintptr_t)addr, size) != MP_C_OK)
		_mp_report_misuse("mp_pool_change: no block of this pool there", old);
	errno = e;
}

API void mp_block_resize(const void *addr, size_t old_size, size_t new_size,
			 size_t redzone)
{
	int e = errno;
	(void)old_size;
	(void)redzone;
	if (ready() && _mp_cblock_change(0, (uintptr_t)addr, (uintptr_t)addr,
					 new_size) != MP_C_OK)
		_mp_report_misuse("mp_block_resize: no malloc-like block there", addr);
	errno = e;
}

/* ---- leak checks on demand (memcheck's VALGRIND_DO_*LEAK_CHECK) ------- */

static struct mp_leak_counts last; /* the latest check's, for COUNT_LEAKS */
static pthread_mutex_t last_lock = PTHREAD_MUTEX_INITIALIZER;

API long mp_pools_leak_check(const char *trigger)
{
	struct mp_leak_counts c;
	if (_mp_lsan_turned_off() ||
	    _mp_longrun_check(trigger ? trigger : "mp_pools_leak_check", 0, &c) != 0)
		return -1;
	pthread_mutex_lock(&last_lock);
	last = c;
	pthread_mutex_unlock(&last_lock);
	return (long)c.gated_blocks;
}

API void mp_pools_last_leaks(struct mp_leak_counts *out)
{
	pthread_mutex_lock(&last_lock);
	*out = last;
	pthread_mutex_unlock(&last_lock);
}

API unsigned long mp_pools_error_count(void)
{
	return (unsigned long)_mp_report_error_count();
}
