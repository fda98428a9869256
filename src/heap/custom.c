/* custom.c - the program's own allocators as it describes them: pools
 * (an anchor address, a redzone, flags), the blocks allocated in them and
 * malloc-like blocks, kept in open-addressed tables keyed by address
 * (mmap'd, no malloc: we are the malloc).  Freed blocks stay in the table
 * for a while (the last FREED_KEEP of them) so that a second free names
 * the first one's stack.  One lock guards both tables; lock order: after
 * the large table, before the vm registry (block.h).  The checks' views
 * of the table (sorted index, snapshot) are in customview.c. */
#define _GNU_SOURCE
#include "custom.h"
#include "block.h"
#include "guard.h"
#include "mpassert.h"
#include "ohash.h"
#include "procgate.h"
#include "vm.h"

#include <pthread.h>
#include <string.h>

#define FREED_KEEP 16384u /* freed records kept for double frees */

struct cpool {
	uintptr_t anchor; /* 0 = empty */
	size_t rz;
	unsigned flags;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct mp_cblock *tab;  /* capacity ncap, a power of two */
static size_t ncap, nused;     /* nused: live + freed records */
static struct cpool *pools;
static size_t pcap, pused;
static uintptr_t freed_ring[FREED_KEEP];
static size_t ring_head, ring_len;
static struct mp_custom_stats st;
static int fork_registered;

static void fork_prepare(void) { pthread_mutex_lock(&lock); }
static void fork_parent(void) { pthread_mutex_unlock(&lock); }
static void fork_child(void) { pthread_mutex_init(&lock, NULL); }

void _mp_custom_lock(void) { pthread_mutex_lock(&lock); }
void _mp_custom_unlock(void) { pthread_mutex_unlock(&lock); }

static size_t hash(uintptr_t a, size_t cap)
{
	return (size_t)((a >> 3) * 0x9E3779B97F4A7C15ull) & (cap - 1);
}

/* ---- blocks ----------------------------------------------------------- */

static struct mp_cblock *bfind(uintptr_t user)
{
	if (!ncap)
		return NULL;
	for (size_t i = hash(user, ncap);; i = (i + 1) & (ncap - 1)) {
		if (!tab[i].state)
			return NULL;
		if (tab[i].user == user)
			return &tab[i];
	}
}

/* Backward-shift deletion: no tombstones, lookups stay short. */
static void bdelete(struct mp_cblock *e)
{
	size_t i = (size_t)(e - tab);
	for (size_t j = (i + 1) & (ncap - 1); tab[j].state; j = (j + 1) & (ncap - 1)) {
		if (_mp_ohash_fills_hole(hash(tab[j].user, ncap), i, j)) {
			tab[i] = tab[j];
			i = j;
		}
	}
	memset(&tab[i], 0, sizeof tab[i]);
	nused--;
}

static void binsert_raw(struct mp_cblock *t, size_t cap, const struct mp_cblock *b)
{
	size_t i = hash(b->user, cap);
	while (t[i].state)
		i = (i + 1) & (cap - 1);
	t[i] = *b;
}

/* Room for one more record; the old table is handed back in *old for the
 * caller to unmap after unlocking. */
static int bgrow(void **old, size_t *old_bytes)
{
	if (nused + 1 <= ncap / 2)
		return 0;
	size_t cap = ncap ? ncap * 2 : 4096;
	struct mp_cblock *t = _mp_map(cap * sizeof *t, 0);
	if (!t)
		return -1;
	for (size_t i = 0; i < ncap; i++)
		if (tab[i].state)
			binsert_raw(t, cap, &tab[i]);
	*old = tab;
	*old_bytes = ncap * sizeof *tab;
	tab = t;
	ncap = cap;
	return 0;
}

static void remember_freed(uintptr_t user)
{
	if (ring_len == FREED_KEEP) {
		struct mp_cblock *e = bfind(freed_ring[ring_head]);
		if (e && e->state == MP_ST_FREED)
			bdelete(e);
		ring_head = (ring_head + 1) % FREED_KEEP;
		ring_len--;
	}
	freed_ring[(ring_head + ring_len) % FREED_KEEP] = user;
	ring_len++;
}

/* ---- redzones and poison: the table's side (customguard.c checks) ----- */

/* Clip a block's redzone windows (*front bytes before it, *rear after it)
 * off the blocks that start in them, and stop checking the poison of freed
 * blocks that start there (the fill will overwrite it).  One probe per
 * byte: windows are MP_CRZ_MAX bytes at most. */
static void clip_windows(const struct mp_cblock *e, size_t *front, size_t *rear)
{
	uintptr_t end = e->user + e->size;
	size_t f = *front, r = *rear;
	for (size_t k = 1; k <= *front; k++) {
		struct mp_cblock *o = bfind(e->user - k);
		if (!o)
			continue;
		if (o->state == MP_ST_FREED) {
			o->poisoned = 0;
			continue;
		}
		uintptr_t oe = o->user + o->size;
		size_t keep = oe >= e->user ? 0 : e->user - oe;
		if (keep < f)
			f = keep;
	}
	for (size_t k = 0; k < *rear; k++) {
		struct mp_cblock *o = bfind(end + k);
		if (!o || o == e)
			continue;
		if (o->state == MP_ST_FREED)
			o->poisoned = 0;
		else if (k < r)
			r = k;
	}
	*front = f;
	*rear = r;
}

/* A pool block's declared redzone, filled with the guard byte where it
 * lies inside the chunk [clo, chi) and outside other blocks. */
static void fill_redzones(struct mp_cblock *e, uintptr_t clo, uintptr_t chi)
{
	size_t w = e->rz < MP_CRZ_MAX ? e->rz : MP_CRZ_MAX;
	uintptr_t end = e->user + e->size;
	if (!w || !chi || e->user < clo || end > chi)
		return;
	size_t f = e->user - clo < w ? e->user - clo : w;
	size_t r = chi - end < w ? chi - end : w;
	clip_windows(e, &f, &r);
	memset((void *)(e->user - f), MP_GUARD_BYTE, f);
	memset((void *)end, MP_GUARD_BYTE, r);
	e->fill_front = (uint8_t)f;
	e->fill_rear = (uint8_t)r;
}

/* A freed pool block's poison, clipped before the first block that starts
 * inside it since (the pool reused part of its memory). */
static void clip_poison(struct mp_cblock *c)
{
	for (size_t k = 1; k < c->poisoned; k++) {
		struct mp_cblock *o = bfind(c->user + k);
		if (o && o->state == MP_ST_LIVE) {
			c->poisoned = (uint16_t)k;
			return;
		}
	}
}

static void mark_freed(struct mp_cblock *e, uint32_t stack)
{
	e->state = MP_ST_FREED;
	e->free_stack = stack;
	e->flags = 0;
	e->fill_front = e->fill_rear = 0;
	e->damaged = 0;
	e->poisoned = 0;
	e->skip = 0;
	st.live--;
	st.live_bytes -= e->size;
	st.frees++;
	remember_freed(e->user);
}

/* ---- pools ------------------------------------------------------------ */

static struct cpool *pfind(uintptr_t anchor)
{
	if (!pcap || !anchor)
		return NULL;
	for (size_t i = hash(anchor, pcap);; i = (i + 1) & (pcap - 1)) {
		if (!pools[i].anchor)
			return NULL;
		if (pools[i].anchor == anchor)
			return &pools[i];
	}
}

static void pdelete(struct cpool *p)
{
	size_t i = (size_t)(p - pools);
	for (size_t j = (i + 1) & (pcap - 1); pools[j].anchor; j = (j + 1) & (pcap - 1)) {
		if (_mp_ohash_fills_hole(hash(pools[j].anchor, pcap), i, j)) {
			pools[i] = pools[j];
			i = j;
		}
	}
	memset(&pools[i], 0, sizeof pools[i]);
	pused--;
	st.pools--;
}

static int pinsert(uintptr_t anchor, size_t rz, unsigned flags, void **old,
		   size_t *old_bytes)
{
	if (pused + 1 > pcap / 2) {
		size_t cap = pcap ? pcap * 2 : 256;
		struct cpool *t = _mp_map(cap * sizeof *t, 0);
		if (!t)
			return -1;
		for (size_t i = 0; i < pcap; i++)
			if (pools[i].anchor) {
				size_t k = hash(pools[i].anchor, cap);
				while (t[k].anchor)
					k = (k + 1) & (cap - 1);
				t[k] = pools[i];
			}
		*old = pools;
		*old_bytes = pcap * sizeof *pools;
		pools = t;
		pcap = cap;
	}
	size_t k = hash(anchor, pcap);
	while (pools[k].anchor)
		k = (k + 1) & (pcap - 1);
	pools[k] = (struct cpool){ anchor, rz, flags };
	pused++;
	st.pools++;
	return 0;
}

static void register_fork(void)
{
	if (!__atomic_exchange_n(&fork_registered, 1, __ATOMIC_ACQ_REL))
		_mp_procgate_on_fork(MP_FORK_CUSTOM, fork_prepare, fork_parent,
				     fork_child);
}

static void unmap_old(void *old, size_t bytes)
{
	if (old && bytes)
		_mp_unmap(old, bytes);
}

int _mp_cpool_create(uintptr_t pool, size_t rz, unsigned flags)
{
	void *old = NULL;
	size_t ob = 0;
	int rc = MP_C_OK;
	register_fork();
	pthread_mutex_lock(&lock);
	struct cpool *p = pfind(pool);
	if (p) { /* created again: memcheck keeps the first; we renew it */
		p->rz = rz;
		p->flags = flags;
	} else if (pinsert(pool, rz, flags, &old, &ob) != 0) {
		rc = MP_C_NOMEM;
	}
	pthread_mutex_unlock(&lock);
	unmap_old(old, ob);
	return rc;
}

int _mp_cpool_exists(uintptr_t pool)
{
	pthread_mutex_lock(&lock);
	int r = pfind(pool) != NULL;
	pthread_mutex_unlock(&lock);
	return r;
}

/* Every record for which drop(e) says so leaves the table (a pass over
 * all of it: destroy and trim are rare next to alloc and free).  A
 * deletion shifts a later record into slot i: look at i again. */
static void sweep(int (*drop)(struct mp_cblock *, const void *), const void *arg)
{
	for (size_t i = 0; i < ncap;) {
		struct mp_cblock *e = &tab[i];
		if (e->state && drop(e, arg)) {
			if (e->state == MP_ST_LIVE) {
				st.live--;
				st.live_bytes -= e->size;
				st.frees++;
			}
			bdelete(e);
			continue;
		}
		i++;
	}
}

static int of_pool(struct mp_cblock *e, const void *arg)
{
	return e->pool == *(const uintptr_t *)arg;
}

/* Destroy: its blocks go with it, live or freed (no leak, and a later
 * free of one is an invalid free, as in memcheck). */
int _mp_cpool_destroy(uintptr_t pool)
{
	pthread_mutex_lock(&lock);
	struct cpool *p = pfind(pool);
	int rc = p ? MP_C_OK : MP_C_NO_POOL;
	if (p) {
		pdelete(p);
		sweep(of_pool, &pool);
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

int _mp_cpool_move(uintptr_t from, uintptr_t to)
{
	void *old = NULL;
	size_t ob = 0;
	pthread_mutex_lock(&lock);
	struct cpool *p = pfind(from);
	int rc = p ? MP_C_OK : MP_C_NO_POOL;
	if (p) {
		struct cpool c = *p;
		pdelete(p);
		if (pinsert(to, c.rz, c.flags, &old, &ob) != 0)
			rc = MP_C_NOMEM;
		for (size_t i = 0; i < ncap; i++)
			if (tab[i].state && tab[i].pool == from)
				tab[i].pool = to;
	}
	pthread_mutex_unlock(&lock);
	unmap_old(old, ob);
	return rc;
}

int _mp_cblock_alloc(uintptr_t pool, uintptr_t user, size_t size, size_t rz,
		     uint32_t stack, uintptr_t clo, uintptr_t chi,
		     struct mp_cblock *reused)
{
	void *old = NULL;
	size_t ob = 0;
	int rc = MP_C_OK;
	memset(reused, 0, sizeof *reused);
	register_fork();
	pthread_mutex_lock(&lock);
	struct cpool *p = NULL;
	if (pool && !(p = pfind(pool))) {
		rc = MP_C_NO_POOL;
		goto out;
	}
	struct mp_cblock *e = bfind(user);
	if (!e) {
		if (bgrow(&old, &ob) != 0) {
			rc = MP_C_NOMEM;
			goto out;
		}
		struct mp_cblock z = { .user = user, .state = MP_ST_FREED };
		binsert_raw(tab, ncap, &z);
		nused++;
		e = bfind(user);
	} else if (e->state == MP_ST_LIVE) {
		st.live--;
		st.live_bytes -= e->size;
	} else if (e->poisoned && !e->damaged) {
		*reused = *e;
		clip_poison(reused);
	}
	*e = (struct mp_cblock){ .user = user, .size = size, .pool = pool,
				 .alloc_stack = stack, .state = MP_ST_LIVE,
				 .flags = MP_F_KIND_UNJUDGED,
				 .rz = (uint16_t)(p ? (p->rz > 0xffff ? 0xffff : p->rz) : rz) };
	if (p)
		fill_redzones(e, clo, chi);
	st.live++;
	st.live_bytes += size;
	st.allocs++;
out:
	pthread_mutex_unlock(&lock);
	unmap_old(old, ob);
	return rc;
}

struct inside {
	uintptr_t lo, hi;
	uint32_t stack;
};

static int malloclike_inside(struct mp_cblock *e, const void *arg)
{
	const struct inside *in = arg;
	if (e->state == MP_ST_LIVE && !e->pool && e->user >= in->lo &&
	    e->user < in->hi)
		mark_freed(e, in->stack);
	return 0;
}

int _mp_cblock_free(uintptr_t pool, uintptr_t user, uint32_t stack,
		    struct mp_cblock *b)
{
	int rc = MP_C_OK;
	pthread_mutex_lock(&lock);
	struct cpool *p = NULL;
	if (pool && !(p = pfind(pool))) {
		rc = MP_C_NO_POOL;
		goto out;
	}
	struct mp_cblock *e = bfind(user);
	if (e && e->pool == pool && e->state == MP_ST_FREED) {
		*b = *e;
		rc = MP_C_DOUBLE;
		goto out;
	}
	if (!e || e->pool != pool || e->state != MP_ST_LIVE) {
		rc = MP_C_INVALID;
		memset(b, 0, sizeof *b);
		for (size_t i = 0; i < ncap; i++) /* an interior address? */
			if (tab[i].state == MP_ST_LIVE && tab[i].pool == pool &&
			    user > tab[i].user && user < tab[i].user + tab[i].size) {
				*b = tab[i];
				rc = MP_C_INTERIOR;
				break;
			}
		goto out;
	}
	struct inside in = { e->user, e->user + e->size, stack };
	size_t f = e->fill_front, r = e->fill_rear;
	clip_windows(e, &f, &r); /* blocks allocated into them since */
	e->fill_front = (uint8_t)f;
	e->fill_rear = (uint8_t)r;
	*b = *e;
	mark_freed(e, stack);
	if (p && !(p->flags & MP_CPOOL_METAPOOL)) {
		/* a metapool's blocks hold malloc-like blocks: never poisoned */
		e->poisoned = (uint16_t)(e->size < MP_CPOISON_MAX ? e->size : MP_CPOISON_MAX);
		memset((void *)e->user, MP_FREE_BYTE, e->poisoned);
	}
	if (p && (p->flags & MP_CPOOL_AUTO_FREE))
		sweep(malloclike_inside, &in);
out:
	pthread_mutex_unlock(&lock);
	return rc;
}

int _mp_cblock_change(uintptr_t pool, uintptr_t old, uintptr_t user,
		      size_t size)
{
	void *om = NULL;
	size_t ob = 0;
	int rc = MP_C_OK;
	pthread_mutex_lock(&lock);
	struct mp_cblock *e = bfind(old);
	if (!e || e->state != MP_ST_LIVE || e->pool != pool) {
		rc = MP_C_INVALID;
		goto out;
	}
	st.live_bytes += size - e->size;
	e->size = size;
	e->fill_front = e->fill_rear = 0; /* moved or resized: not checked */
	if (user != old) {
		struct mp_cblock c = *e;
		bdelete(e);
		struct mp_cblock *d = bfind(user);
		if (d) {
			if (d->state == MP_ST_LIVE) {
				st.live--;
				st.live_bytes -= d->size;
			}
			c.user = user;
			*d = c;
		} else if (bgrow(&om, &ob) == 0) {
			c.user = user;
			binsert_raw(tab, ncap, &c);
			nused++;
		} else {
			st.live--;
			st.live_bytes -= c.size;
			rc = MP_C_NOMEM;
		}
	}
out:
	pthread_mutex_unlock(&lock);
	unmap_old(om, ob);
	return rc;
}

struct trim {
	uintptr_t pool, lo, hi;
};

static int trim_cb(struct mp_cblock *e, const void *arg)
{
	const struct trim *t = arg;
	uintptr_t end = e->user + e->size;
	if (e->pool == t->pool && e->state == MP_ST_FREED &&
	    (end <= t->lo || e->user >= t->hi))
		e->poisoned = 0; /* memory the pool gives back */
	if (e->pool != t->pool || e->state != MP_ST_LIVE)
		return 0;
	if (end <= t->lo || e->user >= t->hi)
		return 1; /* wholly outside: gone */
	return 0;
}

int _mp_cpool_trim(uintptr_t pool, uintptr_t lo, uintptr_t hi)
{
	void *old = NULL;
	size_t ob = 0;
	pthread_mutex_lock(&lock);
	int rc = pfind(pool) ? MP_C_OK : MP_C_NO_POOL;
	if (rc == MP_C_OK) {
		struct trim t = { pool, lo, hi };
		sweep(trim_cb, &t);
		/* the ones straddling an end are cut to the range (a block
		 * starting before lo moves to lo) */
		for (size_t i = 0; i < ncap; i++) {
			struct mp_cblock *e = &tab[i];
			if (e->state != MP_ST_LIVE || e->pool != pool)
				continue;
			uintptr_t end = e->user + e->size;
			if (end > hi) {
				st.live_bytes -= end - hi;
				e->size = hi - e->user;
				e->fill_rear = 0;
			}
		}
		for (size_t i = 0; i < ncap; i++) {
			struct mp_cblock *e = &tab[i];
			if (e->state != MP_ST_LIVE || e->pool != pool || e->user >= lo)
				continue;
			struct mp_cblock c = *e;
			bdelete(e);
			st.live_bytes -= lo - c.user;
			c.size -= lo - c.user;
			c.user = lo;
			c.fill_front = 0;
			if (bgrow(&old, &ob) == 0) {
				binsert_raw(tab, ncap, &c);
				nused++;
			} else {
				st.live--;
				st.live_bytes -= c.size;
			}
			i = (size_t)-1; /* the table moved under us: again */
		}
	}
	pthread_mutex_unlock(&lock);
	unmap_old(old, ob);
	return rc;
}

/* ---- the views (customview.c) --------------------------------------- */

size_t _mp_custom_live_locked(void)
{
	return st.live;
}

struct mp_cblock *_mp_custom_slots_locked(size_t *cap)
{
	*cap = ncap;
	return tab;
}

void _mp_custom_stats(struct mp_custom_stats *out)
{
	_mp_custom_lock();
	*out = st;
	_mp_custom_unlock();
}

void _mp_custom_accessible(uintptr_t lo, uintptr_t hi)
{
	if (hi <= lo)
		return;
	pthread_mutex_lock(&lock);
	/* the freed blocks whose poison the range touches start in
	 * (lo - MP_CPOISON_MAX, hi): one probe each (hi - lo capped) */
	uintptr_t from = lo > MP_CPOISON_MAX ? lo - MP_CPOISON_MAX + 1 : 0;
	uintptr_t to = hi - lo > MP_CPOISON_MAX ? lo + MP_CPOISON_MAX : hi;
	for (uintptr_t a = from; ncap && a < to; a++) {
		struct mp_cblock *e = bfind(a);
		if (!e || e->state != MP_ST_FREED || !e->poisoned ||
		    a + e->poisoned <= lo)
			continue;
		if (lo <= a + e->skip) { /* a prefix: skip it */
			uintptr_t h = hi - a < e->poisoned ? hi - a : e->poisoned;
			if (h > e->skip)
				e->skip = (uint16_t)h;
		} else { /* later bytes: check only those before */
			e->poisoned = (uint16_t)(lo - a);
		}
	}
	pthread_mutex_unlock(&lock);
}

void _mp_custom_mark_damaged(uintptr_t user, uint8_t state)
{
	pthread_mutex_lock(&lock);
	struct mp_cblock *e = bfind(user);
	if (e && e->state == state)
		e->damaged = 1;
	pthread_mutex_unlock(&lock);
}
