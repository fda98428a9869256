/* leaks.c - live blocks grouped by allocation stack, largest group first.
 *
 * Stack ids are dense (1..depot count), so grouping is one pass over the
 * blocks into an array indexed by (stack id, kind): no hashing, no malloc.
 * Locks are held only while counting; printing and symbolizing come after.
 */
#define _GNU_SOURCE
#include "leaks.h"
#include "mpassert.h"
#include "options.h"
#include "block.h"
#include "custom.h"
#include "depot.h"
#include "large.h"
#include "slab.h"
#include "tcache.h"
#include "vm.h"

#include <string.h>

const char *_mp_leak_kind_name(int kind)
{
	return _mp_options_kind_name(kind);
}

static int kind_of(uint8_t flags, int by_kind)
{
	return by_kind & 1 ? (flags >> MP_F_KIND_SHIFT) & 3 : MP_K_DEFINITE;
}

/* MP_COLLECT_FRESH: a lost block the latest check did not judge first is
 * left out (leak_check_mode=new reports each leak once). */
static int wanted(int kind, unsigned aux, int how)
{
	/* a scope's lost block was reported with its scope's name: once */
	if ((aux & MP_AUX_SCOPED) && kind != MP_K_REACHABLE)
		return 0;
	/* MP_COLLECT_SCOPE: only what the open scope allocated */
	if ((how & MP_COLLECT_SCOPE) && (aux & MP_AUX_PRE))
		return 0;
	return !(how & MP_COLLECT_FRESH) || kind == MP_K_REACHABLE ||
	       (aux & MP_AUX_FRESH);
}

static void add(struct mp_leak_group *acc, size_t nstacks, uint32_t stack,
		int kind, size_t size)
{
	if (stack >= nstacks)
		stack = 0; /* stored after our snapshot of the count: fold */
	struct mp_leak_group *g = &acc[(size_t)stack * MP_K_NKINDS + (size_t)kind];
	g->bytes += size;
	g->blocks++;
}

/* Heap sort, kind ascending then bytes descending (no malloc, no qsort). */
static int before(const struct mp_leak_group *a, const struct mp_leak_group *b)
{
	if (a->kind != b->kind)
		return a->kind < b->kind;
	if (a->bytes != b->bytes)
		return a->bytes > b->bytes;
	return a->stack < b->stack;
}

static void sift(struct mp_leak_group *g, size_t i, size_t n)
{
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			return;
		if (c + 1 < n && before(&g[c], &g[c + 1]))
			c++;
		if (!before(&g[i], &g[c]))
			return;
		struct mp_leak_group t = g[i];
		g[i] = g[c];
		g[c] = t;
		i = c;
	}
}

static void sort_groups(struct mp_leak_group *g, size_t n)
{
	for (size_t i = n / 2; i-- > 0;)
		sift(g, i, n);
	for (size_t end = n; end-- > 1;) {
		struct mp_leak_group t = g[0];
		g[0] = g[end];
		g[end] = t;
		sift(g, 0, end);
	}
}

int _mp_leaks_collect(struct mp_leak_set *ls, int by_kind)
{
	memset(ls, 0, sizeof *ls);
	size_t nstacks = (size_t)_mp_depot_count() + 1;
	size_t bytes = nstacks * MP_K_NKINDS * sizeof(struct mp_leak_group);
	struct mp_leak_group *acc = _mp_map(bytes, 0);
	if (!acc)
		return -1;
	/* heap blocks holding described blocks are their containers: not
	 * counted (leakscan.c) */
	struct mp_cstarts cs;
	if (_mp_custom_starts(&cs) != 0)
		cs.n = 0;
	for (int k = 0; k < MP_ARENAS * MP_NUM_CLASSES; k++) {
		struct mp_class *cl = _mp_class_at(k);
		pthread_mutex_lock(&cl->lock);
		for (struct mp_slab *s = cl->slabs; s; s = s->next)
			for (uint32_t i = 0; i < s->bump &&
			     (!(by_kind & MP_COLLECT_OWN) || _mp_slab_has_own(s));
			     i++) {
				const struct mp_meta *m = &s->meta[i];
				if (_mp_meta_state(m) != MP_ST_LIVE || (m->flags & MP_F_INTERNAL) ||
				    ((by_kind & MP_COLLECT_OWN) && !_mp_slot_own(m)))
					continue;
				if (cs.n && _mp_custom_starts_hold(&cs, _mp_slot_user(s, i),
								   m->size))
					continue;
				int kind = kind_of(m->flags, by_kind);
				if (wanted(kind, m->aux, by_kind))
					add(acc, nstacks, m->alloc_stack, kind,
					    m->size);
			}
		pthread_mutex_unlock(&cl->lock);
	}
	_mp_large_lock();
	size_t pos = 0;
	struct mp_large *e;
	while ((e = _mp_large_next_locked(&pos)))
		if (e->state == MP_ST_LIVE && !(e->flags & MP_F_INTERNAL) &&
		    (!(by_kind & MP_COLLECT_OWN) || _mp_large_own(e)) &&
		    !(cs.n && _mp_custom_starts_hold(&cs, e->user, e->size)) &&
		    wanted(kind_of(e->flags, by_kind), e->aux, by_kind))
			add(acc, nstacks, e->alloc_stack, kind_of(e->flags, by_kind),
			    e->size);
	_mp_large_unlock();
	_mp_custom_starts_release(&cs);
	/* the described blocks, containers left out as by the scan */
	struct mp_cindex ix;
	_mp_custom_lock();
	if (_mp_custom_index_locked(&ix) == 0)
		for (size_t i = 0; i < ix.n; i++) {
			const struct mp_cblock *c = ix.b[i];
			int kind = kind_of(c->flags, by_kind);
			if (wanted(kind, c->aux, by_kind))
				add(acc, nstacks, c->alloc_stack, kind, c->size);
		}
	_mp_custom_index_release(&ix);
	_mp_custom_unlock();

	/* compact in place: group k lands at index <= k */
	size_t n = 0;
	for (size_t i = 0; i < nstacks * MP_K_NKINDS; i++) {
		if (!acc[i].blocks)
			continue;
		struct mp_leak_group g = acc[i];
		g.stack = (uint32_t)(i / MP_K_NKINDS);
		g.kind = (uint8_t)(i % MP_K_NKINDS);
		acc[n++] = g;
		ls->bytes[g.kind] += g.bytes;
		ls->blocks[g.kind] += g.blocks;
		ls->total_bytes += g.bytes;
		ls->total_blocks += g.blocks;
	}
	sort_groups(acc, n);
	ls->g = acc;
	ls->n = n;
	ls->map_bytes = bytes;
	return 0;
}

void _mp_leaks_release(struct mp_leak_set *ls)
{
	if (ls->g)
		_mp_unmap(ls->g, ls->map_bytes);
	ls->g = NULL;
	ls->n = 0;
}

int _mp_leak_kind_listed(int kind)
{
	return kind != MP_K_REACHABLE || _mp_opt.show_reachable;
}

/* ---- scopes (mp_scope_begin / mp_scope_end) -------------------------- */

/* One block's aux word for a scope operation: BEGIN marks every live
 * block as older than the scope; CLAIM marks the scope's own lost blocks
 * (kind from the last classification when classified, else all) as
 * reported. */
static unsigned scope_aux(unsigned aux, uint8_t flags, int op, int classified)
{
	if (op == MP_SCOPE_BEGIN)
		return aux | MP_AUX_PRE;
	if ((aux & (MP_AUX_PRE | MP_AUX_SCOPED | MP_AUX_IGNORED)) ||
	    (classified && kind_of(flags, 1) == MP_K_REACHABLE))
		return aux;
	return aux | MP_AUX_SCOPED;
}

/* One pass over the live blocks' metadata, under each pool's lock in
 * block.h's order; no block's bytes are read: a fraction of a scan. */
void _mp_leaks_scope_mark(int op, int classified)
{
	MP_DCHECK(op == MP_SCOPE_BEGIN || op == MP_SCOPE_CLAIM);
	for (int k = 0; k < MP_ARENAS * MP_NUM_CLASSES; k++) {
		struct mp_class *cl = _mp_class_at(k);
		pthread_mutex_lock(&cl->lock);
		for (struct mp_slab *s = cl->slabs; s; s = s->next)
			for (uint32_t i = 0; i < s->bump; i++) {
				struct mp_meta *m = &s->meta[i];
				if (m->state == MP_ST_LIVE &&
				    !(m->flags & MP_F_INTERNAL))
					m->aux = (m->aux & ~MP_AUX_BITS) |
						 scope_aux(m->aux & MP_AUX_BITS,
							   m->flags, op, classified);
			}
		pthread_mutex_unlock(&cl->lock);
	}
	_mp_large_lock();
	size_t pos = 0;
	struct mp_large *e;
	while ((e = _mp_large_next_locked(&pos)))
		if (e->state == MP_ST_LIVE && !(e->flags & MP_F_INTERNAL))
			e->aux = scope_aux(e->aux, e->flags, op, classified) &
				 MP_AUX_BITS;
	_mp_large_unlock();
	struct mp_cindex ix;
	_mp_custom_lock();
	if (_mp_custom_index_locked(&ix) == 0)
		for (size_t i = 0; i < ix.n; i++)
			ix.b[i]->aux = scope_aux(ix.b[i]->aux, ix.b[i]->flags, op,
						 classified);
	_mp_custom_index_release(&ix);
	_mp_custom_unlock();
}
