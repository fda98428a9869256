/* slab.h - size classes, slabs, the page map and slot bookkeeping. */
#ifndef MP_SLAB_H
#define MP_SLAB_H

#include "block.h"

/* Smallest class holding n bytes, or -1 when n > MP_MAX_CLASS. */
int _mp_class_of(size_t n);

/* This thread's arena (chosen round-robin at its first call), and how many
 * arenas have been handed out (1..MP_ARENAS). */
int _mp_arena(void);
int _mp_arenas_used(void);

/* Take a slot of class c (this thread's arena) for n bytes (guards filled,
 * metadata LIVE, allocated by enum mp_family `family`).
 * Returns the user pointer, or NULL when the system has no memory. */
void *_mp_slab_alloc(int c, size_t n, uint32_t stack, uint8_t flags,
		     uint8_t family);

/* Slot i of s (taken, not yet LIVE) becomes the block of n bytes: metadata,
 * guards, then the state LIVE with a release store.  Returns the user
 * pointer. */
uintptr_t _mp_slab_init_slot(struct mp_slab *s, uint32_t i, size_t n,
			     uint32_t stack, uint8_t flags, uint8_t family);
/* Up to max free slots of class c of arena a, marked CACHED, into out[]
 * (slot indexes with their slabs); takes and drops the class lock.
 * Returns how many (0: no memory). */
struct mp_tc_slot {
	struct mp_slab *s;
	uint32_t i;
};
unsigned _mp_slab_take_batch(int a, int c, struct mp_tc_slot *out, unsigned max);

/* The slab holding address p, or NULL.  Lock-free. */
struct mp_slab *_mp_slab_of(uintptr_t p);

/* Where p falls in slab s: slot index and offset of p from that slot's
 * user start (negative in the front guard). */
uint32_t _mp_slab_locate(const struct mp_slab *s, uintptr_t p, long *off);

static inline uintptr_t _mp_slot_user(const struct mp_slab *s, uint32_t i)
{
	return s->base + (uintptr_t)i * s->stride + MP_GUARD_SIZE;
}


/* Put slot i back on its slab's free list; class lock held. */
void _mp_slab_release_locked(struct mp_class *c, struct mp_slab *s, uint32_t i);

/* Copy slot i's facts into *b; any lock state. */
void _mp_slab_block(const struct mp_slab *s, uint32_t i, struct mp_block *b);

/* Unmap every slab and reset every class (mp_destroy; no other thread may
 * use the pool). */
void _mp_slab_destroy_all(void);

/* fork support: take / drop every class lock in a fixed order. */
void _mp_slab_lock_all(void);
void _mp_slab_unlock_all(void);
/* ... and the fork's parent and child handlers: unlock, and count the
 * child's fork generation (block.h). */
void _mp_slab_fork_parent(void);
void _mp_slab_fork_child(void);

/* Live blocks whose guards the exit check read (check.c), for the JSON
 * report's stats: in a forked child, the ones it made. */
extern size_t _mp_exit_live_checked;

/* Whether slab s may hold a block of this process's own (below). */
static inline int _mp_slab_has_own(const struct mp_slab *s)
{
	return s->gen == _mp_heap_gen;
}

/* A live block's owner: made by this process since its fork (or the
 * process was never forked). */
static inline int _mp_slot_own(const struct mp_meta *m)
{
	return _mp_gen_of_aux(m->aux) == _mp_heap_gen;
}

#endif
