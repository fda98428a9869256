/* pool.c - allocate, free, realloc and check blocks.
 *
 * Detection lives here and returns verdicts (a call's own errors:
 * callcheck.c); report.c words them.  Stacks are captured before any lock
 * is taken, verdicts are built from copies made under the lock, and
 * reports are printed after it is dropped.  Calls made
 * under the reentrancy guard (libunwind, libdw, dlsym) are served untracked
 * by the real allocator and marked internal.
 */
#define _GNU_SOURCE
#include "pool.h"
#include "bytecount.h"
#include "gpsites.h"
#include "depot.h"
#include "guard.h"
#include "guardpage.h"
#include "large.h"
#include "options.h"
#include "profile.h"
#include "quarantine.h"
#include "real.h"
#include "reent.h"
#include "report.h"
#include "slab.h"
#include "stack.h"
#include "tcache.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>


static size_t large_blocks, large_bytes, large_allocs, large_frees;
static atomic_ulong ops; /* allocator calls, for check_every */
static int foreign_malloc; /* malloc resolves to another allocator */

void _mp_set_foreign_malloc(int yes)
{
	foreign_malloc = yes;
}

static void maybe_check(uintptr_t caller)
{
	unsigned long n = (unsigned long)_mp_opt.check_every;
	if (n && atomic_fetch_add_explicit(&ops, 1, memory_order_relaxed) % n ==
			 n - 1)
		_mp_check_all(caller, "check_every");
}

/* A block counted in (n bytes made at `stack`): the profile first, so that
 * a new peak's snapshot includes it.  The profile starts at the first
 * allocation it sees (its series reads the live bytes from here). */
static inline void counted_alloc(size_t n, uint32_t stack, void *p)
{
	if (_mp_opt.profile) {
		if (__builtin_expect(!_mp_profile_on(), 0))
			_mp_profile_start(_mp_bytes_live);
		_mp_profile_alloc(stack, n, (uintptr_t)p);
	}
	if (_mp_bytes_alloc(n) && _mp_opt.profile)
		_mp_profile_peak();
}

static inline void counted_free(size_t n, uint32_t stack, uintptr_t p)
{
	_mp_bytes_free(n);
	if (_mp_opt.profile)
		_mp_profile_free(stack, n, p);
}

void _mp_counters_get(struct mp_counters *c, int lock)
{
	c->bytes_in_use = _mp_bytes_live();
	c->peak_bytes = _mp_bytes_peak();
	c->allocs = c->frees = 0;
	for (int k = 0; k < MP_ARENAS * MP_NUM_CLASSES; k++) {
		struct mp_class *cl = _mp_class_at(k);
		if (lock)
			pthread_mutex_lock(&cl->lock);
		c->allocs += cl->allocs + _mp_tc_fast_count(k / MP_NUM_CLASSES,
							    k % MP_NUM_CLASSES);
		c->frees += cl->frees;
		if (lock)
			pthread_mutex_unlock(&cl->lock);
	}
	if (lock)
		_mp_large_lock();
	c->allocs += large_allocs;
	c->frees += large_frees;
	c->large_blocks = large_blocks;
	c->large_bytes = large_bytes;
	if (lock)
		_mp_large_unlock();
}

void _mp_counters_reset(void)
{
	_mp_bytes_reset();
	_mp_large_lock();
	large_blocks = large_bytes = large_allocs = large_frees = 0;
	_mp_large_unlock();
}

/* ---- internal (reentrant) allocations ---------------------------------- */

static void *internal_alloc(size_t n, size_t align)
{
	void *p = align > 16 ? _mp_real_memalign(align, n) : _mp_real_malloc(n);
	if (!p || _mp_boot_owns(p))
		return p;
	struct mp_large e = { .user = (uintptr_t)p, .real = (uintptr_t)p,
			      .size = n, .state = MP_ST_LIVE,
			      .flags = MP_F_INTERNAL };
	_mp_large_lock();
	int rc = _mp_large_insert_locked(&e);
	_mp_large_unlock();
	if (rc != 0) {
		_mp_real_free(p);
		errno = ENOMEM;
		return NULL;
	}
	return p;
}

/* ---- allocation --------------------------------------------------------- */

static int track_large(const struct mp_large *e);

static uint8_t align_log(size_t align)
{
	return align ? (uint8_t)__builtin_ctzl(align) : 0;
}

static void *large_alloc(size_t n, size_t align, unsigned family,
			 uint32_t stack)
{
	size_t front = align > MP_GUARD_SIZE ? align : MP_GUARD_SIZE;
	size_t total, slack = family & MP_ALLOC_SLACK ? n / 2 : 0;
	if (__builtin_add_overflow(n, front + MP_GUARD_SIZE, &total) ||
	    total > PTRDIFF_MAX) {
		errno = ENOMEM;
		return NULL;
	}
	if (total <= PTRDIFF_MAX - slack) /* else no room to spare */
		total += slack;
	char *real = align > MP_GUARD_SIZE ? _mp_real_memalign(align, total) :
		     family & MP_ALLOC_ZERO ? _mp_real_calloc(1, total) : _mp_real_malloc(total);
	if (!real) {
		errno = ENOMEM;
		return NULL;
	}
	uintptr_t user = (uintptr_t)real + front;
	_mp_guard_fill(user, n, MP_GUARD_SIZE);
	struct mp_large e = { .user = user, .real = (uintptr_t)real, .size = n,
			      .alloc_stack = stack, .state = MP_ST_LIVE,
			      .family = family & MP_FAM_MASK,
			      .align_log = align_log(align),
			      .regrown = (family & MP_ALLOC_REGROW) != 0 };
	if (track_large(&e) != 0) {
		_mp_real_free(real);
		errno = ENOMEM;
		return NULL;
	}
	return (void *)user;
}

/* Enter a large or guard-page block in the table and the counters. */
static int track_large(const struct mp_large *e)
{
	_mp_large_lock();
	int rc = _mp_large_insert_locked(e);
	if (rc == 0) {
		large_blocks++;
		large_bytes += e->size;
		large_allocs++;
	}
	_mp_large_unlock();
	return rc;
}

static void *guarded_alloc(size_t n, size_t align, unsigned family,
			   uint32_t stack, int how)
{
	struct mp_large e;
	void *p = _mp_gp_alloc(n, align, stack, how, &e);
	if (p) {
		e.family = family & MP_FAM_MASK;
		e.align_log = align_log(align);
	}
	if (p && track_large(&e) != 0) {
		_mp_gp_release(e.real, e.map_pages);
		p = NULL;
	}
	return p;
}

static int aligned_family(unsigned family)
{
	return family == MP_FAM_NEW_ALIGNED || family == MP_FAM_NEW_ARRAY_ALIGNED;
}

static void *alloc_impl(size_t n, size_t align, unsigned family,
			uintptr_t caller)
{
	int zero = (family & MP_ALLOC_ZERO) != 0; /* still to be zeroed */
	void *p = NULL;
	if (_mp_busy() || _mp_ensure_init() != 0)
		return (p = internal_alloc(n, align)) && zero ? memset(p, 0, n) : p;
	maybe_check(caller);
	uint32_t stack = _mp_stack_here(caller);
	int site = MP_GP_NONE;
	/* guard_page_sites given: is this one of them? (the option field
	 * first: no call on the usual path) */
	if (_mp_opt.guard_page_sites && _mp_gp_sites_active()) {
		const uintptr_t *pcs;
		unsigned depth = _mp_depot_get(stack, &pcs);
		site = _mp_gp_site_match(pcs, depth);
	}
	/* no guard pages asked for (the usual case): not even a call */
	int how = _mp_opt.guard_page_rate || _mp_opt.guard_page_sites
			  ? _mp_gp_wanted(n, align, site) : MP_GP_NONE;
	if (how)
		p = guarded_alloc(n, align, family, stack, how); /* NULL: usual way */
	/* a slot has no room for an alignment: aligned news are large */
	int c = align <= MP_ALIGN && !aligned_family(family) ? _mp_class_of(n)
							      : -1;
	zero = zero && (p || c >= 0 || align > MP_GUARD_SIZE); /* else: calloc */
	if (!p)
		p = c >= 0 ? _mp_tc_alloc(c, n, stack, 0, (uint8_t)family)
			   : large_alloc(n, align, family, stack);
	if (p)
		counted_alloc(n, stack, p);
	return p && zero ? memset(p, 0, n) : p;
}

/* ---- realloc in place ---------------------------------------------------- */

static inline void left_pool(void *ret);

/* The live large block at p may be resized to n where it is; large lock
 * held.  Sets *regrown. */
static struct mp_large *resizable_locked(uintptr_t p, size_t n, int *regrown)
{
	struct mp_large *e = _mp_large_find_locked(p);
	*regrown = e && e->regrown;
	if (!e || !e->regrown || e->state != MP_ST_LIVE ||
	    (e->flags & (MP_F_INTERNAL | MP_F_GUARDPAGE | MP_F_REPORTED)) ||
	    e->family != MP_FAM_MALLOC || e->user - e->real != MP_GUARD_SIZE)
		return NULL;
	size_t room = _mp_real_usable_size((void *)e->real);
	if (room < 2 * MP_GUARD_SIZE)
		return NULL;
	room -= 2 * MP_GUARD_SIZE;
	if (n > room || n < room / 4 || !_mp_guards16_intact(p, e->size))
		return NULL; /* damaged guards: the move's free reports them */
	return e;
}

void *_mp_resize_in_place(void *ptr, size_t n, uintptr_t caller, int *regrown)
{
	uintptr_t p = (uintptr_t)ptr;
	*regrown = 0;
	if (n <= MP_MAX_CLASS || _mp_busy() || _mp_ensure_init() != 0)
		return NULL;
	_mp_large_lock();
	int ok = resizable_locked(p, n, regrown) != NULL;
	_mp_large_unlock();
	if (!ok)
		return NULL;
	_mp_tls.in_pool++;
	uint32_t stack = _mp_stack_here(caller); /* no lock held */
	size_t old = 0;
	uint32_t old_stack = 0;
	_mp_large_lock();
	struct mp_large *e = resizable_locked(p, n, regrown); /* still? */
	if (e) {
		old = e->size;
		old_stack = e->alloc_stack;
		e->size = n;
		e->alloc_stack = stack;
		e->gen = _mp_heap_gen; /* the move's new block: this process's */
		_mp_guard_fill_rear(p, n, MP_GUARD_SIZE);
		large_bytes += n;
		large_bytes -= old;
		/* counted as the move it replaces: one allocation, one free */
		large_allocs++;
		large_frees++;
	}
	_mp_large_unlock();
	if (e) {
		counted_free(old, old_stack, p);
		counted_alloc(n, stack, ptr);
		_mp_large_note_realloc(0, 1);
	}
	_mp_tls.in_pool--;
	left_pool(e ? ptr : NULL);
	return e ? ptr : NULL;
}

/* ---- free --------------------------------------------------------------- */

static void release(const struct mp_qent *q);

/* Poison a freed block (a guard-page one is inaccessible), drop its unchecked
 * pages, quarantine it, release evictees; mend guards damaged (and reported)
 * at or before the free: damage the quarantine finds came after it. */
static void retire(uintptr_t user, size_t size, int guarded, int damaged)
{
	struct mp_qent out[MP_Q_BATCH];
	if (!guarded) {
		_mp_poison(user, size < MP_POISON_MAX ? size : MP_POISON_MAX);
		_mp_quarantine_drop_pages(user + MP_POISON_MAX, user + size, size);
		if (damaged)
			_mp_guard_fill(user, size, MP_GUARD_SIZE);
	}
	size_t k = _mp_quarantine_push(user, size, out, MP_Q_BATCH);
	while (k) {
		for (size_t i = 0; i < k; i++)
			release(&out[i]);
		k = _mp_quarantine_drain(out, MP_Q_BATCH);
	}
}

/* A block leaves quarantine: verify its poison, then make it reusable. */
static void release(const struct mp_qent *q)
{
	struct mp_block blk;
	int bad = 0; /* runs of changed bytes, each one write */
	struct mp_damage d[MP_FREED_RUNS_MAX];
	size_t checked = q->size < MP_POISON_MAX ? q->size : MP_POISON_MAX;
	struct mp_slab *s = _mp_slab_of(q->user);
	if (s) {
		struct mp_class *c = _mp_slab_class(s);
		long off;
		pthread_mutex_lock(&c->lock);
		uint32_t i = _mp_slab_locate(s, q->user, &off);
		struct mp_meta *m = &s->meta[i];
		if (!(m->flags & MP_F_REPORTED) &&
		    (bad = _mp_freed_runs(q->user, q->size, checked, d,
					  MP_FREED_RUNS_MAX)) > 0) {
			m->flags |= MP_F_REPORTED;
			_mp_slab_block(s, i, &blk);
		}
		m->flags &= (uint8_t)~MP_F_REPORTED;
		/* released: reusable, first by this thread (its cache) */
		if (!_mp_tc_keep_locked(s, i))
			_mp_slab_release_locked(c, s, i);
		c->quarantined--;
		pthread_mutex_unlock(&c->lock);
	} else {
		uintptr_t real = 0;
		struct mp_large gone = { 0 };
		_mp_large_lock();
		struct mp_large *e = _mp_large_find_locked(q->user);
		if (e) {
			gone = *e;
			if (!(e->flags & (MP_F_REPORTED | MP_F_GUARDPAGE)) &&
			    (bad = _mp_freed_runs(q->user, q->size, checked, d,
						  MP_FREED_RUNS_MAX)) > 0)
				_mp_large_block(e, &blk);
			real = e->real;
			_mp_large_remove_locked(e);
		}
		_mp_large_unlock();
		if (real && (gone.flags & MP_F_GUARDPAGE))
			_mp_gp_release(real, gone.map_pages);
		else if (real)
			_mp_real_free((void *)real);
	}
	for (int k = 0; k < bad; k++) {
		struct mp_verdict v = _mp_verdict(MP_E_USE_AFTER_FREE, q->user + (uintptr_t)d[k].first,
				&blk, d[k].first, d[k].count, 0, "quarantine eviction");
		v.sweep = 1;
		_mp_report_error(&v);
	}
}

/* i, off: where p falls in s (_mp_slab_locate; a slab's geometry never
 * changes, so the caller works it out before taking the lock) */
static void slab_free(struct mp_slab *s, uintptr_t p, uint32_t i, long off,
		      uint32_t stack, const struct mp_dealloc *d)
{
	const char *where = d->where;
	struct mp_class *c = _mp_slab_class(s);
	struct mp_verdict v[3];
	int nv = 0, freed = 0, damaged = 0;
	size_t size = 0;
	uint32_t made_at = 0;
	pthread_mutex_lock(&c->lock);
	struct mp_meta *m = i < s->nslots ? &s->meta[i] : NULL;
	struct mp_block b;
	/* The common free, decided before anything is copied for a report:
	 * a live block, guards intact, released by its own family with no
	 * size or alignment to compare (dealloc_kind would find nothing). */
	uint8_t st = m ? _mp_meta_state(m) : MP_ST_UNUSED;
	int clean = m && off == 0 && st == MP_ST_LIVE &&
		    !(m->flags & MP_F_REPORTED) && m->family == d->family &&
		    !d->sized && !d->align &&
		    _mp_guards16_intact(p, m->size);
	if (m && !clean)
		_mp_slab_block(s, i, &b);
	if (clean) {
		/* nothing to report: go straight to the state change */
	} else if (!m || off != 0 || st == MP_ST_UNUSED) {
		/* a freed slot still names its block: "inside a freed block" */
		int known = m && st != MP_ST_UNUSED;
		v[nv++] = _mp_verdict(MP_E_INVALID_FREE, p, known ? &b : NULL, off,
				      0, stack, where);
	} else if (st != MP_ST_LIVE) {
		v[nv++] = _mp_verdict(MP_E_DOUBLE_FREE, p, &b, 0, 0, stack, where);
	} else {
		damaged = (m->flags & MP_F_REPORTED) != 0;
		if (!damaged)
			nv = _mp_guard_verdicts(&b, MP_GUARD_SIZE, MP_GUARD_SIZE, stack,
					    where, v);
		damaged |= nv > 0;
		_mp_dealloc_verdict(&b, d, stack, v, &nv);
	}
	if (m && st == MP_ST_LIVE && off == 0) {
		m->flags &= (uint8_t)~MP_F_REPORTED;
		m->state = MP_ST_QUAR;
		m->free_stack = stack;
		c->live--;
		c->frees++;
		size = m->size;
		made_at = m->alloc_stack;
		freed = 1;
		if (_mp_opt.quarantine_mb == 0) {
			/* No quarantine: the block would be pushed and evicted
			 * at once, its fresh poison verified while still hot.
			 * Poison, mend and release it here, under the lock we
			 * hold (after the unlock the slot may be reused). */
			_mp_poison(p, size < MP_POISON_MAX ? size : MP_POISON_MAX);
			if (damaged)
				_mp_guard_fill(p, size, MP_GUARD_SIZE);
			if (!_mp_tc_keep_locked(s, i))
				_mp_slab_release_locked(c, s, i);
			freed = 2;
		} else {
			c->quarantined++;
		}
	}
	pthread_mutex_unlock(&c->lock);
	/* verdict copies were taken before the state change: a guard report
	 * shows the freeing stack once, as the detecting call */
	for (int k = 0; k < nv; k++)
		_mp_report_error(&v[k]);
	if (freed)
		counted_free(size, made_at, p);
	if (freed == 1)
		retire(p, size, 0, damaged);
}

static void large_free(uintptr_t p, uint32_t stack, const struct mp_dealloc *d)
{
	const char *where = d->where;
	struct mp_verdict v[3];
	int nv = 0, freed = 0, damaged = 0;
	size_t size = 0;
	uintptr_t internal_real = 0;
	struct mp_large gone = { 0 }; /* copy of the entry being freed */
	_mp_large_lock();
	struct mp_large *e = _mp_large_find_locked(p);
	if (e && (e->flags & MP_F_INTERNAL)) {
		internal_real = e->real;
		_mp_large_remove_locked(e);
	} else if (e) {
		struct mp_block b;
		_mp_large_block(e, &b);
		if (e->state != MP_ST_LIVE) {
			v[nv++] = _mp_verdict(MP_E_DOUBLE_FREE, p, &b, 0, 0, stack,
					      where);
		} else {
			size_t fl, rl;
			_mp_gp_soft_guards(e, &fl, &rl);
			damaged = (e->flags & MP_F_REPORTED) != 0;
			if (!damaged)
				nv = _mp_guard_verdicts(&b, fl, rl, stack, where, v);
			damaged |= nv > 0;
			_mp_dealloc_verdict(&b, d, stack, v, &nv);
			e->flags &= (uint8_t)~MP_F_REPORTED;
			e->state = MP_ST_QUAR;
			e->free_stack = stack;
			size = e->size;
			freed = 1;
			gone = *e;
			large_blocks--;
			large_bytes -= size;
			large_frees++;
			/* guard-page slots running out: unmapped now, not
			 * quarantined, so later blocks still get a page */
			if ((gone.flags & MP_F_GUARDPAGE) && _mp_gp_crowded()) {
				_mp_large_remove_locked(e);
				gone.state = MP_ST_FREED;
			}
		}
	} else {
		struct mp_large *in = _mp_large_find_interior_locked(p);
		struct mp_block b = { 0 };
		if (!in && (_mp_busy() || foreign_malloc)) {
			/* not ours, and someone else's allocator is in play (our
			 * own helpers under the guard, or a malloc the program
			 * defines itself): hand it back, no report */
			_mp_large_unlock();
			_mp_real_free((void *)p);
			return;
		}
		if (in)
			_mp_large_block(in, &b);
		v[nv++] = _mp_verdict(MP_E_INVALID_FREE, p, in ? &b : NULL,
				      in ? (long)(p - in->user) : 0, 0, stack, where);
	}
	_mp_large_unlock();
	if (internal_real) {
		_mp_real_free((void *)internal_real);
		return;
	}
	for (int k = 0; k < nv; k++)
		_mp_report_error(&v[k]);
	if (freed) {
		counted_free(size, gone.alloc_stack, p);
		if ((gone.flags & MP_F_GUARDPAGE) && gone.state == MP_ST_FREED) {
			_mp_gp_release(gone.real, gone.map_pages);
			return;
		}
		if (gone.flags & MP_F_GUARDPAGE)
			_mp_gp_retire(&gone, stack);
		retire(p, size, gone.flags & MP_F_GUARDPAGE, damaged);
	}
}

/* slots whose every line free prefetches (the classes of 32..128 bytes) */
#define SMALL_SLOT (128 + 2 * MP_GUARD_SIZE)

static void free_impl(void *ptr, uintptr_t caller, const struct mp_dealloc *d)
{
	uintptr_t p = (uintptr_t)ptr;
	if (!p || _mp_boot_owns(ptr))
		return;
	/* internal blocks need no stack; a busy thread may not unwind */
	uint32_t stack = 0;
	int busy = _mp_busy();
	if (!busy && _mp_ensure_init() != 0)
		busy = 1;
	struct mp_slab *s = _mp_slab_of(p);
	long off = 0;
	uint32_t i = s ? _mp_slab_locate(s, p, &off) : 0;
	if (s && !busy && i < s->nslots) {
		/* the lines free will touch, fetched while the stack is taken */
		_mp_prefetch_line(&s->meta[i]);
		_mp_prefetch_block(p, s->stride - 2 * MP_GUARD_SIZE);
		/* the rear guard follows the requested size: in a small slot,
		 * the slot's last line; in a bigger one, the line(s) at the
		 * size, read now (the program frees its own live block: no one
		 * writes it) so that the capture below overlaps both misses,
		 * the metadata's and the guard's (churn: 12% of the time with
		 * quarantine_mb=0, when the guard was read cold under the lock) */
		if (s->stride <= SMALL_SLOT) {
			_mp_prefetch_line((const char *)p + s->stride -
					  MP_GUARD_SIZE - 1);
		} else {
			size_t n = s->meta[i].size;
			_mp_prefetch_line((const char *)p + n);
			_mp_prefetch_line((const char *)p + n + MP_GUARD_SIZE - 1);
		}
	}
	if (!busy) {
		maybe_check(caller);
		stack = _mp_stack_here_free(caller);
	}
	if (s)
		slab_free(s, p, i, off, stack, d);
	else
		large_free(p, stack, d);
}

int _mp_freed_block(const void *ptr)
{
	uintptr_t p = (uintptr_t)ptr;
	if (!p || _mp_boot_owns(ptr) || !_mp_initialized())
		return 0;
	int freed = 0;
	struct mp_slab *s = _mp_slab_of(p);
	if (s) {
		long off = 0;
		uint32_t i = _mp_slab_locate(s, p, &off);
		if (i < s->nslots && off == 0) {
			struct mp_class *c = _mp_slab_class(s);
			pthread_mutex_lock(&c->lock);
			uint8_t st = _mp_meta_state(&s->meta[i]);
			pthread_mutex_unlock(&c->lock);
			freed = st == MP_ST_QUAR || st == MP_ST_FREED ||
				st == MP_ST_CACHED;
		}
		return freed;
	}
	_mp_large_lock();
	struct mp_large *e = _mp_large_find_locked(p);
	freed = e && e->state == MP_ST_QUAR;
	_mp_large_unlock();
	return freed;
}

/* A termination signal came while this thread was inside the pool; it is
 * reported now that the thread left (reent.h, longrun.c).  ret: the block
 * about to be returned, held by no program frame yet. */
static inline void left_pool(void *ret)
{
	if (__builtin_expect(_mp_tls.deferred_sig != 0, 0) && !_mp_tls.in_pool)
		_mp_reent_run_deferred(ret);
}

void *_mp_alloc_as(size_t n, size_t align, unsigned family, uintptr_t caller)
{
	_mp_tls.in_pool++;
	void *p = alloc_impl(n, align, family, caller);
	_mp_tls.in_pool--;
	left_pool(p);
	return p;
}

void *_mp_alloc(size_t n, size_t align, uintptr_t caller)
{
	return _mp_alloc_as(n, align, MP_FAM_MALLOC, caller);
}

void _mp_free_as(void *ptr, uintptr_t caller, const struct mp_dealloc *d)
{
	_mp_tls.in_pool++;
	free_impl(ptr, caller, d);
	_mp_tls.in_pool--;
	left_pool(NULL);
}

void _mp_free(void *ptr, uintptr_t caller, const char *where)
{
	struct mp_dealloc d = { .where = where, .family = MP_FAM_MALLOC };
	_mp_free_as(ptr, caller, &d);
}
