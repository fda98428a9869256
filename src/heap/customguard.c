/* customguard.c - the redzones a pool declares and the poison of its freed
 * blocks, checked as our own blocks' guards and quarantine are (the
 * program's own allocators, custom.c).  A pool block's redzone
 * (VALGRIND_CREATE_MEMPOOL's rzB) is filled with the guard byte at its
 * MEMPOOL_ALLOC where it lies inside our heap block holding it and outside
 * other blocks; a freed pool block's first 256 bytes are poisoned.  Without
 * instrumentation a write there is found after the fact: at the block's
 * free, when its memory is handed out again, at mp_check and at exit. */
#define _GNU_SOURCE
#include "custom.h"
#include "block.h"
#include "guard.h"
#include "large.h"
#include "procmaps.h"
#include "slab.h"
#include "verdict.h"
#include "vm.h"

#include <pthread.h>
#include <string.h>

int _mp_cguard_chunk(uintptr_t addr, uintptr_t *lo, uintptr_t *hi)
{
	int found = 0;
	struct mp_slab *s = _mp_slab_of(addr);
	if (s) {
		struct mp_class *c = _mp_slab_class(s);
		long off;
		pthread_mutex_lock(&c->lock);
		uint32_t i = _mp_slab_locate(s, addr, &off);
		const struct mp_meta *m = &s->meta[i];
		if (m->state == MP_ST_LIVE && off >= 0 && (size_t)off < m->size) {
			*lo = _mp_slot_user(s, i);
			*hi = *lo + m->size;
			found = 1;
		}
		pthread_mutex_unlock(&c->lock);
		return found;
	}
	_mp_large_lock();
	struct mp_large *e = _mp_large_find_interior_locked(addr);
	if (e && e->state == MP_ST_LIVE && addr >= e->user &&
	    addr < e->user + e->size) {
		*lo = e->user;
		*hi = e->user + e->size;
		found = 1;
	}
	_mp_large_unlock();
	return found;
}

static struct mp_block as_block(const struct mp_cblock *c)
{
	return (struct mp_block){ .user = c->user, .size = c->size, .cls = -1,
				  .alloc_stack = c->alloc_stack,
				  .free_stack = c->free_stack, .state = c->state };
}

/* Bytes of [p, p + n) that are not `byte`: count and first index. */
static size_t changed(const unsigned char *p, size_t n, unsigned char byte,
		      long *first)
{
	size_t bad = 0;
	*first = 0;
	for (size_t i = 0; i < n; i++)
		if (p[i] != byte && !bad++)
			*first = (long)i;
	return bad;
}

int _mp_cguard_windows(const struct mp_cblock *c, uint32_t stack,
		       const char *where, struct mp_verdict *v)
{
	struct mp_block b = as_block(c);
	int nv = 0;
	long first;
	size_t bad;
	if (c->damaged)
		return 0;
	if (c->fill_front &&
	    (bad = changed((const unsigned char *)(c->user - c->fill_front),
			   c->fill_front, MP_GUARD_BYTE, &first))) {
		long off = first - (long)c->fill_front;
		v[nv++] = _mp_verdict(MP_E_UNDERFLOW, c->user + (uintptr_t)off, &b,
				      off, bad, stack, where);
	}
	if (c->fill_rear &&
	    (bad = changed((const unsigned char *)(c->user + c->size),
			   c->fill_rear, MP_GUARD_BYTE, &first))) {
		long off = (long)c->size + first;
		v[nv++] = _mp_verdict(MP_E_OVERFLOW, c->user + (uintptr_t)off, &b,
				      off, bad, stack, where);
	}
	return nv;
}

int _mp_cguard_poison(const struct mp_cblock *c, uint32_t stack,
		      const char *where, struct mp_verdict *v)
{
	struct mp_block b = as_block(c);
	const unsigned char *p = (const unsigned char *)c->user;
	int k = 0, inrun = 0;
	if (c->damaged)
		return 0;
	for (size_t i = c->skip; i < c->poisoned; i++) {
		if (p[i] == MP_FREE_BYTE) {
			inrun = 0;
		} else if (inrun || k == MP_FREED_RUNS_MAX) {
			v[k - 1].count++; /* past the last run: it takes the rest */
			inrun = 1;
		} else { /* one error per run of changed bytes: one write */
			v[k++] = _mp_verdict(MP_E_USE_AFTER_FREE, c->user + i, &b,
					     (long)i, 1, stack, where);
			inrun = 1;
		}
	}
	return k;
}

/* The chunk the bytes [lo, hi) lie in is still ours and live, or is no
 * heap block of ours at all (a pool in mmap'd or static memory), and they
 * can be read. */
static int checkable(uintptr_t lo, uintptr_t hi)
{
	uintptr_t clo, chi;
	if (lo >= hi || !_mp_readable(lo, hi))
		return 0;
	if (_mp_cguard_chunk(lo, &clo, &chi))
		return hi <= chi;
	/* not in a live block of ours: in a freed one (the program freed the
	 * pool's chunk), or outside our heap */
	return !_mp_slab_of(lo) && !_mp_cguard_chunk(hi - 1, &clo, &chi);
}

int _mp_cguard_check_all(uint32_t stack, const char *where, int sweep,
			 void (*report)(struct mp_verdict *, void *), void *arg)
{
	struct mp_csnap s;
	struct mp_verdict v[MP_FREED_RUNS_MAX > 2 ? MP_FREED_RUNS_MAX : 2];
	int blocks = 0;
	if (_mp_custom_snapshot(&s) != 0)
		return 0;
	/* live neighbours clip: maxend = the furthest end (with its rear
	 * window) of the live blocks before i */
	uintptr_t maxend = 0;
	for (size_t i = 0; i < s.n; i++) {
		struct mp_cblock c = s.a[i];
		int nv = 0;
		uintptr_t next = UINTPTR_MAX; /* the next live start at or after
					       * this block's end (or start) */
		uintptr_t end = c.user + (c.state == MP_ST_LIVE ? c.size : c.poisoned);
		for (size_t j = i + 1; j < s.n; j++)
			if (s.a[j].state == MP_ST_LIVE && s.a[j].user >= end) {
				next = s.a[j].user -
				       (c.state == MP_ST_FREED ? s.a[j].fill_front : 0);
				break;
			} else if (c.state == MP_ST_FREED && s.a[j].state == MP_ST_LIVE) {
				next = 0; /* a live block starts inside it */
				break;
			}
		if (c.state == MP_ST_LIVE) {
			if (c.user - c.fill_front < maxend)
				c.fill_front = (uint8_t)(maxend >= c.user ? 0 : c.user - maxend);
			if (next < end + c.fill_rear)
				c.fill_rear = (uint8_t)(next - end);
			uintptr_t ce = c.user + c.size + s.a[i].fill_rear;
			if (ce > maxend)
				maxend = ce;
			if ((c.fill_front || c.fill_rear) && !c.damaged &&
			    checkable(c.user - c.fill_front, c.user + c.size + c.fill_rear))
				nv = _mp_cguard_windows(&c, stack, where, v);
		} else if (c.user >= maxend && next >= end && !c.damaged &&
			   checkable(c.user, end)) {
			nv = _mp_cguard_poison(&c, stack, where, v);
		}
		if (!nv)
			continue;
		_mp_custom_mark_damaged(c.user, c.state);
		blocks++;
		for (int k = 0; k < nv; k++) {
			v[k].sweep = sweep;
			report(&v[k], arg);
		}
	}
	_mp_custom_snapshot_release(&s);
	return blocks;
}
