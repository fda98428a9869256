/* realloc.c - realloc and malloc_usable_size: both start from the facts
 * of the live block a pointer names.  realloc moves a tracked block (a
 * stale pointer to the old one then lands in quarantine, where writes
 * through it are caught), as memcheck does, with one exception that keeps
 * a growing buffer linear: a large block (over 4 KiB) that realloc made
 * and that is realloc'd again is resized in place when its real block has
 * room, and when it must move it gets half its size again of room.  So
 * every block's first realloc moves, small blocks always move (a copy of
 * at most 4 KiB), and a buffer grown step by step moves a logarithmic
 * number of times instead of at every step (bash's $(...) of 2 MB grew
 * its buffer 16k times, copying 16 GB).  A stale pointer kept across an
 * in-place step is still the block's own pointer: nothing to catch, as
 * with glibc.  One of our helpers' own blocks stays with the real
 * allocator. */
#define _GNU_SOURCE
#include "pool.h"
#include "large.h"
#include "options.h"
#include "real.h"
#include "reent.h"
#include "report.h"
#include "slab.h"
#include "tcache.h"
#include "stack.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

/* Facts of the live, non-internal block starting exactly at p. */
static int live_block(uintptr_t p, struct mp_block *b)
{
	struct mp_slab *s = _mp_slab_of(p);
	int ok = 0;
	if (s) {
		struct mp_class *c = _mp_slab_class(s);
		long off;
		pthread_mutex_lock(&c->lock);
		uint32_t i = _mp_slab_locate(s, p, &off);
		if (i < s->nslots && off == 0 && _mp_meta_state(&s->meta[i]) == MP_ST_LIVE) {
			_mp_slab_block(s, i, b);
			ok = 1;
		}
		pthread_mutex_unlock(&c->lock);
		return ok;
	}
	_mp_large_lock();
	struct mp_large *e = _mp_large_find_locked(p);
	if (e && e->state == MP_ST_LIVE) {
		_mp_large_block(e, b);
		ok = 1;
	}
	_mp_large_unlock();
	return ok;
}

size_t _mp_usable_size(const void *ptr)
{
	struct mp_block b;
	if (!ptr)
		return 0;
	if (_mp_boot_owns(ptr))
		return _mp_boot_size(ptr);
	return live_block((uintptr_t)ptr, &b) ? b.size : 0;
}

/* An untracked block of the real allocator (one of our helpers' own)
 * stays there.  Its entry is claimed (taken out of the table) before the
 * real realloc: another thread may have freed or moved the block since
 * live_block saw it, and then there is nothing left to move. */
static void *internal_realloc(void *ptr, size_t n)
{
	_mp_large_lock();
	struct mp_large *e = _mp_large_find_locked((uintptr_t)ptr);
	struct mp_large ne;
	int claimed = e && (e->flags & MP_F_INTERNAL);
	if (claimed) {
		ne = *e;
		_mp_large_remove_locked(e);
	}
	_mp_large_unlock();
	if (!claimed) {
		errno = EINVAL;
		return NULL;
	}
	void *q = _mp_real_realloc(ptr, n);
	if (q) {
		ne.user = ne.real = (uintptr_t)q;
		ne.size = n;
	}
	_mp_large_lock();
	int rc = _mp_large_insert_locked(&ne); /* moved, or back as it was */
	_mp_large_unlock();
	(void)rc; /* a full table leaves the block untracked, never lost */
	return q;
}

static void *realloc_as(void *ptr, size_t n, uintptr_t caller, int report_zero);

void *_mp_realloc(void *ptr, size_t n, uintptr_t caller)
{
	return realloc_as(ptr, n, caller, _mp_opt.realloc_size_zero != 0);
}

/* mp_realloc: n == 0 frees, as its header documents: never an error */
void *_mp_realloc_api(void *ptr, size_t n, uintptr_t caller)
{
	return realloc_as(ptr, n, caller, 0);
}

static void *realloc_as(void *ptr, size_t n, uintptr_t caller, int report_zero)
{
	if (!ptr)
		return _mp_alloc(n, MP_ALIGN, caller);
	struct mp_block b;
	size_t old;
	if (_mp_boot_owns(ptr)) {
		old = _mp_boot_size(ptr);
	} else if (live_block((uintptr_t)ptr, &b)) {
		old = b.size;
		if (b.flags & MP_F_INTERNAL)
			return internal_realloc(ptr, n);
	} else {
		/* not a live block: let free's checks word the report */
		_mp_free(ptr, caller, "realloc");
		errno = EINVAL;
		return NULL;
	}
	if (n == 0) { /* glibc: realloc(p, 0) frees p and returns NULL */
		if (report_zero && !_mp_boot_owns(ptr) &&
		    !_mp_busy()) {
			struct mp_verdict v = _mp_verdict(MP_E_REALLOC_SIZE_ZERO,
				(uintptr_t)ptr, &b, 0, 0, _mp_stack_here(caller),
				"realloc");
			_mp_report_error(&v);
		}
		_mp_free(ptr, caller, "realloc");
		return NULL;
	}
	int regrown = 0;
	if (!_mp_boot_owns(ptr) && b.cls < 0) {
		void *same = _mp_resize_in_place(ptr, n, caller, &regrown);
		if (same)
			return same;
	}
	/* Move: a stale pointer to the old block then lands in quarantine,
	 * where writes through it are caught. */
	void *q = _mp_alloc_as(n, MP_ALIGN, MP_FAM_MALLOC | MP_ALLOC_REGROW |
			       (regrown ? MP_ALLOC_SLACK : 0), caller);
	if (!q)
		return NULL;
	memcpy(q, ptr, old < n ? old : n);
	_mp_large_note_realloc(old < n ? old : n, 0);
	_mp_free(ptr, caller, "realloc");
	return q;
}
