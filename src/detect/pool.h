/* pool.h - allocation, free, realloc and checks: the pool's core logic. */
#ifndef MP_POOL_H
#define MP_POOL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* `caller` is the return address of the public entry point (malloc shim or
 * mp_* function): frames below it are the pool's own and are skipped.
 * `where` names the entry point in reports ("free", "realloc", ...). */
void *_mp_alloc(size_t n, size_t align, uintptr_t caller);
void _mp_free(void *p, uintptr_t caller, const char *where);

/* The same for another allocation family (enum mp_family): an aligned new
 * records `align` and always takes the large path. */
void *_mp_alloc_as(size_t n, size_t align, unsigned family, uintptr_t caller);

/* Or'ed into `family` (calloc): the block comes back zeroed.  A large block
 * is then taken from the real calloc, which skips the memset on fresh
 * pages, so a big zeroed table costs only the pages the program touches. */
#define MP_ALLOC_ZERO 0x100u
/* realloc's new block (realloc.c): a large one is marked as made by
 * realloc (REGROW), and given half its size again of room to grow in
 * place (SLACK) when the block it replaces was made by realloc too. */
#define MP_ALLOC_REGROW 0x200u
#define MP_ALLOC_SLACK 0x400u

/* realloc(ptr, n) of a large block made by realloc, done where it is when
 * its real block has room (and n is not under a quarter of it): the rear
 * guard moves, the allocation stack becomes this call's.  NULL when the
 * block must move; *regrown then says whether it was made by realloc. */
void *_mp_resize_in_place(void *ptr, size_t n, uintptr_t caller, int *regrown);

/* How a block is released: by which family and, for a sized or aligned
 * operator delete, with which size and alignment. */
struct mp_dealloc {
	const char *where;   /* "free", "operator delete[]", ... */
	unsigned family;     /* enum mp_family */
	int sized;           /* `size` is the argument of a sized delete */
	size_t size;
	size_t align;        /* aligned delete: its alignment; 0 = not aligned */
};
void _mp_free_as(void *p, uintptr_t caller, const struct mp_dealloc *d);

/* Argument checks of the shims: report `kind` (an argument error) for the
 * call `where` with its arguments a, b, with the caller's stack.  Nothing
 * when called from inside the pool's own helpers. */
void _mp_call_error(int kind, const char *where, size_t a, size_t b,
		    uintptr_t caller);
/* A size no allocation may have: above PTRDIFF_MAX ("negative") or above
 * max_allocation_size.  Reports allocation-size-too-big and returns 1. */
int _mp_too_big(size_t n, const char *where, uintptr_t caller);

/* callcheck.c: add the verdict of deallocation d of live block b (freed at
 * stack) to v[*nv] when it is by the wrong family or a sized or aligned
 * delete disagrees with the block, else nothing. */
struct mp_block;
struct mp_verdict;
void _mp_dealloc_verdict(const struct mp_block *b, const struct mp_dealloc *d,
			 uint32_t stack, struct mp_verdict *v, int *nv);

/* The program (or a library before us) defines operator new or delete
 * itself: families cannot be trusted, mismatches are not reported. */
void _mp_set_foreign_new(int yes);
void *_mp_realloc(void *p, size_t n, uintptr_t caller);
/* The same for mp_realloc, whose n == 0 is never reported (realloc_size_zero
 * is about C's realloc, where that call is implementation-defined). */
void *_mp_realloc_api(void *p, size_t n, uintptr_t caller);
size_t _mp_usable_size(const void *p);
/* p is the start of one of our blocks that was freed (quarantined, or back
 * on a free list not yet reused): a FILE fclose'd already, say. */
int _mp_freed_block(const void *p);
/* Verify all guards and quarantined poison; `where` names the caller in
 * reports ("mp_check", "exit", "check_every"). */
int _mp_check_all(uintptr_t caller, const char *where);

/* Freed blocks are poisoned, and checked at eviction, over their first 256
 * bytes only: stale writes land near the start of a struct far more often
 * than deep inside a buffer, and a full-block check of cold memory at every
 * eviction cost 10x glibc's time on a churn benchmark. */
#define MP_POISON_MAX ((size_t)256)

/* The process's malloc is not ours (the program or an earlier preload
 * defines it): unknown pointers are then freed, not reported. */
void _mp_set_foreign_malloc(int yes);

/* Initialise once (init.c): 0 when the pool is usable, else -1 with errno
 * ENOMEM.  _mp_ensure_init is the cheap check every entry point makes;
 * _mp_init_forget lets mp_destroy's caller start over. */
int _mp_init(void);
int _mp_initialized(void);
extern atomic_int _mp_init_done; /* init.c's: 1 once initialised */
/* inline: one load on every entry, the call only before initialisation */
static inline int _mp_ensure_init(void)
{
	if (__builtin_expect(atomic_load_explicit(&_mp_init_done, memory_order_acquire), 1))
		return 0;
	return _mp_init();
}
void _mp_init_forget(void);

/* Statistics kept by pool.c (atomics). */
struct mp_counters {
	size_t bytes_in_use, peak_bytes, allocs, frees, large_blocks, large_bytes;
};
/* lock 0: a dying process, whose crash may hold any pool lock: the counts
 * are read without them (a torn count beats a hang). */
void _mp_counters_get(struct mp_counters *c, int lock);
void _mp_counters_reset(void);

/* mp_get_stats (stats.c); lock = 0 reads without the class locks (a
 * dying process, whose crashed thread may hold one). */
struct mp_stats;
void _mp_stats_read(struct mp_stats *st, int lock);

#endif
