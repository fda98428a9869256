/* tcache.c - per-thread caches of free slots: an allocation from the cache
 * takes no lock (the rules that keep checks, scans, counts and double-free
 * detection exact are in tcache.h).
 *
 * A cache record is mapped once and never unmapped: the registry of every
 * record ever made is a list that only grows, walked without a lock by the
 * counters and under the registry lock by fork and mp_destroy.  A thread
 * takes a free record at its first slab allocation and gives it back at its
 * exit (a pthread key's destructor), so 100 short-lived threads reuse one
 * record, and no record is lost with a thread: fork's child takes every
 * other thread's cached slots back through the registry.
 */
#define _GNU_SOURCE
#include "tcache.h"
#include "mpassert.h"
#include "options.h"
#include "reent.h"
#include "slab.h"
#include "vm.h"

#include <stdatomic.h>
#include <string.h>

/* Slots per class and cache, and how many a refill takes or a full cache
 * gives back at once under one lock: 32 x 8 classes x 16 bytes = 4 KiB. */
#define TC_CAP 32
#define TC_BATCH 16

struct mp_tcache {
	struct mp_tcache *next;  /* registry; set before the record is listed */
	atomic_int owned;        /* a live thread uses it (registry lock) */
	atomic_int arena;        /* its owner's arena: every slot is of it */
	unsigned n[MP_NUM_CLASSES];
	struct mp_tc_slot slot[MP_NUM_CLASSES][TC_CAP];
	/* allocations served without the class lock, not yet in the class's
	 * live and allocs counts; written by the owner only */
	atomic_size_t fast[MP_NUM_CLASSES];
	/* bytes in use, as counted by its owners' allocations and frees
	 * (pool.c): one writer at a time, so no locked instruction; never
	 * reset with its owner (the sum over all records is what counts) */
	atomic_long bytes;
};

static _Atomic(struct mp_tcache *) registry;
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_key_t exit_key;
static int exit_key_made;
static __thread struct mp_tcache *self __attribute__((tls_model("initial-exec")));
/* this thread is exiting (its key destructor ran): no cache again */
static __thread int gone __attribute__((tls_model("initial-exec")));

static void on_thread_exit(void *rec)
{
	(void)rec;
	gone = 1; /* first: a handler's malloc now makes no new cache */
	_mp_tc_flush_self();
}

/* The calling thread's first cached allocation: a record of its own. */
static struct mp_tcache *attach(void)
{
	struct mp_tcache *t;
	/* no way to learn of thread exits, or only one whose setspecific
	 * would allocate (a block the program's own key array would have
	 * been, in its leak report): no caches */
	if (!exit_key_made || exit_key >= 32) {
		gone = 1;
		return NULL;
	}
	pthread_mutex_lock(&reg_lock);
	for (t = atomic_load_explicit(&registry, memory_order_acquire); t; t = t->next)
		if (!atomic_load_explicit(&t->owned, memory_order_relaxed))
			break;
	if (!t) {
		t = _mp_map(sizeof *t, 0);
		if (!t) {
			pthread_mutex_unlock(&reg_lock);
			return NULL;
		}
		t->next = atomic_load_explicit(&registry, memory_order_relaxed);
		atomic_store_explicit(&registry, t, memory_order_release);
	}
	for (int c = 0; c < MP_NUM_CLASSES; c++) /* flushed when given back */
		MP_DCHECK(t->n[c] == 0 && atomic_load(&t->fast[c]) == 0);
	atomic_store_explicit(&t->owned, 1, memory_order_relaxed);
	atomic_store_explicit(&t->arena, _mp_arena(), memory_order_relaxed);
	pthread_mutex_unlock(&reg_lock);
	/* a key past glibc's first 32 makes setspecific allocate: internal */
	_mp_enter();
	int rc = pthread_setspecific(exit_key, t);
	_mp_leave();
	if (rc != 0) {
		pthread_mutex_lock(&reg_lock);
		atomic_store_explicit(&t->owned, 0, memory_order_relaxed);
		pthread_mutex_unlock(&reg_lock);
		gone = 1;
		return NULL;
	}
	self = t;
	return t;
}

/* A signal handler's malloc or free inside one of ours (not
 * async-signal-safe, yet programs do it): the interrupted call may be
 * half-way through this thread's stack of slots, so the nested one leaves
 * it alone and takes the locked path, which behaves as it did before
 * caches (t_stress's usr1 case). */
static inline int nested(void)
{
	return _mp_tls.in_pool > 1;
}

static inline struct mp_tcache *cache(void)
{
	struct mp_tcache *t = self;
	if (__builtin_expect(nested(), 0))
		return NULL;
	if (__builtin_expect(!_mp_opt.thread_cache, 0)) {
		if (t)
			_mp_tc_flush_self(); /* switched off since: give back */
		return NULL;
	}
	if (__builtin_expect(t != NULL, 1))
		return t;
	return gone ? NULL : attach();
}

void _mp_tc_init(void)
{
	pthread_mutex_lock(&reg_lock);
	if (!exit_key_made && pthread_key_create(&exit_key, on_thread_exit) == 0)
		exit_key_made = 1;
	pthread_mutex_unlock(&reg_lock);
}

static int take(int c, struct mp_slab **s, uint32_t *i)
{
	struct mp_tcache *t = cache();
	if (!t)
		return 0;
	unsigned n = t->n[c];
	if (__builtin_expect(n == 0, 0)) {
		n = _mp_slab_take_batch(atomic_load_explicit(&t->arena,
				memory_order_relaxed), c, t->slot[c], TC_BATCH);
		if (!n)
			return 0;
	}
	/* the count first: a handler that interrupts us takes another slot */
	t->n[c] = --n;
	*s = t->slot[c][n].s;
	*i = t->slot[c][n].i;
	atomic_store_explicit(&t->fast[c], atomic_load_explicit(&t->fast[c],
			      memory_order_relaxed) + 1, memory_order_relaxed);
	return 1;
}

void *_mp_tc_alloc(int c, size_t n, uint32_t stack, uint8_t flags,
		   uint8_t family)
{
	struct mp_slab *s;
	uint32_t i;
	if (take(c, &s, &i)) /* no lock: counted in the cache */
		return (void *)_mp_slab_init_slot(s, i, n, stack, flags, family);
	return _mp_slab_alloc(c, n, stack, flags, family);
}

int _mp_tc_keep_locked(struct mp_slab *s, uint32_t i)
{
	struct mp_tcache *t = self;
	if (!t || !_mp_opt.thread_cache || nested() ||
	    s->arena != atomic_load_explicit(&t->arena, memory_order_relaxed))
		return 0;
	int c = s->cls;
	unsigned n = t->n[c];
	if (n == TC_CAP) {
		/* full: the oldest half back to the free lists (same class and
		 * arena, so the lock held covers them) */
		struct mp_class *cl = _mp_slab_class(s);
		for (unsigned k = 0; k < TC_BATCH; k++)
			_mp_slab_release_locked(cl, t->slot[c][k].s, t->slot[c][k].i);
		memmove(t->slot[c], t->slot[c] + TC_BATCH,
			(TC_CAP - TC_BATCH) * sizeof t->slot[c][0]);
		n -= TC_BATCH;
	}
	__atomic_store_n(&s->meta[i].state, MP_ST_CACHED, __ATOMIC_RELEASE);
	t->slot[c][n] = (struct mp_tc_slot){ s, i };
	t->n[c] = n + 1;
	return 1;
}

atomic_long *_mp_tc_bytes_counter(void)
{
	struct mp_tcache *t = self;
	/* one writer only outside a nested call: a signal handler's malloc
	 * landing between the outer call's load and store would be lost, so
	 * a nested call counts in the atomic per-arena counter instead */
	return t && _mp_tls.in_pool <= 1 ? &t->bytes : NULL;
}

long _mp_tc_bytes_total(void)
{
	long b = 0;
	for (struct mp_tcache *t = atomic_load_explicit(&registry, memory_order_acquire);
	     t; t = t->next)
		b += atomic_load_explicit(&t->bytes, memory_order_relaxed);
	return b;
}

size_t _mp_tc_fast_count(int a, int c)
{
	size_t f = 0;
	for (struct mp_tcache *t = atomic_load_explicit(&registry, memory_order_acquire);
	     t; t = t->next)
		if (atomic_load_explicit(&t->arena, memory_order_relaxed) == a)
			f += atomic_load_explicit(&t->fast[c], memory_order_relaxed);
	return f;
}

/* Every slot of t and its counts back into class (a, c); its lock held. */
static void empty_class_locked(struct mp_tcache *t, int c)
{
	int a = atomic_load_explicit(&t->arena, memory_order_relaxed);
	struct mp_class *cl = &_mp_classes[a][c];
	for (unsigned k = 0; k < t->n[c]; k++)
		_mp_slab_release_locked(cl, t->slot[c][k].s, t->slot[c][k].i);
	t->n[c] = 0;
	size_t f = atomic_load_explicit(&t->fast[c], memory_order_relaxed);
	cl->live += f;
	cl->allocs += f;
	atomic_store_explicit(&t->fast[c], 0, memory_order_relaxed);
}

void _mp_tc_flush_self(void)
{
	struct mp_tcache *t = self;
	if (!t)
		return;
	/* detached before it is emptied: a signal handler's malloc or free
	 * meanwhile takes the locked path, never this half-emptied cache
	 * (gone stays 0 for _mp_destroy's caller, which may allocate again) */
	self = NULL;
	int a = atomic_load_explicit(&t->arena, memory_order_relaxed);
	for (int c = 0; c < MP_NUM_CLASSES; c++) {
		struct mp_class *cl = &_mp_classes[a][c];
		pthread_mutex_lock(&cl->lock);
		empty_class_locked(t, c);
		pthread_mutex_unlock(&cl->lock);
	}
	pthread_mutex_lock(&reg_lock);
	atomic_store_explicit(&t->owned, 0, memory_order_relaxed);
	pthread_mutex_unlock(&reg_lock);
}

void _mp_tc_fork_prepare(void)
{
	_mp_slab_lock_all();
	pthread_mutex_lock(&reg_lock);
}

void _mp_tc_fork_parent(void)
{
	pthread_mutex_unlock(&reg_lock);
	_mp_slab_fork_parent();
}

/* Every class lock held: every cache goes back, the child's own too, so
 * that its next slot comes through the lock and marks its slab as the
 * child's (_mp_slab_has_own). */
static void fork_child_locked(void)
{
	for (struct mp_tcache *t = atomic_load_explicit(&registry, memory_order_acquire);
	     t; t = t->next) {
		if (!atomic_load_explicit(&t->owned, memory_order_relaxed))
			continue;
		for (int c = 0; c < MP_NUM_CLASSES; c++)
			empty_class_locked(t, c);
		if (t != self) /* its thread does not exist here */
			atomic_store_explicit(&t->owned, 0, memory_order_relaxed);
	}
}

void _mp_tc_fork_child(void)
{
	fork_child_locked();
	pthread_mutex_unlock(&reg_lock);
	_mp_slab_fork_child();
}

void _mp_tc_forget_all(void)
{
	pthread_mutex_lock(&reg_lock);
	for (struct mp_tcache *t = atomic_load_explicit(&registry, memory_order_acquire);
	     t; t = t->next) {
		for (int c = 0; c < MP_NUM_CLASSES; c++) {
			t->n[c] = 0;
			atomic_store_explicit(&t->fast[c], 0, memory_order_relaxed);
		}
		atomic_store_explicit(&t->bytes, 0, memory_order_relaxed);
	}
	pthread_mutex_unlock(&reg_lock);
}
