/* large.c - open-addressing hash table of real-allocator blocks.
 *
 * Keyed by user pointer with linear probing and backward-shift deletion (no
 * tombstones), so insert, lookup and removal stay O(1) with millions of
 * live blocks.  Storage is mmap'd: the table must never call malloc.
 */
#define _GNU_SOURCE
#include "mpassert.h"
#include "large.h"
#include "ohash.h"
#include "reent.h"
#include "vm.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

static pthread_mutex_t large_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mp_large *tab;
static size_t cap;    /* power of two, 0 before first insert */
static size_t count;

void _mp_large_lock(void) { pthread_mutex_lock(&large_lock); }
void _mp_large_unlock(void) { pthread_mutex_unlock(&large_lock); }

static inline size_t hash(uintptr_t p)
{
	/* user pointers are 16-aligned: mix the high bits down */
	uint64_t h = (uint64_t)p >> 4;
	h *= 0x9E3779B97F4A7C15ULL;
	return (size_t)(h >> 20);
}

static int grow(void)
{
	size_t ncap = cap ? cap * 2 : 1024;
	struct mp_large *nt = _mp_map(ncap * sizeof *nt, 0);
	if (!nt)
		return -1;
	for (size_t i = 0; i < cap; i++) {
		if (!tab[i].user)
			continue;
		size_t j = hash(tab[i].user) & (ncap - 1);
		while (nt[j].user)
			j = (j + 1) & (ncap - 1);
		nt[j] = tab[i];
	}
	/* The old table is unmapped under the lock: it is our own metadata,
	 * never user memory, and no report is being written from it. */
	if (tab)
		_mp_unmap(tab, cap * sizeof *tab);
	tab = nt;
	cap = ncap;
	return 0;
}

int _mp_large_insert_locked(const struct mp_large *e)
{
	if ((count + 1) * 4 > cap * 3 && grow() != 0) {
		errno = ENOMEM;
		return -1;
	}
	size_t j = hash(e->user) & (cap - 1);
	while (tab[j].user)
		j = (j + 1) & (cap - 1);
	tab[j] = *e;
	tab[j].flags |= MP_F_KIND_UNJUDGED;
	tab[j].aux = _mp_tls.lsan_off > 0 ? MP_AUX_IGNORED : 0;
	tab[j].gen = _mp_heap_gen;
	count++;
	return 0;
}

struct mp_large *_mp_large_find_locked(uintptr_t user)
{
	if (!cap || !user)
		return NULL;
	size_t j = hash(user) & (cap - 1);
	while (tab[j].user) {
		if (tab[j].user == user)
			return &tab[j];
		j = (j + 1) & (cap - 1);
	}
	return NULL;
}

void _mp_large_remove_locked(struct mp_large *e)
{
	MP_CHECK(e >= tab && e < tab + cap && e->user && count > 0);
	size_t i = (size_t)(e - tab);
	size_t j = i;
	/* backward-shift: pull later members of the probe run into the hole */
	for (;;) {
		j = (j + 1) & (cap - 1);
		if (!tab[j].user)
			break;
		if (_mp_ohash_fills_hole(hash(tab[j].user) & (cap - 1), i, j)) {
			tab[i] = tab[j];
			i = j;
		}
	}
	memset(&tab[i], 0, sizeof tab[i]);
	count--;
}

struct mp_large *_mp_large_find_interior_locked(uintptr_t p)
{
	for (size_t i = 0; i < cap; i++) {
		struct mp_large *e = &tab[i];
		if (e->user && !(e->flags & MP_F_INTERNAL) &&
		    p >= e->real && p < e->user + e->size + MP_GUARD_SIZE)
			return e;
	}
	return NULL;
}

struct mp_large *_mp_large_next_locked(size_t *pos)
{
	while (*pos < cap) {
		struct mp_large *e = &tab[(*pos)++];
		if (e->user)
			return e;
	}
	return NULL;
}

size_t _mp_large_count_locked(void) { return count; }

static atomic_size_t realloc_copied, realloc_in_place;

void _mp_large_note_realloc(size_t copied, int in_place)
{
	if (copied)
		atomic_fetch_add_explicit(&realloc_copied, copied,
					  memory_order_relaxed);
	if (in_place)
		atomic_fetch_add_explicit(&realloc_in_place, 1,
					  memory_order_relaxed);
}

void _mp_large_realloc_counts(size_t *copied, size_t *in_place)
{
	*copied = atomic_load_explicit(&realloc_copied, memory_order_relaxed);
	*in_place = atomic_load_explicit(&realloc_in_place, memory_order_relaxed);
}

void _mp_large_reset(void)
{
	pthread_mutex_lock(&large_lock);
	if (tab)
		_mp_unmap(tab, cap * sizeof *tab);
	tab = NULL;
	cap = count = 0;
	pthread_mutex_unlock(&large_lock);
}
