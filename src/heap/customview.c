/* customview.c - the described blocks (custom.c's table) as the checks
 * read them: the leak scan's sorted index of live blocks, containers left
 * out, and the redzone and poison checks' sorted snapshot of live and
 * poisoned freed blocks.  Sorting is a heap sort: no malloc (we are the
 * malloc), no recursion. */
#define _GNU_SOURCE
#include "custom.h"
#include "block.h"
#include "vm.h"

#include <string.h>

#define SORT_LT(a, b) ((a)->user < (b)->user || \
		       ((a)->user == (b)->user && (a)->size > (b)->size))

static void sift(struct mp_cblock **a, size_t i, size_t n)
{
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			return;
		if (c + 1 < n && SORT_LT(a[c], a[c + 1]))
			c++;
		if (!SORT_LT(a[i], a[c]))
			return;
		struct mp_cblock *t = a[i];
		a[i] = a[c];
		a[c] = t;
		i = c;
	}
}

/* first index whose block starts at or after lo */
static size_t lower(struct mp_cblock *const *a, size_t n, uintptr_t lo)
{
	size_t i = 0, j = n;
	while (i < j) {
		size_t m = (i + j) / 2;
		if (a[m]->user < lo)
			i = m + 1;
		else
			j = m;
	}
	return i;
}

int _mp_custom_index_locked(struct mp_cindex *ix)
{
	size_t ncap, live = _mp_custom_live_locked();
	struct mp_cblock *tab = _mp_custom_slots_locked(&ncap);
	memset(ix, 0, sizeof *ix);
	if (!live)
		return 0;
	ix->map_bytes = live * sizeof *ix->b;
	ix->b = _mp_map(ix->map_bytes, 0);
	if (!ix->b)
		return -1;
	size_t n = 0;
	for (size_t i = 0; i < ncap && n < live; i++)
		if (tab[i].state == MP_ST_LIVE)
			ix->b[n++] = &tab[i];
	for (size_t i = n / 2; i-- > 0;)
		sift(ix->b, i, n);
	for (size_t end = n; end-- > 1;) {
		struct mp_cblock *t = ix->b[0];
		ix->b[0] = ix->b[end];
		ix->b[end] = t;
		sift(ix->b, 0, end);
	}
	/* a malloc-like block holding pool blocks is their container
	 * (memcheck's metapool: superblocks from MALLOCLIKE_BLOCK) */
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		struct mp_cblock *e = ix->b[i];
		int container = 0;
		for (size_t j = i + 1; !e->pool && j < n &&
				       ix->b[j]->user < e->user + e->size; j++)
			if (ix->b[j]->pool) {
				container = 1;
				break;
			}
		if (!container)
			ix->b[k++] = e;
	}
	ix->n = k;
	return 0;
}

void _mp_custom_index_release(struct mp_cindex *ix)
{
	if (ix->b)
		_mp_unmap(ix->b, ix->map_bytes);
	memset(ix, 0, sizeof *ix);
}

struct mp_cblock *_mp_custom_find(const struct mp_cindex *ix, uintptr_t w)
{
	if (!ix->n || w < ix->b[0]->user)
		return NULL;
	size_t i = lower(ix->b, ix->n, w + 1); /* first starting after w */
	/* the innermost: the latest start at or below w that covers it; a
	 * few blocks back at most (blocks nest one level: metapools) */
	for (size_t k = 0; i > 0 && k < 8; k++, i--) {
		struct mp_cblock *e = ix->b[i - 1];
		if (w == e->user || w - e->user < e->size)
			return e;
	}
	return NULL;
}

int _mp_custom_holds(const struct mp_cindex *ix, uintptr_t lo, size_t size)
{
	size_t i = lower(ix->b, ix->n, lo);
	return i < ix->n && ix->b[i]->user < lo + (size ? size : 1);
}

int _mp_custom_starts(struct mp_cstarts *s)
{
	struct mp_cindex ix;
	memset(s, 0, sizeof *s);
	_mp_custom_lock();
	int rc = _mp_custom_index_locked(&ix);
	if (rc == 0 && ix.n) {
		s->map_bytes = ix.n * sizeof *s->a;
		s->a = _mp_map(s->map_bytes, 0);
		if (s->a) {
			for (size_t i = 0; i < ix.n; i++)
				s->a[i] = ix.b[i]->user;
			s->n = ix.n;
		} else {
			rc = -1;
		}
	}
	_mp_custom_index_release(&ix);
	_mp_custom_unlock();
	return rc;
}

void _mp_custom_starts_release(struct mp_cstarts *s)
{
	if (s->a)
		_mp_unmap(s->a, s->map_bytes);
	memset(s, 0, sizeof *s);
}

int _mp_custom_starts_hold(const struct mp_cstarts *s, uintptr_t lo, size_t size)
{
	size_t i = 0, j = s->n;
	while (i < j) {
		size_t m = (i + j) / 2;
		if (s->a[m] < lo)
			i = m + 1;
		else
			j = m;
	}
	return i < s->n && s->a[i] < lo + (size ? size : 1);
}


/* ---- the checks' view (customguard.c) ---------------------------------- */

#define CLT(a, b) ((a)->user < (b)->user || \
		   ((a)->user == (b)->user && (a)->state < (b)->state))

static void csift(struct mp_cblock *a, size_t i, size_t n)
{
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			return;
		if (c + 1 < n && CLT(&a[c], &a[c + 1]))
			c++;
		if (!CLT(&a[i], &a[c]))
			return;
		struct mp_cblock t = a[i];
		a[i] = a[c];
		a[c] = t;
		i = c;
	}
}

/* Every live record (the neighbours that clip the windows) and every
 * freed one still poisoned, sorted by address. */
int _mp_custom_snapshot(struct mp_csnap *s)
{
	memset(s, 0, sizeof *s);
	_mp_custom_lock();
	size_t n = 0, ncap;
	struct mp_cblock *tab = _mp_custom_slots_locked(&ncap);
	for (size_t i = 0; i < ncap; i++)
		n += tab[i].state == MP_ST_LIVE ||
		     (tab[i].state == MP_ST_FREED && tab[i].poisoned);
	if (n) {
		s->map_bytes = n * sizeof *s->a;
		s->a = _mp_map(s->map_bytes, 0);
	}
	if (s->a)
		for (size_t i = 0; i < ncap && s->n < n; i++)
			if (tab[i].state == MP_ST_LIVE ||
			    (tab[i].state == MP_ST_FREED && tab[i].poisoned))
				s->a[s->n++] = tab[i];
	_mp_custom_unlock();
	if (n && !s->a)
		return -1;
	for (size_t i = s->n / 2; i-- > 0;)
		csift(s->a, i, s->n);
	for (size_t end = s->n; end-- > 1;) {
		struct mp_cblock t = s->a[0];
		s->a[0] = s->a[end];
		s->a[end] = t;
		csift(s->a, 0, end);
	}
	return 0;
}

void _mp_custom_snapshot_release(struct mp_csnap *s)
{
	if (s->a)
		_mp_unmap(s->a, s->map_bytes);
	memset(s, 0, sizeof *s);
}

