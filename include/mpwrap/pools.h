/* mpwrap/pools.h - describe your own allocator to mpwrap: pools, the
 * blocks allocated and freed in them, malloc-like blocks.  libmpwrap.so
 * then leak-checks those blocks one by one (kinds, allocation stacks,
 * suppressions, what kept them), leaves the chunk they were carved from out
 * of the leak check while it holds them, and reports double and invalid
 * frees of them.  The semantics are memcheck's client requests' (the
 * Valgrind manual, "Memory Pools"); <mpwrap/valgrind-compat/valgrind/
 * memcheck.h> maps those requests to these functions.
 *
 * Declared weak: a program built with this header links and runs without
 * libmpwrap.so, where each function is NULL; the MP_POOL_* macros below
 * test that and do nothing then.
 *
 * Thread safety: every function may be called from any thread (one lock
 * guards the tables; not from a signal handler).  A pool is named by its
 * anchor, any address unique to it (usually its header struct).
 */
#ifndef MPWRAP_POOLS_H
#define MPWRAP_POOLS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MPWRAP_POOLS_WEAK __attribute__((weak))

/* mp_pool_create flags: memcheck's VALGRIND_MEMPOOL_AUTO_FREE, _METAPOOL */
#define MP_POOL_AUTO_FREE 1u /* freeing a pool block frees the malloc-like
			      * blocks inside it (needs MP_POOL_METAPOOL) */
#define MP_POOL_METAPOOL 2u  /* pool blocks are superblocks for malloc-like
			      * blocks */

/* A pool anchored at pool; redzone: bytes it leaves before and after each
 * block, filled with a guard pattern (32 a side at most, inside our heap
 * block holding the pool block) and checked at the block's free, at
 * mp_check and at exit.  A freed block's first 256 bytes are poisoned and
 * checked likewise (README "Custom allocators"). */
void mp_pool_create(const void *pool, size_t redzone, int is_zeroed,
		    unsigned flags) MPWRAP_POOLS_WEAK;
/* The pool and every block in it are gone (none is a leak). */
void mp_pool_destroy(const void *pool) MPWRAP_POOLS_WEAK;
/* The pool's anchor moved (its blocks stay). */
void mp_pool_move(const void *from, const void *to) MPWRAP_POOLS_WEAK;
int mp_pool_exists(const void *pool) MPWRAP_POOLS_WEAK;
/* [addr, addr + size) handed out by the pool; its allocation stack is the
 * caller's. */
void mp_pool_alloc(const void *pool, const void *addr, size_t size) MPWRAP_POOLS_WEAK;
/* The block at addr given back: a block freed already is reported as a
 * double free, an address where no block of the pool starts as an
 * invalid free. */
void mp_pool_free(const void *pool, const void *addr) MPWRAP_POOLS_WEAK;
/* Blocks of the pool wholly outside [addr, addr + size) are freed, those
 * straddling it cut to it. */
void mp_pool_trim(const void *pool, const void *addr, size_t size) MPWRAP_POOLS_WEAK;
/* The block at old is now [addr, addr + size). */
void mp_pool_change(const void *pool, const void *old, const void *addr,
		    size_t size) MPWRAP_POOLS_WEAK;

/* [addr, addr + len) is the program's again (memcheck's
 * MAKE_MEM_DEFINED / UNDEFINED): bytes of a freed pool block there are no
 * longer checked for writes after free (a pool's free-list link). */
void mp_mem_accessible(const void *addr, size_t len) MPWRAP_POOLS_WEAK;

/* A block of no pool (memcheck's MALLOCLIKE_BLOCK / FREELIKE_BLOCK /
 * RESIZEINPLACE_BLOCK). */
void mp_block_alloc(const void *addr, size_t size, size_t redzone,
		    int is_zeroed) MPWRAP_POOLS_WEAK;
void mp_block_free(const void *addr, size_t redzone) MPWRAP_POOLS_WEAK;
void mp_block_resize(const void *addr, size_t old_size, size_t new_size,
		     size_t redzone) MPWRAP_POOLS_WEAK;

/* 1 when libmpwrap.so is loaded (the weak reference resolves) and serving
 * the process. */
int mp_pools_active(void) MPWRAP_POOLS_WEAK;

/* A leak check now, reported as "leak check #N (trigger)" (the program
 * continues): the number of lost blocks of the kinds option leak_kinds
 * counts, or -1 when none ran.  mp_pools_last_leaks: the latest such
 * check's counts (zeros before the first).  mp_pools_error_count: heap
 * errors reported so far. */
struct mp_leak_counts;
long mp_pools_leak_check(const char *trigger) MPWRAP_POOLS_WEAK;
void mp_pools_last_leaks(struct mp_leak_counts *out) MPWRAP_POOLS_WEAK;
unsigned long mp_pools_error_count(void) MPWRAP_POOLS_WEAK;

/* Safe to use without libmpwrap.so: nothing happens then. */
#define MP_POOL_CALL(fn, ...) ((fn) ? (fn)(__VA_ARGS__) : (void)0)
#define MP_POOL_CREATE(pool, rz, zeroed, flags) \
	MP_POOL_CALL(mp_pool_create, pool, rz, zeroed, flags)
#define MP_POOL_DESTROY(pool) MP_POOL_CALL(mp_pool_destroy, pool)
#define MP_POOL_ALLOC(pool, addr, size) MP_POOL_CALL(mp_pool_alloc, pool, addr, size)
#define MP_POOL_FREE(pool, addr) MP_POOL_CALL(mp_pool_free, pool, addr)
#define MP_POOL_TRIM(pool, addr, size) MP_POOL_CALL(mp_pool_trim, pool, addr, size)
#define MP_POOL_MOVE(from, to) MP_POOL_CALL(mp_pool_move, from, to)
#define MP_POOL_CHANGE(pool, old, addr, size) \
	MP_POOL_CALL(mp_pool_change, pool, old, addr, size)
#define MP_MEM_ACCESSIBLE(addr, len) MP_POOL_CALL(mp_mem_accessible, addr, len)
#define MP_BLOCK_ALLOC(addr, size, rz, zeroed) \
	MP_POOL_CALL(mp_block_alloc, addr, size, rz, zeroed)
#define MP_BLOCK_FREE(addr, rz) MP_POOL_CALL(mp_block_free, addr, rz)
#define MP_BLOCK_RESIZE(addr, old, new_size, rz) \
	MP_POOL_CALL(mp_block_resize, addr, old, new_size, rz)

#ifdef __cplusplus
}
#endif
#endif
