/* large.h - live table of blocks served by the real allocator. */
#ifndef MP_LARGE_H
#define MP_LARGE_H

#include "block.h"

struct mp_large {
	uintptr_t user;       /* key; 0 = empty slot */
	uintptr_t real;       /* what the real allocator returned */
	size_t size;          /* requested bytes */
	uint32_t alloc_stack;
	uint32_t free_stack;
	uint8_t state;        /* LIVE or QUAR */
	uint8_t flags;        /* MP_F_*; MP_F_GUARDPAGE: real is an mmap of
			       * map_pages pages from guardpage.c */
	uint8_t gp_under : 1; /* guard page before the block, not after */
	uint8_t aux : 5;      /* enum mp_aux (block.h) */
	uint8_t regrown : 1;  /* made by realloc: the next realloc may resize
			       * it in place (realloc.c) */
	uint8_t family : MP_FAM_BITS;          /* enum mp_family */
	uint8_t align_log : 8 - MP_FAM_BITS;   /* aligned new: log2(alignment) */
	uint32_t map_pages;
	uint32_t gen;         /* fork generation that made it (block.h) */
};

/* Copy an entry's facts into a block description (verdicts, reports). */
static inline void _mp_large_block(const struct mp_large *e, struct mp_block *b)
{
	*b = (struct mp_block){ .user = e->user, .size = e->size, .cls = -1,
				.alloc_stack = e->alloc_stack,
				.free_stack = e->free_stack, .state = e->state,
				.flags = e->flags, .family = e->family,
				.align_log = e->align_log };
}

/* Made by this process since its fork (block.h: fork generations). */
static inline int _mp_large_own(const struct mp_large *e)
{
	return e->gen == _mp_heap_gen;
}

/* Every function below takes the table lock unless it says _locked. */
void _mp_large_lock(void);
void _mp_large_unlock(void);

/* Insert; returns 0, or -1 when the table cannot grow (ENOMEM). */
int _mp_large_insert_locked(const struct mp_large *e);
/* Entry with this exact user pointer, or NULL. */
struct mp_large *_mp_large_find_locked(uintptr_t user);
/* Remove the entry (pointer from find). */
void _mp_large_remove_locked(struct mp_large *e);
/* A live non-internal block whose [real, user + size + guard) holds p. */
struct mp_large *_mp_large_find_interior_locked(uintptr_t p);

/* Iterate entries: *pos starts at 0; returns NULL at the end. */
struct mp_large *_mp_large_next_locked(size_t *pos);

size_t _mp_large_count_locked(void);

/* realloc's work, for the JSON report's stats (a debug figure: a realloc
 * loop that copies its whole buffer at every step shows here as bytes
 * growing with the square of the steps): bytes copied from old blocks to
 * new ones, and reallocs that resized a block in place. */
void _mp_large_note_realloc(size_t copied, int in_place);
void _mp_large_realloc_counts(size_t *copied, size_t *in_place);

/* Drop the table (entries must have been released). */
void _mp_large_reset(void);

#endif
