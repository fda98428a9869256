/* guard.h - guard zones and free poison: fill and verify. */
#ifndef MP_GUARD_H
#define MP_GUARD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "block.h"

struct mp_damage {
	size_t count;  /* damaged bytes, 0 = intact */
	long first;    /* offset of the first damaged byte from user start */
};

/* Both 16-byte guards of the n-byte block at user intact: the common case
 * of every free, decided with four word loads (inline: the free path asks
 * it before copying anything for a report). */
static inline int _mp_guards16_intact(uintptr_t user, size_t n)
{
	_Static_assert(MP_GUARD_SIZE == 16, "four 8-byte words");
	const unsigned long long w = 0x0101010101010101ULL * MP_GUARD_BYTE;
	unsigned long long a, b, c, d;
	memcpy(&a, (const void *)(user - 16), 8);
	memcpy(&b, (const void *)(user - 8), 8);
	memcpy(&c, (const void *)(user + n), 8);
	memcpy(&d, (const void *)(user + n + 8), 8);
	return ((a ^ w) | (b ^ w) | (c ^ w) | (d ^ w)) == 0;
}

/* Fill the front guard and `rear` bytes after user[n-1] with MP_GUARD_BYTE. */
void _mp_guard_fill(uintptr_t user, size_t n, size_t rear);

/* Fill only the rear guard (a guard page stands in front). */
void _mp_guard_fill_rear(uintptr_t user, size_t n, size_t rear);

/* Verify `front` bytes before the block and `rear` after it; returns 1 if
 * any byte changed.  front->first is negative (-1: the byte just before). */
int _mp_guard_check(uintptr_t user, size_t n, size_t front_len, size_t rear,
		    struct mp_damage *front, struct mp_damage *back);

/* Poison / verify a freed block's user bytes with MP_FREE_BYTE. */
void _mp_poison(uintptr_t user, size_t n);
int _mp_poison_check(uintptr_t user, size_t n, struct mp_damage *d);

/* A freed (quarantined) block: its first `poisoned` bytes still poisoned
 * and both guards intact?  d: the first damaged byte (negative: the front
 * guard; n or more: the rear guard) and how many were damaged. */
int _mp_freed_check(uintptr_t user, size_t n, size_t poisoned,
		    struct mp_damage *d);

/* The changed bytes of a freed block as up to max maximal runs, d[0..k)
 * in address order (bytes of further runs are counted in d[max-1]);
 * returns k, 0 when intact.  Each run is reported as one write. */
#define MP_FREED_RUNS_MAX 8
int _mp_freed_runs(uintptr_t user, size_t n, size_t poisoned,
		   struct mp_damage *d, int max);

/* Ask for the cache lines a free or an eviction is about to read and write
 * (front guard and the poisoned first 256 bytes) ahead of time: a block
 * freed or evicted long after it was touched is cold, and these misses
 * otherwise stall the locked instructions that follow.  gcc 12 drops
 * __builtin_prefetch in some contexts (seen in quarantine.c's code), so the
 * instruction is spelled out. */
static inline void _mp_prefetch_line(const void *p)
{
	__asm__ volatile("prefetcht0 %0" : : "m"(*(const char *)p));
}

static inline void _mp_prefetch_block(uintptr_t user, size_t size)
{
	_mp_prefetch_line((const char *)user - 16);
	if (size > 48)
		_mp_prefetch_line((const char *)user + 48);
	if (size > 112)
		_mp_prefetch_line((const char *)user + 112);
	if (size > 176)
		_mp_prefetch_line((const char *)user + 176);
}

#endif
