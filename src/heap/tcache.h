/* tcache.h - per-thread caches of free slots (option thread_cache).
 *
 * A thread keeps, per size class of its own arena, a small stack of slots
 * it may hand out without the class lock.  The rules that keep every other
 * reader of the pool exact (block.h's locking notes):
 *  - a cached slot has state MP_ST_CACHED: free, never live, never a leak,
 *    its guards and contents checked by no one; it stays counted in its
 *    slab's in_use (it is on no free list);
 *  - slots enter a cache only under their class lock: a batch taken from
 *    the free lists (refill), or a block freed with quarantine_mb=0 by a
 *    thread of its arena.  Blocks under quarantine go to the free lists
 *    when released and reach a cache only through a refill;
 *  - the only transition made without the lock is CACHED -> LIVE, by the
 *    cache's owner: metadata and guards are written first, the state last
 *    with a release store, and readers load the state with acquire
 *    (_mp_meta_state), so a check or a scan under the lock sees a slot
 *    either free or whole.  LIVE -> anything still takes the class lock,
 *    so a slot a check reads as live stays that block until it unlocks,
 *    and a second free of a cached slot finds it CACHED: a double free;
 *  - allocations served from a cache are counted in the cache (fast[]),
 *    added to the class's live and allocs counts on read, and moved into
 *    them when the cache is flushed;
 *  - a thread's exit (a pthread key's destructor), fork's child (for every
 *    other thread, and its own so that its next slot comes through the
 *    lock and marks the slab as the child's) and mp_destroy hand the
 *    cached slots back.
 */
#ifndef MP_TCACHE_H
#define MP_TCACHE_H

#include "block.h"
#include "slab.h"

#include <stdatomic.h>

/* Once, at the pool's initialisation: the pthread key whose destructor
 * tells a thread's exit (made early, so that it is one of glibc's first 32
 * keys, whose setspecific never allocates). */
void _mp_tc_init(void);

/* _mp_slab_alloc's contract: a slot of class c for n bytes, from this
 * thread's cache when it has one (refilled in a batch under the class lock
 * when empty), else through the class lock. */
void *_mp_tc_alloc(int c, size_t n, uint32_t stack, uint8_t flags,
		   uint8_t family);

/* Class lock of s held, slot i of s just freed (state set, poisoned):
 * keep it in this thread's cache when the slot is of this thread's arena.
 * Returns 1 when kept (state CACHED), 0 when the caller must release it. */
int _mp_tc_keep_locked(struct mp_slab *s, uint32_t i);

/* Allocations served from caches of (arena a, class c) not yet moved into
 * the class's counts; class lock held for an exact figure. */
size_t _mp_tc_fast_count(int a, int c);

/* This thread's byte counter (its record's, one writer: add with a plain
 * load and store), or NULL when it has no cache; the sum of every
 * record's counter (pool.c adds its per-arena ones). */
atomic_long *_mp_tc_bytes_counter(void);
long _mp_tc_bytes_total(void);

/* Hand this thread's cached slots back and fold its counts (thread exit,
 * thread_cache switched off). */
void _mp_tc_flush_self(void);

/* fork: the class locks (_mp_slab_lock_all) and the registry's; the child
 * hands every cache back before it unlocks. */
void _mp_tc_fork_prepare(void);
void _mp_tc_fork_parent(void);
void _mp_tc_fork_child(void);
/* mp_destroy: the slabs are about to go; every cache forgets its slots.
 * No other thread may use the pool. */
void _mp_tc_forget_all(void);


#endif
