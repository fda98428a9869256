/* slab.c - the eight size classes and their slabs.
 *
 * A slab is one MP_SLAB_SIZE-aligned mmap carved into equal slots of one
 * class; its metadata array is a separate mapping (see block.h for why).
 * A two-level page map turns any address into its slab without a lock, so
 * free() can tell our pointers from foreign ones in O(1).
 */
#define _GNU_SOURCE
#include "mpassert.h"
#include "slab.h"
#include "guard.h"
#include "reent.h"
#include "vm.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#define C(sz) { PTHREAD_MUTEX_INITIALIZER, NULL, NULL, 0, 0, 0, 0, 0, sz }
#define ARENA { C(32), C(64), C(128), C(256), C(512), C(1024), C(2048), C(4096) }
struct mp_class _mp_classes[MP_ARENAS][MP_NUM_CLASSES] = {
	ARENA, ARENA, ARENA, ARENA, ARENA, ARENA, ARENA, ARENA
};
#undef ARENA
#undef C
_Static_assert(MP_ARENAS == 8, "one ARENA initializer per arena");

static atomic_uint arenas_taken; /* threads that chose an arena so far */

int _mp_arena(void)
{
	if (__builtin_expect(_mp_tls.arena == 0, 0))
		_mp_tls.arena = 1 + (int)(atomic_fetch_add_explicit(&arenas_taken, 1,
						memory_order_relaxed) % MP_ARENAS);
	return _mp_tls.arena - 1;
}

int _mp_arenas_used(void)
{
	unsigned n = atomic_load_explicit(&arenas_taken, memory_order_relaxed);
	return n == 0 ? 1 : n > MP_ARENAS ? MP_ARENAS : (int)n;
}

/* Page map: 47-bit user addresses >> MP_SLAB_SHIFT = 27 bits, split 13/14.
 * Leaves are mmap'd on first use and never freed (tiny, and readers run
 * without a lock). */
#define PM_LEAF_BITS 14
#define PM_ROOT_BITS (47 - MP_SLAB_SHIFT - PM_LEAF_BITS)
#define PM_LEAF_SIZE ((size_t)1 << PM_LEAF_BITS)
typedef _Atomic(struct mp_slab *) pm_leaf[PM_LEAF_SIZE];
static _Atomic(pm_leaf *) pagemap[(size_t)1 << PM_ROOT_BITS];
static pthread_mutex_t pagemap_lock = PTHREAD_MUTEX_INITIALIZER;

int _mp_class_of(size_t n)
{
	if (n <= 32)
		return 0;
	if (n > MP_MAX_CLASS)
		return -1;
	/* ceil(log2(n)) - 5 */
	return (int)(64 - __builtin_clzll((unsigned long long)(n - 1))) - 5;
}

struct mp_slab *_mp_slab_of(uintptr_t p)
{
	uintptr_t k = p >> MP_SLAB_SHIFT;
	if (k >> (PM_ROOT_BITS + PM_LEAF_BITS))
		return NULL;
	pm_leaf *leaf = atomic_load_explicit(&pagemap[k >> PM_LEAF_BITS],
					     memory_order_acquire);
	if (!leaf)
		return NULL;
	return atomic_load_explicit(&(*leaf)[k & (PM_LEAF_SIZE - 1)],
				    memory_order_acquire);
}

static int pagemap_set(uintptr_t base, struct mp_slab *s)
{
	uintptr_t k = base >> MP_SLAB_SHIFT;
	if (k >> (PM_ROOT_BITS + PM_LEAF_BITS))
		return -1;
	pthread_mutex_lock(&pagemap_lock);
	pm_leaf *leaf = atomic_load(&pagemap[k >> PM_LEAF_BITS]);
	if (!leaf) {
		void *m = _mp_map(sizeof(pm_leaf), 0);
		if (!m) {
			pthread_mutex_unlock(&pagemap_lock);
			return -1;
		}
		leaf = m;
		atomic_store_explicit(&pagemap[k >> PM_LEAF_BITS], leaf,
				      memory_order_release);
	}
	atomic_store_explicit(&(*leaf)[k & (PM_LEAF_SIZE - 1)], s,
			      memory_order_release);
	pthread_mutex_unlock(&pagemap_lock);
	return 0;
}

uint32_t _mp_slab_locate(const struct mp_slab *s, uintptr_t p, long *off)
{
	uintptr_t rel = p - s->base;
	uint32_t i = (uint32_t)(rel / s->stride);
	*off = (long)(rel % s->stride) - MP_GUARD_SIZE;
	return i;
}

/* mmap an MP_SLAB_SIZE-aligned slab and its metadata; no lock held. */
static struct mp_slab *slab_new(int a, int c)
{
	uintptr_t base = (uintptr_t)_mp_map_aligned(MP_SLAB_SIZE, MP_SLAB_SIZE);
	if (!base)
		return NULL;

	uint32_t stride = _mp_classes[a][c].size + 2 * MP_GUARD_SIZE;
	uint32_t nslots = (uint32_t)(MP_SLAB_SIZE / stride);
	size_t meta_bytes = sizeof(struct mp_slab) +
			    (size_t)nslots * sizeof(struct mp_meta);
	char *m = _mp_map(meta_bytes, 0);
	if (!m) {
		_mp_unmap((void *)base, MP_SLAB_SIZE);
		return NULL;
	}
	struct mp_slab *s = (struct mp_slab *)m;
	s->base = base;
	s->meta = (struct mp_meta *)(m + sizeof(struct mp_slab));
	s->meta_bytes = meta_bytes;
	s->stride = stride;
	s->nslots = nslots;
	s->free_head = MP_NO_SLOT;
	s->cls = (uint8_t)c;
	s->arena = (uint8_t)a;
	if (pagemap_set(base, s) != 0) {
		_mp_unmap((void *)base, MP_SLAB_SIZE);
		_mp_unmap(m, meta_bytes);
		return NULL;
	}
	return s;
}

/* Fresh slots are handed out in address order and, with a quarantine,
 * nearly every allocation for the first quarantine_mb of frees is a fresh
 * slot: one page fault per 4 KiB, which costs more than the allocation in a
 * VM.  So pages are asked for ahead of the bump pointer in growing steps
 * (16 KiB, then doubling up to 256 KiB) with MADV_POPULATE_WRITE, one
 * system call per step, outside the class lock.  A program with one block
 * of a class pays for 16 KiB, not for the whole slab: there are eight
 * classes per arena, and 64 KiB first steps with unbounded doubling made up
 * much of the resident memory mpwrap added to small programs (a slab whose
 * bump pointer had just passed half was populated to its end). */
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif
#define POPULATE_FIRST ((size_t)16 << 10)
#define POPULATE_MAX ((size_t)256 << 10)
static atomic_int populate_off; /* the kernel said no: stop asking */

struct populate {
	uintptr_t addr, meta;
	size_t len, meta_len;
};

/* Class lock held: extend s's populated range past slot i; say what to
 * populate once the lock is dropped. */
static void populate_plan(struct mp_slab *s, uint32_t i, struct populate *p)
{
	if (i < s->populated ||
	    atomic_load_explicit(&populate_off, memory_order_relaxed))
		return;
	size_t done = (size_t)s->populated * s->stride;
	size_t step = done < POPULATE_FIRST ? POPULATE_FIRST :
		      done > POPULATE_MAX ? POPULATE_MAX : done;
	uint32_t upto = (uint32_t)((done + step) / s->stride);
	if (upto > s->nslots)
		upto = s->nslots;
	if (upto <= i)
		upto = i + 1;
	p->addr = s->base + done;
	p->len = (size_t)upto * s->stride - done;
	p->meta = (uintptr_t)&s->meta[s->populated];
	p->meta_len = (size_t)(upto - s->populated) * sizeof(struct mp_meta);
	s->populated = upto;
}

static void populate_run(const struct populate *p)
{
	if (!p->len)
		return;
	/* whole pages only: the rest is faulted in as usual */
	uintptr_t a = (p->addr + 4095) & ~(uintptr_t)4095;
	uintptr_t e = (p->addr + p->len) & ~(uintptr_t)4095;
	if (e > a && madvise((void *)a, e - a, MADV_POPULATE_WRITE) != 0)
		atomic_store(&populate_off, 1);
	a = (p->meta + 4095) & ~(uintptr_t)4095;
	e = (p->meta + p->meta_len) & ~(uintptr_t)4095;
	if (e > a)
		madvise((void *)a, e - a, MADV_POPULATE_WRITE);
}

/* Class lock held: make sure the class has a slab with a free or unused
 * slot.  0 with the lock still held, or -1 (ENOMEM) with it dropped. */
static int avail_locked(int a, int c, struct mp_class *cl)
{
	while (!cl->avail) {
		/* Map outside the lock; another thread may add one meanwhile,
		 * in which case ours simply joins the list too. */
		pthread_mutex_unlock(&cl->lock);
		struct mp_slab *ns = slab_new(a, c);
		if (!ns) {
			errno = ENOMEM;
			return -1;
		}
		pthread_mutex_lock(&cl->lock);
		ns->next = cl->slabs;
		cl->slabs = ns;
		ns->next_avail = cl->avail;
		ns->on_avail = 1;
		cl->avail = ns;
		cl->total += ns->nslots;
	}
	return 0;
}

/* Class lock held, cl->avail set: take one slot (free list first, then
 * the never used ones), counted in its slab's in_use. */
static struct mp_slab *take_locked(struct mp_class *cl, uint32_t *slot,
				   struct populate *pop)
{
	struct mp_slab *s = cl->avail;
	uint32_t i;
	if (s->free_head != MP_NO_SLOT) {
		i = s->free_head;
		s->free_head = s->meta[i].next_free;
	} else {
		i = s->bump++;
		populate_plan(s, i, pop);
	}
	if (++s->in_use == s->nslots) {
		cl->avail = s->next_avail;
		s->on_avail = 0;
	}
	if (s->gen != _mp_heap_gen) /* a child's first slot here */
		s->gen = _mp_heap_gen;
	*slot = i;
	return s;
}

/* Make slot i of s the new block; its state is written last (release),
 * so a reader that loads it with acquire sees the block whole. */
uintptr_t _mp_slab_init_slot(struct mp_slab *s, uint32_t i, size_t n,
			   uint32_t stack, uint8_t flags, uint8_t family)
{
	struct mp_meta *m = &s->meta[i];
	/* every field but the state (which a reader under the lock may be
	 * loading: it stays not LIVE until the release store below) */
	m->alloc_stack = stack;
	m->free_stack = 0;
	m->aux = (_mp_tls.lsan_off > 0 ? MP_AUX_IGNORED : 0) | _mp_heap_gen_aux;
	m->size = (uint16_t)n;
	m->family = family & MP_FAM_MASK;
	m->flags = flags | MP_F_KIND_UNJUDGED;
	/* guards before the state: mp_check must never see a LIVE slot
	 * whose guards are not written yet */
	uintptr_t user = _mp_slot_user(s, i);
	_mp_guard_fill(user, n, MP_GUARD_SIZE);
	__atomic_store_n(&m->state, MP_ST_LIVE, __ATOMIC_RELEASE);
	return user;
}

unsigned _mp_slab_take_batch(int a, int c, struct mp_tc_slot *out, unsigned max)
{
	struct populate pop = { 0 };
	struct mp_class *cl = &_mp_classes[a][c];
	unsigned k = 0;
	pthread_mutex_lock(&cl->lock);
	if (avail_locked(a, c, cl) != 0)
		return 0;
	while (k < max && cl->avail) {
		uint32_t i;
		struct mp_slab *s = take_locked(cl, &i, &pop);
		/* free, yet on no free list: cached (tcache.h) */
		__atomic_store_n(&s->meta[i].state, MP_ST_CACHED, __ATOMIC_RELAXED);
		out[k++] = (struct mp_tc_slot){ s, i };
	}
	pthread_mutex_unlock(&cl->lock);
	populate_run(&pop);
	return k;
}

void *_mp_slab_alloc(int c, size_t n, uint32_t stack, uint8_t flags,
		     uint8_t family)
{
	struct mp_slab *s;
	uint32_t i;
	struct populate pop = { 0 };
	int a = _mp_arena();
	struct mp_class *cl = &_mp_classes[a][c];
	pthread_mutex_lock(&cl->lock);
	if (avail_locked(a, c, cl) != 0)
		return NULL;
	s = take_locked(cl, &i, &pop);
	cl->live++;
	cl->allocs++;
	uintptr_t user = _mp_slab_init_slot(s, i, n, stack, flags, family);
	pthread_mutex_unlock(&cl->lock);
	populate_run(&pop);
	return (void *)user;
}

void _mp_slab_release_locked(struct mp_class *c, struct mp_slab *s, uint32_t i)
{
	struct mp_meta *m = &s->meta[i];
	/* a slot goes back once: a second release would put it on the free
	 * list twice and hand it out to two owners */
	MP_CHECK(i < s->nslots && m->state != MP_ST_FREED && s->in_use > 0);
	__atomic_store_n(&m->state, MP_ST_FREED, __ATOMIC_RELAXED);
	m->next_free = s->free_head;
	s->free_head = i;
	s->in_use--;
	if (!s->on_avail) {
		s->on_avail = 1;
		s->next_avail = c->avail;
		c->avail = s;
	}
}

void _mp_slab_block(const struct mp_slab *s, uint32_t i, struct mp_block *b)
{
	const struct mp_meta *m = &s->meta[i];
	b->user = _mp_slot_user(s, i);
	b->size = m->size;
	b->cls = s->cls;
	b->alloc_stack = m->alloc_stack;
	b->free_stack = m->free_stack;
	uint8_t st = _mp_meta_state(m);
	b->state = st == MP_ST_CACHED ? MP_ST_FREED : st; /* free either way */
	b->family = m->family;
	b->align_log = 0;
	b->flags = m->flags;
}

void _mp_slab_destroy_all(void)
{
	for (int k = 0; k < MP_ARENAS * MP_NUM_CLASSES; k++) {
		struct mp_class *cl = _mp_class_at(k);
		pthread_mutex_lock(&cl->lock);
		struct mp_slab *s = cl->slabs;
		cl->slabs = cl->avail = NULL;
		cl->total = cl->live = cl->quarantined = 0;
		cl->allocs = cl->frees = 0;
		pthread_mutex_unlock(&cl->lock);
		while (s) {
			struct mp_slab *next = s->next;
			pagemap_set(s->base, NULL);
			_mp_unmap((void *)s->base, MP_SLAB_SIZE);
			_mp_unmap(s, s->meta_bytes);
			s = next;
		}
	}
}

void _mp_slab_lock_all(void)
{
	pthread_mutex_lock(&pagemap_lock);
	for (int k = 0; k < MP_ARENAS * MP_NUM_CLASSES; k++)
		pthread_mutex_lock(&_mp_class_at(k)->lock);
}

void _mp_slab_unlock_all(void)
{
	for (int k = MP_ARENAS * MP_NUM_CLASSES - 1; k >= 0; k--)
		pthread_mutex_unlock(&_mp_class_at(k)->lock);
	pthread_mutex_unlock(&pagemap_lock);
}

unsigned _mp_heap_gen;
unsigned _mp_heap_gen_aux; /* _mp_heap_gen << MP_AUX_GEN_SHIFT, kept shifted:
			    * an allocation only ORs it in */
int _mp_heap_forked_again;
size_t _mp_exit_live_checked;

void _mp_slab_fork_parent(void)
{
	if (_mp_heap_gen)
		_mp_heap_forked_again = 1;
	_mp_slab_unlock_all();
}

void _mp_slab_fork_child(void)
{
	/* 27 bits: a chain of 130 million forks wraps, harmlessly (a block
	 * of an ancestor counts as own: judged as before) */
	_mp_heap_gen = (_mp_heap_gen + 1) & ((1u << (32 - MP_AUX_GEN_SHIFT)) - 1);
	if (!_mp_heap_gen)
		_mp_heap_gen = 1;
	_mp_heap_gen_aux = _mp_heap_gen << MP_AUX_GEN_SHIFT;
	_mp_heap_forked_again = 0;
	_mp_slab_unlock_all();
}
