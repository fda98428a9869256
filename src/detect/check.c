/* check.c - mp_check(): verify every live block's guards and every
 * quarantined block's poison and guards on demand.
 *
 * Damage is reported once per block (MP_F_REPORTED), found in batches under
 * each lock and reported after the lock is dropped.
 */
#include "custom.h"
#include "guard.h"
#include "guardpage.h"
#include "large.h"
#include "pool.h"
#include "procmaps.h"
#include "quarantine.h"
#include "report.h"
#include "slab.h"
#include "tcache.h"
#include "stack.h"

#include <string.h>

#define BATCH 64

struct batch {
	struct mp_verdict v[BATCH];
	int n;
	int blocks;
	uint32_t stack;
	const char *where;
	int sweep;
	int own;      /* a forked child's exit: its own blocks only */
	size_t live;  /* live blocks whose guards were read */
};

/* A forked child's exit check reads the guards of the blocks it made: the
 * inherited ones are its parent's, which checks them at its own exit (and
 * a free or realloc of one in the child checks it then).  The live blocks
 * read go to the JSON report's stats (_mp_exit_live_checked, slab.h). */

/* The program may have made pages of its heap inaccessible: such a block
 * cannot be checked (reading it would fault inside the check). */
static int readable_block(uintptr_t user, size_t size, size_t front, size_t rear)
{
	return _mp_readable(user - front, user + size + rear);
}

static void report_one(struct mp_verdict *v, void *arg)
{
	(void)arg;
	_mp_report_error(v);
}

static void flush(struct batch *b)
{
	for (int i = 0; i < b->n; i++)
		_mp_report_error(&b->v[i]);
	b->n = 0;
}

/* One class; returns after reporting everything found. */
static void check_class(struct mp_class *c, struct batch *b)
{
	int again;
	do {
		again = 0;
		pthread_mutex_lock(&c->lock);
		for (struct mp_slab *s = c->slabs; s && !again; s = s->next)
			for (uint32_t i = 0; i < s->bump &&
			     (!b->own || _mp_slab_has_own(s)); i++) {
				struct mp_meta *m = &s->meta[i];
				if (_mp_meta_state(m) != MP_ST_LIVE || (m->flags & MP_F_REPORTED) ||
				    (b->own && !_mp_slot_own(m)))
					continue;
				b->live++;
				struct mp_block blk;
				_mp_slab_block(s, i, &blk);
				if (!readable_block(blk.user, blk.size, MP_GUARD_SIZE,
						    MP_GUARD_SIZE))
					continue;
				int k = _mp_guard_verdicts(&blk, MP_GUARD_SIZE, MP_GUARD_SIZE,
							   b->stack, b->where,
							   b->v + b->n);
				if (!k)
					continue;
				for (int j = 0; j < k; j++)
					b->v[b->n + j].sweep = b->sweep;
				m->flags |= MP_F_REPORTED;
				b->n += k;
				b->blocks++;
				if (b->n > BATCH - 2) {
					again = 1;
					break;
				}
			}
		pthread_mutex_unlock(&c->lock);
		flush(b);
	} while (again);
}

static void check_large(struct batch *b)
{
	int again;
	do {
		again = 0;
		size_t pos = 0;
		struct mp_large *e;
		_mp_large_lock();
		while ((e = _mp_large_next_locked(&pos))) {
			if (e->state != MP_ST_LIVE ||
			    (e->flags & (MP_F_INTERNAL | MP_F_REPORTED)) ||
			    (b->own && !_mp_large_own(e)))
				continue;
			b->live++;
			struct mp_block blk;
			_mp_large_block(e, &blk);
			size_t fl, rl;
			_mp_gp_soft_guards(e, &fl, &rl);
			if (!readable_block(blk.user, blk.size, fl, rl))
				continue;
			int k = _mp_guard_verdicts(&blk, fl, rl, b->stack,
						   b->where, b->v + b->n);
			if (!k)
				continue;
			for (int j = 0; j < k; j++)
				b->v[b->n + j].sweep = b->sweep;
			e->flags |= MP_F_REPORTED;
			b->n += k;
			b->blocks++;
			if (b->n > BATCH - 2) {
				again = 1;
				break;
			}
		}
		_mp_large_unlock();
		flush(b);
	} while (again);
}

/* Quarantine callback: runs under the quarantine lock, takes the block's
 * own lock (order quarantine -> class/large). */
static void check_poison(const struct mp_qent *q, void *arg)
{
	struct batch *b = arg;
	struct mp_damage d[MP_FREED_RUNS_MAX];
	int runs;
	size_t n = q->size < MP_POISON_MAX ? q->size : MP_POISON_MAX;
	struct mp_slab *s = _mp_slab_of(q->user);
	if (!s) { /* a freed guard-page block is inaccessible: nothing to read */
		_mp_large_lock();
		struct mp_large *e = _mp_large_find_locked(q->user);
		int guarded = e && (e->flags & MP_F_GUARDPAGE);
		_mp_large_unlock();
		if (guarded)
			return;
	}
	if (b->n > BATCH - MP_FREED_RUNS_MAX ||
	    !readable_block(q->user, q->size, MP_GUARD_SIZE, MP_GUARD_SIZE) ||
	    !(runs = _mp_freed_runs(q->user, q->size, n, d, MP_FREED_RUNS_MAX)))
		return;
	struct mp_block blk;
	int fresh = 0;
	if (s) {
		struct mp_class *c = _mp_slab_class(s);
		long off;
		pthread_mutex_lock(&c->lock);
		uint32_t i = _mp_slab_locate(s, q->user, &off);
		if (!(s->meta[i].flags & MP_F_REPORTED)) {
			s->meta[i].flags |= MP_F_REPORTED;
			_mp_slab_block(s, i, &blk);
			fresh = 1;
		}
		pthread_mutex_unlock(&c->lock);
	} else {
		_mp_large_lock();
		struct mp_large *e = _mp_large_find_locked(q->user);
		if (e && !(e->flags & MP_F_REPORTED)) {
			e->flags |= MP_F_REPORTED;
			_mp_large_block(e, &blk);
			fresh = 1;
		}
		_mp_large_unlock();
	}
	if (!fresh)
		return;
	for (int k = 0; k < runs; k++) { /* one error per write */
		b->v[b->n] = _mp_verdict(MP_E_USE_AFTER_FREE,
					 q->user + (uintptr_t)d[k].first, &blk,
					 d[k].first, d[k].count, b->stack, b->where);
		b->v[b->n++].sweep = b->sweep;
	}
	b->blocks++;
}

int _mp_check_all(uintptr_t caller, const char *where)
{
	static struct batch zero;
	struct batch b = zero;
	if (_mp_ensure_init() != 0)
		return 0;
	b.stack = _mp_stack_here(caller);
	b.where = where;
	b.sweep = caller == 0;
	int at_exit = b.sweep && !strcmp(where, "exit");
	b.own = at_exit && _mp_heap_gen != 0;
	_mp_readable_begin();
	for (int k = 0; k < MP_ARENAS * MP_NUM_CLASSES; k++)
		check_class(_mp_class_at(k), &b);
	check_large(&b);
	int more;
	do { /* a full batch leaves the rest for another pass */
		int before = b.blocks;
		if (at_exit)
			_mp_quarantine_foreach_own(check_poison, &b);
		else
			_mp_quarantine_foreach(check_poison, &b);
		more = b.n > BATCH - MP_FREED_RUNS_MAX && b.blocks > before;
		flush(&b);
	} while (more);
	/* the program's own pools: their redzones and freed blocks */
	b.blocks += _mp_cguard_check_all(b.stack, where, b.sweep, report_one, NULL);
	_mp_readable_end();
	if (at_exit)
		_mp_exit_live_checked = b.live;
	return b.blocks;
}
