/* guard.c - guard zones and freed-block poison.
 *
 * Checks compare eight bytes at a time and only fall back to a byte scan
 * once a word differs, so a free costs about one pass over 32 guard bytes
 * plus the class slack.
 */
#include "guard.h"
#include "block.h"
#include "verdict.h"
#include "mpassert.h"

#include <string.h>

#define WORD_OF(b) (0x0101010101010101ULL * (unsigned char)(b))

void _mp_guard_fill(uintptr_t user, size_t n, size_t rear)
{
	memset((void *)(user - MP_GUARD_SIZE), MP_GUARD_BYTE, MP_GUARD_SIZE);
	memset((void *)(user + n), MP_GUARD_BYTE, rear);
}

void _mp_guard_fill_rear(uintptr_t user, size_t n, size_t rear)
{
	memset((void *)(user + n), MP_GUARD_BYTE, rear);
}

/* Count bytes in [p, p+len) that differ from `byte`; first = index of the
 * first, -1 if none. */
static size_t scan(const unsigned char *p, size_t len, unsigned char byte,
		   long *first)
{
	const unsigned long long w = WORD_OF(byte);
	size_t i = 0, bad = 0;
	*first = -1;
	/* fast path: skip intact words (unaligned loads through memcpy), 32
	 * bytes per test: poison checks read up to 256 bytes per block */
	while (i + 32 <= len) {
		unsigned long long a, b, c, d;
		memcpy(&a, p + i, 8);
		memcpy(&b, p + i + 8, 8);
		memcpy(&c, p + i + 16, 8);
		memcpy(&d, p + i + 24, 8);
		if ((a ^ w) | (b ^ w) | (c ^ w) | (d ^ w))
			goto slow;
		i += 32;
	}
	while (i + 8 <= len) {
		unsigned long long v;
		memcpy(&v, p + i, 8);
		if (v != w)
			goto slow;
		i += 8;
	}
	while (i < len)
		if (p[i++] != byte)
			goto slow;
	return 0;
slow:
	for (i = 0; i < len; i++)
		if (p[i] != byte) {
			if (*first < 0)
				*first = (long)i;
			bad++;
		}
	return bad;
}

int _mp_guard_check(uintptr_t user, size_t n, size_t front_len, size_t rear,
		    struct mp_damage *front, struct mp_damage *back)
{
	long f;
	if (front_len == MP_GUARD_SIZE && rear == MP_GUARD_SIZE &&
	    _mp_guards16_intact(user, n)) {
		front->count = back->count = 0;
		front->first = back->first = 0;
		return 0;
	}
	front->count = scan((const unsigned char *)(user - front_len), front_len,
			    MP_GUARD_BYTE, &f);
	front->first = front->count ? f - (long)front_len : 0;
	back->count = scan((const unsigned char *)(user + n), rear,
			   MP_GUARD_BYTE, &f);
	back->first = back->count ? (long)n + f : 0;
	return front->count || back->count;
}

void _mp_poison(uintptr_t user, size_t n)
{
	memset((void *)user, MP_FREE_BYTE, n);
}

int _mp_poison_check(uintptr_t user, size_t n, struct mp_damage *d)
{
	long f;
	d->count = scan((const unsigned char *)user, n, MP_FREE_BYTE, &f);
	d->first = d->count ? f : 0;
	return d->count != 0;
}

int _mp_freed_check(uintptr_t user, size_t n, size_t poisoned,
		    struct mp_damage *d)
{
	/* the guards were intact when the block was freed (free checks
	 * them), so damage to them now is a write after the free too */
	struct mp_damage front, back, in;
	_mp_guard_check(user, n, MP_GUARD_SIZE, MP_GUARD_SIZE, &front, &back);
	_mp_poison_check(user, poisoned, &in);
	d->count = front.count + in.count + back.count;
	d->first = front.count ? front.first : in.count ? in.first : back.first;
	return d->count != 0;
}

/* Damage to a freed block as maximal runs of changed bytes: each run is one
 * write of the program's (found late, at eviction or a check, not at the
 * access), reported as its own error as memcheck reports each invalid write.
 * Bytes past the poisoned span are not checked and end a run. */
int _mp_freed_runs(uintptr_t user, size_t n, size_t poisoned,
		   struct mp_damage *d, int max)
{
	struct mp_damage all;
	MP_DCHECK(max > 0 && poisoned <= n);
	if (!_mp_freed_check(user, n, poisoned, &all))
		return 0;
	const unsigned char *p = (const unsigned char *)user;
	const long end = (long)(n + MP_GUARD_SIZE);
	int k = 0, inrun = 0;
	for (long off = -(long)MP_GUARD_SIZE; off < end; off++) {
		if (off == (long)poisoned && poisoned < n) {
			inrun = 0;
			off = (long)n - 1; /* the unchecked rest: resume at the guard */
			continue;
		}
		unsigned char want = off < 0 || off >= (long)n ? MP_GUARD_BYTE
							       : MP_FREE_BYTE;
		if (p[off] == want) {
			inrun = 0;
		} else if (inrun || k == max) {
			d[k - 1].count++; /* past max runs: the last one takes the rest */
			inrun = 1;
		} else {
			d[k].first = off;
			d[k++].count = 1;
			inrun = 1;
		}
	}
	MP_DCHECK(k > 0);
	return k;
}

int _mp_guard_verdicts(const struct mp_block *b, size_t front_len, size_t rear,
			  uint32_t access, const char *where,
			  struct mp_verdict *v)
{
	struct mp_damage front, back;
	int nv = 0;
	if (!_mp_guard_check(b->user, b->size, front_len, rear, &front, &back))
		return 0;
	if (front.count)
		v[nv++] = _mp_verdict(MP_E_UNDERFLOW, b->user + (uintptr_t)front.first,
				      b, front.first, front.count, access, where);
	if (back.count)
		v[nv++] = _mp_verdict(MP_E_OVERFLOW, b->user + (uintptr_t)back.first,
				      b, back.first, back.count, access, where);
	return nv;
}
