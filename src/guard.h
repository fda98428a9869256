/* guard.h - guard zones and free poison: fill and verify. */
#ifndef MP_GUARD_H
#define MP_GUARD_H

#include <stddef.h>
#include <stdint.h>

struct mp_damage {
	size_t count;  /* damaged bytes, 0 = intact */
	long first;    /* offset of the first damaged byte from user start */
};

/* Fill the front guard and `rear` bytes after user[n-1] with MP_GUARD_BYTE. */
void _mp_guard_fill(uintptr_t user, size_t n, size_t rear);

/* Verify both guards; returns 1 if any byte changed.  front->first is
 * negative (e.g. -1 for the byte just before the block). */
int _mp_guard_check(uintptr_t user, size_t n, size_t rear,
		    struct mp_damage *front, struct mp_damage *back);

/* Poison / verify a freed block's user bytes with MP_FREE_BYTE. */
void _mp_poison(uintptr_t user, size_t n);
int _mp_poison_check(uintptr_t user, size_t n, struct mp_damage *d);

#endif
