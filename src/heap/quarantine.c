/* quarantine.c - FIFOs of freed blocks, bounded by bytes and by count.
 *
 * A freed block waits here, poisoned, before its memory can be reused, so a
 * double free still finds it freed and a write through a stale pointer is
 * found when it leaves (see pool.c).  Each ring is mmap'd and reserved once;
 * only its shard's lock guards it, and it never holds a class lock.
 */
#define _GNU_SOURCE
#include "quarantine.h"
#include "guard.h"
#include "options.h"
#include "slab.h"
#include "vm.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/resource.h>

/* Entries per shard: 1 Mi (16 MiB reserved, touched as it fills), or under
 * an address space limit (ulimit -v) a ring that keeps all eight shards
 * within 1/64 of the limit: 2 MiB each under 1 GiB.  Fewer entries only
 * evict by count sooner.  Decided once, before the first ring is mapped. */
#define RING_MAX ((size_t)1 << 20)
#define RING_MIN ((size_t)1 << 12)
static size_t ring_cap = RING_MAX;
#define RING_CAP ring_cap
/* bytes of a block _mp_prefetch_block already asks for (guard.h) */
#define MP_POISON_PREFETCHED 240

/* One FIFO per arena: a thread frees into its own arena's shard, so two
 * threads never wait for each other here.  The byte budget is shared out
 * among the shards in use (a single-threaded program keeps all of it). */
struct shard {
	pthread_mutex_t lock;
	struct mp_qent *ring;
	size_t head, count, bytes;
	size_t pushed; /* blocks ever pushed (this process and its parents) */
	size_t mark;   /* pushed when this process was forked (0: not a child) */
} __attribute__((aligned(64)));

static struct shard shards[MP_ARENAS] = {
#define S { PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0, 0, 0, 0 }
	S, S, S, S, S, S, S, S
#undef S
};
_Static_assert(MP_ARENAS == 8, "one initializer per shard");

/* What a block costs the budget: its bytes plus its guards, so zero-byte
 * blocks still move through a small or empty quarantine. */
static size_t weight(size_t size)
{
	return size + 32;
}

/* quarantine_mb=auto (-1, the default): the budget follows the program,
 * MP_Q_AUTO_FLOOR plus its peak live heap, up to MP_Q_AUTO_CAP.  A fixed
 * 64 MiB made a 5 MiB program (git) hold 40 MiB of freed buffers, 9.6x
 * glibc's peak RSS; now the quarantine at most doubles the heap of a program
 * past the floor, and every block the program frees fits in it (it was part
 * of the peak).  An explicit quarantine_mb=N is a fixed N MiB, as before. */
static atomic_size_t peak_live;

void _mp_quarantine_set_peak(size_t live)
{
	atomic_store_explicit(&peak_live, live, memory_order_relaxed);
}

size_t _mp_quarantine_budget(void)
{
	long mb = _mp_opt.quarantine_mb;
	if (mb >= 0)
		return (size_t)mb << 20;
	size_t b = MP_Q_AUTO_FLOOR +
		   atomic_load_explicit(&peak_live, memory_order_relaxed);
	return b < MP_Q_AUTO_CAP ? b : MP_Q_AUTO_CAP;
}

static size_t budget(void)
{
	return _mp_quarantine_budget() / (size_t)_mp_arenas_used();
}

/* A block leaves the quarantine long after it was last touched: its memory
 * is cold.  Its eviction check reads up to 256 bytes and its reuse writes
 * the front guard, so those lines are fetched PREFETCH_AHEAD evictions
 * early, behind the program's own work. */
#define PREFETCH_AHEAD 32
#define FOREACH_AHEAD 16 /* the same, for the walks of mp_check and exit */

/* Ask for the lines of the entry `ahead` evictions from the head: the
 * check at eviction reads the block's guards and poison and release() its
 * metadata, all long cold.  Counted in evictions, not pushes: a push of a
 * 4 KiB block evicts a burst of small ones. */
static void prefetch_ahead(const struct shard *q, size_t ahead)
{
	if (q->count <= ahead)
		return;
	const struct mp_qent *e = &q->ring[(q->head + ahead) & (RING_CAP - 1)];
	_mp_prefetch_block(e->user, e->size);
	/* the rear guard (a write past a freed block) may start a line of
	 * its own, past the poisoned lines or not */
	if (e->size > MP_POISON_PREFETCHED)
		_mp_prefetch_line((const char *)e->user + e->size);
	_mp_prefetch_line((const char *)e->user + e->size + MP_GUARD_SIZE - 1);
	struct mp_slab *s = _mp_slab_of(e->user);
	if (s) {
		long off;
		uint32_t i = _mp_slab_locate(s, e->user, &off);
		_mp_prefetch_line(&s->meta[i]);
	}
}

/* q->lock held */
static size_t evict_locked(struct shard *q, struct mp_qent *out, size_t max)
{
	size_t k = 0, b = budget();
	while (k < max && q->count && (q->bytes > b || q->count == RING_CAP)) {
		prefetch_ahead(q, PREFETCH_AHEAD);
		out[k++] = q->ring[q->head];
		q->bytes -= weight(q->ring[q->head].size);
		q->head = (q->head + 1) & (RING_CAP - 1);
		q->count--;
	}
	return k;
}

/* Fewer pages than this are not worth a system call (and the page faults
 * when the memory is reused). */
#define DROP_MIN_PAGES 4
#define DROP_PAGE ((uintptr_t)4096)

void _mp_quarantine_drop_pages(uintptr_t lo, uintptr_t hi, size_t size)
{
	if (size < MP_Q_DROP_MIN || hi < lo + DROP_MIN_PAGES * DROP_PAGE ||
	    weight(size) > budget())
		return;
	lo = (lo + DROP_PAGE - 1) & ~(DROP_PAGE - 1);
	hi &= ~(DROP_PAGE - 1);
	if (hi >= lo + DROP_MIN_PAGES * DROP_PAGE) {
		int e = errno;
		madvise((void *)lo, hi - lo, MADV_DONTNEED);
		errno = e;
	}
}

static void size_rings(void)
{
	static atomic_int done;
	if (atomic_load_explicit(&done, memory_order_acquire))
		return;
	static pthread_mutex_t once = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_lock(&once);
	struct rlimit rl;
	if (!atomic_load(&done) && getrlimit(RLIMIT_AS, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY) {
		size_t fit = (size_t)(rl.rlim_cur / 64 / MP_ARENAS /
				      sizeof(struct mp_qent));
		size_t cap = RING_MIN;
		while (cap * 2 <= fit && cap < RING_MAX)
			cap *= 2;
		ring_cap = cap;
	}
	atomic_store_explicit(&done, 1, memory_order_release);
	pthread_mutex_unlock(&once);
}

static struct shard *my_shard(void)
{
	return &shards[_mp_arena()];
}

size_t _mp_quarantine_push(uintptr_t user, size_t size, struct mp_qent *out,
			   size_t max)
{
	struct shard *q = my_shard();
	size_rings();
	pthread_mutex_lock(&q->lock);
	if (!q->ring) {
		void *m = _mp_map(RING_CAP * sizeof *q->ring, 1);
		if (!m) {
			/* no ring: release at once rather than fail the free */
			pthread_mutex_unlock(&q->lock);
			out[0].user = user;
			out[0].size = size;
			return 1;
		}
		q->ring = m;
	}
	size_t k = 0;
	if (q->count == RING_CAP)
		k = evict_locked(q, out, 1);
	q->ring[(q->head + q->count) & (RING_CAP - 1)] =
		(struct mp_qent){ user, size };
	q->count++;
	q->pushed++;
	q->bytes += weight(size);
	k += evict_locked(q, out + k, max - k);
	pthread_mutex_unlock(&q->lock);
	return k;
}

size_t _mp_quarantine_drain(struct mp_qent *out, size_t max)
{
	struct shard *q = my_shard();
	pthread_mutex_lock(&q->lock);
	size_t k = evict_locked(q, out, max);
	pthread_mutex_unlock(&q->lock);
	return k;
}

static atomic_size_t visited_own;

static void foreach(void (*fn)(const struct mp_qent *, void *), void *arg,
		    int own)
{
	for (int a = 0; a < MP_ARENAS; a++) {
		struct shard *q = &shards[a];
		pthread_mutex_lock(&q->lock);
		size_t first = 0;
		if (own && q->pushed - q->mark < q->count)
			first = q->count - (q->pushed - q->mark);
		if (own)
			atomic_fetch_add(&visited_own, q->count - first);
		for (size_t i = first; i < q->count; i++) {
			/* the checks read every block: ask ahead (the ring
			 * is in free order, its blocks all over the slabs) */
			if (i + FOREACH_AHEAD < q->count) {
				const struct mp_qent *e = &q->ring[
					(q->head + i + FOREACH_AHEAD) & (RING_CAP - 1)];
				_mp_prefetch_block(e->user, e->size);
				_mp_prefetch_line((const char *)e->user + e->size +
						  MP_GUARD_SIZE - 1);
			}
			fn(&q->ring[(q->head + i) & (RING_CAP - 1)], arg);
		}
		pthread_mutex_unlock(&q->lock);
	}
}

void _mp_quarantine_foreach(void (*fn)(const struct mp_qent *, void *),
			    void *arg)
{
	foreach(fn, arg, 0);
}

void _mp_quarantine_foreach_own(void (*fn)(const struct mp_qent *, void *),
				void *arg)
{
	foreach(fn, arg, 1);
}

size_t _mp_quarantine_own_visited(void)
{
	return atomic_load(&visited_own);
}

void _mp_quarantine_fork_child(void)
{
	atomic_store(&visited_own, 0);
	for (int a = MP_ARENAS - 1; a >= 0; a--) {
		shards[a].mark = shards[a].pushed;
		pthread_mutex_unlock(&shards[a].lock);
	}
}

void _mp_quarantine_reset(void)
{
	for (int a = 0; a < MP_ARENAS; a++) {
		struct shard *q = &shards[a];
		pthread_mutex_lock(&q->lock);
		if (q->ring)
			_mp_unmap(q->ring, RING_CAP * sizeof *q->ring);
		q->ring = NULL;
		q->head = q->count = q->bytes = 0;
		pthread_mutex_unlock(&q->lock);
	}
}

void _mp_quarantine_lock(void)
{
	for (int a = 0; a < MP_ARENAS; a++)
		pthread_mutex_lock(&shards[a].lock);
}

void _mp_quarantine_unlock(void)
{
	for (int a = MP_ARENAS - 1; a >= 0; a--)
		pthread_mutex_unlock(&shards[a].lock);
}
