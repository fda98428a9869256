/* custom.h - the program's own allocators, as it describes them (pool
 * annotations, memcheck's client requests): pools, the blocks allocated in
 * them, and malloc-like blocks (custom.c).  Bookkeeping only: the checks
 * (leak scan, errors) read it from the layers above. */
#ifndef MP_CUSTOM_H
#define MP_CUSTOM_H

#include <stddef.h>
#include <stdint.h>

/* Pool flags: memcheck's VALGRIND_MEMPOOL_AUTO_FREE and _METAPOOL values. */
#define MP_CPOOL_AUTO_FREE 1u
#define MP_CPOOL_METAPOOL 2u

/* One block the program described.  pool == 0: malloc-like. */
struct mp_cblock {
	uintptr_t user;
	size_t size;
	uintptr_t pool;        /* anchor of its pool; 0 = MALLOCLIKE */
	uint32_t alloc_stack;
	uint32_t free_stack;
	uint32_t aux;          /* enum mp_aux bits (block.h) */
	uint8_t state;         /* MP_ST_LIVE or MP_ST_FREED; 0 = empty slot */
	uint8_t flags;         /* the leak scan's bits (enum mp_flags) */
	uint16_t rz;           /* redzone bytes the pool leaves either side */
	/* redzone bytes filled with MP_GUARD_BYTE before and after the block
	 * (at most MP_CRZ_MAX, inside its chunk, outside other blocks) */
	uint8_t fill_front, fill_rear;
	uint8_t damaged;       /* its damage reported once already */
	uint16_t poisoned;     /* FREED: first bytes poisoned with MP_FREE_BYTE */
	uint16_t skip;         /* FREED: of those, the first ones the program
				* took back (mp_mem_accessible): not checked */
};

/* Redzone bytes filled and checked on either side of a pool block: a pool
 * declaring more leaves the rest unchecked (each filled byte costs a probe
 * of the table at the block's allocation, to stay off other blocks). */
#define MP_CRZ_MAX 32u
/* Freed pool blocks are poisoned over their first bytes only (as our own
 * quarantine: pool.h's MP_POISON_MAX). */
#define MP_CPOISON_MAX 256u

enum mp_cres {
	MP_C_OK = 0,
	MP_C_NO_POOL,   /* the anchor names no pool */
	MP_C_DOUBLE,    /* freed already: *b is its record */
	MP_C_INVALID,   /* no block starts there (interior: *b is the block) */
	MP_C_INTERIOR,
	MP_C_NOMEM,     /* table could not grow: not tracked */
};

/* Pools.  create: 0, or MP_C_NOMEM. destroy frees every block of the pool
 * silently (memcheck's semantics).  move renames the anchor. */
int _mp_cpool_create(uintptr_t pool, size_t rz, unsigned flags);
int _mp_cpool_destroy(uintptr_t pool);
int _mp_cpool_move(uintptr_t from, uintptr_t to);
int _mp_cpool_exists(uintptr_t pool);

/* A block [user, user + size) allocated in pool (0: malloc-like, rz its
 * redzone).  A live block already there is replaced (the program reuses
 * memory it never said it freed, as memcheck allows). */
int _mp_cblock_alloc(uintptr_t pool, uintptr_t user, size_t size, size_t rz,
		     uint32_t stack, uintptr_t clo, uintptr_t chi,
		     struct mp_cblock *reused);
/* [clo, chi): the chunk holding the block (_mp_cguard_chunk; 0, 0: none),
 * where its redzone may be filled.  reused (out): a freed pool block that started at user and was poisoned
 * (its record as it was, poisoned > 0), for the caller to check; else its
 * state is 0.  A pool block with a redzone gets it filled (customguard.c). */

/* Free the block starting at user (of pool, or malloc-like when pool is
 * 0): MP_C_OK, or an error and in *b what is known of the address.  A
 * metapool with auto-free frees the malloc-like blocks inside it too. */
int _mp_cblock_free(uintptr_t pool, uintptr_t user, uint32_t stack,
		    struct mp_cblock *b);
/* After MP_C_OK, *b is the block as it was (its filled redzone still to be
 * checked by the caller: _mp_cguard_windows), and a pool block (not of a
 * metapool) is poisoned over its first MP_CPOISON_MAX bytes. */

/* Resize in place (RESIZEINPLACE_BLOCK), or move and resize a pool block
 * (MEMPOOL_CHANGE): MP_C_OK or MP_C_INVALID. */
int _mp_cblock_change(uintptr_t pool, uintptr_t old, uintptr_t user,
		      size_t size);

/* MEMPOOL_TRIM: blocks of pool wholly outside [lo, hi) are freed, those
 * straddling it cut to it. */
int _mp_cpool_trim(uintptr_t pool, uintptr_t lo, uintptr_t hi);

/* The leak scan's view, under the table lock (lock order: after the large
 * table, before the vm registry; block.h): every live block, sorted by
 * address, in an index of its own (mmap'd; release it before unlocking).
 * A block that holds the start of another described block is a container
 * (memcheck: a malloc'd chunk holding pool blocks is no block of its own
 * in the leak check), and is left out of the index. */
void _mp_custom_lock(void);
void _mp_custom_unlock(void);
size_t _mp_custom_live_locked(void);
/* The table itself, under its lock (customview.c): slots in use have a
 * non-zero state. */
struct mp_cblock *_mp_custom_slots_locked(size_t *cap);
struct mp_cindex {
	struct mp_cblock **b;
	size_t n, map_bytes;
};
int _mp_custom_index_locked(struct mp_cindex *ix);
void _mp_custom_index_release(struct mp_cindex *ix);
/* The described block holding w (start or interior; the innermost), or
 * NULL. */
struct mp_cblock *_mp_custom_find(const struct mp_cindex *ix, uintptr_t w);
/* Whether [lo, lo + size) holds the start of a block of the index other
 * than one starting at lo itself with the same size: then the heap block
 * there is a container. */
int _mp_custom_holds(const struct mp_cindex *ix, uintptr_t lo, size_t size);

/* The starts of the index's blocks, copied (taking the lock): leaks.c
 * tells containers by them while it holds other locks. */
struct mp_cstarts {
	uintptr_t *a;
	size_t n, map_bytes;
};
int _mp_custom_starts(struct mp_cstarts *s);
void _mp_custom_starts_release(struct mp_cstarts *s);
int _mp_custom_starts_hold(const struct mp_cstarts *s, uintptr_t lo, size_t size);

/* [lo, hi) is the program's again: the freed blocks' poison there is no
 * longer checked (a prefix of the block is skipped, a later part ends the
 * check before it). */
void _mp_custom_accessible(uintptr_t lo, uintptr_t hi);

/* ---- redzones and poison (customguard.c) ---------------------------- */
struct mp_verdict;
/* The chunk of our heap (a live block of ours) holding addr: 1 and
 * [*lo, *hi), or 0.  Takes the class or large lock: call it unlocked. */
int _mp_cguard_chunk(uintptr_t addr, uintptr_t *lo, uintptr_t *hi);
/* Verdicts for the block's filled redzones (an underflow and an overflow
 * at most, written to v): how many. */
int _mp_cguard_windows(const struct mp_cblock *c, uint32_t stack,
		       const char *where, struct mp_verdict *v);
/* Use-after-free verdicts for a freed block's poison (one per run of
 * changed bytes, MP_FREED_RUNS_MAX at most): how many. */
int _mp_cguard_poison(const struct mp_cblock *c, uint32_t stack,
		      const char *where, struct mp_verdict *v);
/* Every described block's redzones and every poisoned freed block checked
 * (mp_check, exit): each verdict handed to report (no lock held); returns
 * the blocks found damaged (each reported once in the run). */
int _mp_cguard_check_all(uint32_t stack, const char *where, int sweep,
			 void (*report)(struct mp_verdict *, void *), void *arg);
/* custom.c's side of it: the records with something to check, copied
 * (sorted by address, mmap'd), and the mark that one was reported. */
struct mp_csnap {
	struct mp_cblock *a;
	size_t n, map_bytes;
};
int _mp_custom_snapshot(struct mp_csnap *s);
void _mp_custom_snapshot_release(struct mp_csnap *s);
void _mp_custom_mark_damaged(uintptr_t user, uint8_t state);

/* Counters for the report and the tests. */
struct mp_custom_stats {
	size_t pools, live, live_bytes, allocs, frees;
};
void _mp_custom_stats(struct mp_custom_stats *st);

#endif
