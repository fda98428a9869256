/* profile.c - the heap profile by allocation site (profile=1).
 *
 * Counters per depot stack id (the id the allocation already has: no extra
 * unwinding), in a table of our own pages (vm.c) indexed by the id, mapped
 * a page of sites at a time as ids appear; updated with relaxed atomics, no
 * lock, no malloc.  Live bytes are bytes allocated minus bytes freed, so an
 * allocation costs two atomic adds and a free two more.
 *
 * Peak contribution (heaptrack's "peak"): the live bytes of each site at
 * the moment the pool's live bytes were highest.  Copying every site's
 * counter at each new peak would cost O(sites) per peak; instead a peak
 * bumps a global epoch, and a site about to change saves its live bytes
 * first if it has not done so since the last peak (its own epoch is older):
 * what it saves is what it held at that peak, since it has not changed
 * since.  A site untouched since the last peak holds its peak value now.
 * O(1) per call; exact while one thread allocates at a time (the pool's
 * peak is exact then too, pool.c); with several, a save may race with a
 * change of the same site by another thread.
 *
 * Temporary allocations (heaptrack's definition): a block freed before any
 * other allocation (or free) happened in between; kept per thread here (the
 * last block this thread allocated), where heaptrack follows one global
 * order of events: the same for one thread.
 *
 * Heap size over time: a point every `interval` allocations (counted per
 * thread, added to the global count PROF_BATCH at a time), at most
 * MP_PROF_POINTS of them: when full, every other point goes and the
 * interval doubles, so the series always spans the whole run.
 */
#define _GNU_SOURCE
#include "profile.h"
#include "mpassert.h"
#include "vm.h"

#include <stdatomic.h>
#include <string.h>
#include <time.h>

#define SITE_SHIFT 12
#define PAGE_SITES ((size_t)1 << SITE_SHIFT)
#define MAX_SITES ((size_t)1 << 24) /* the depot's ids (depot.c: MAX_IDS) */
#define NPAGES (MAX_SITES / PAGE_SITES)

struct site {
	atomic_uint_least64_t allocs, bytes, frees, freed;
	atomic_uint_least64_t temps, temp_bytes;
	atomic_uint_least64_t epoch; /* the peak epoch `peak` was saved at */
	atomic_uint_least64_t peak;  /* live bytes at that epoch's peak */
};
_Static_assert(sizeof(struct site) == 64, "a site is one cache line");

static _Atomic(struct site *) pages[NPAGES];
static atomic_uint_least64_t peak_epoch = 1; /* sites start at 0: stale */
static atomic_uint_least64_t lost;
static atomic_uint top_page; /* highest page mapped, + 1 */
static int on;
static size_t (*live_fn)(void);

static __thread struct {
	uintptr_t last;   /* the block this thread allocated last, until freed
			   * or followed by another allocation or free */
	unsigned pending; /* allocations not yet added to `allocs_total` */
} pt __attribute__((tls_model("initial-exec")));

#define PROF_BATCH 32
static atomic_uint_least64_t allocs_total;
static struct mp_prof_point series[MP_PROF_POINTS];
static unsigned npoints;
static uint64_t interval = PROF_BATCH, next_at = PROF_BATCH;
static atomic_flag series_busy = ATOMIC_FLAG_INIT;
static struct timespec t0;

static uint64_t ns_since_start(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)(t.tv_sec - t0.tv_sec) * 1000000000u +
	       (uint64_t)(t.tv_nsec - t0.tv_nsec);
}

void _mp_profile_start(size_t (*live)(void))
{
	live_fn = live;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	on = 1;
}

int _mp_profile_on(void)
{
	return on;
}

/* Site `id`, its page mapped on first use (a lost race unmaps its copy). */
static struct site *site_of(uint32_t id, int make)
{
	size_t pg = id >> SITE_SHIFT;
	if (pg >= NPAGES)
		return NULL;
	struct site *p = atomic_load_explicit(&pages[pg], memory_order_acquire);
	if (__builtin_expect(p != NULL, 1) || !make)
		return p ? &p[id & (PAGE_SITES - 1)] : NULL;
	struct site *fresh = _mp_map(PAGE_SITES * sizeof *fresh, 1);
	if (!fresh) {
		atomic_fetch_add_explicit(&lost, 1, memory_order_relaxed);
		return NULL;
	}
	if (!atomic_compare_exchange_strong(&pages[pg], &p, fresh))
		_mp_unmap(fresh, PAGE_SITES * sizeof *fresh);
	else
		p = fresh;
	unsigned top = atomic_load(&top_page);
	while (top < pg + 1 &&
	       !atomic_compare_exchange_weak(&top_page, &top, (unsigned)pg + 1))
		;
	return &p[id & (PAGE_SITES - 1)];
}

static uint64_t live_of(struct site *s)
{
	return atomic_load_explicit(&s->bytes, memory_order_relaxed) -
	       atomic_load_explicit(&s->freed, memory_order_relaxed);
}

/* Save the site's live bytes for the last peak before it changes. */
static inline void touch(struct site *s)
{
	uint64_t e = atomic_load_explicit(&peak_epoch, memory_order_relaxed);
	if (atomic_load_explicit(&s->epoch, memory_order_relaxed) == e)
		return;
	atomic_store_explicit(&s->peak, live_of(s), memory_order_relaxed);
	atomic_store_explicit(&s->epoch, e, memory_order_relaxed);
}

static void take_point(uint64_t total)
{
	if (atomic_flag_test_and_set_explicit(&series_busy, memory_order_acquire))
		return; /* another thread is at it: its point will do */
	if (total >= next_at) {
		if (npoints == MP_PROF_POINTS) { /* halve: keep every other */
			for (unsigned i = 0; i < MP_PROF_POINTS / 2; i++)
				series[i] = series[2 * i + 1];
			npoints = MP_PROF_POINTS / 2;
			interval *= 2;
		}
		series[npoints].ns = ns_since_start();
		series[npoints].allocs = total;
		series[npoints].bytes = live_fn ? live_fn() : 0;
		npoints++;
		next_at = (total / interval + 1) * interval;
	}
	atomic_flag_clear_explicit(&series_busy, memory_order_release);
}

void _mp_profile_alloc(uint32_t stack, size_t n, uintptr_t p)
{
	struct site *s = site_of(stack, 1);
	pt.last = p;
	if (s) {
		touch(s);
		atomic_fetch_add_explicit(&s->allocs, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&s->bytes, n, memory_order_relaxed);
	}
	if (++pt.pending < PROF_BATCH)
		return;
	uint64_t total = atomic_fetch_add_explicit(&allocs_total, pt.pending,
						   memory_order_relaxed) + pt.pending;
	pt.pending = 0;
	if (total >= next_at)
		take_point(total);
}

void _mp_profile_free(uint32_t stack, size_t n, uintptr_t p)
{
	int temp = pt.last == p;
	pt.last = 0;
	struct site *s = site_of(stack, 0);
	if (!s)
		return; /* its allocation was not counted either */
	touch(s);
	atomic_fetch_add_explicit(&s->frees, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->freed, n, memory_order_relaxed);
	if (temp) {
		atomic_fetch_add_explicit(&s->temps, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&s->temp_bytes, n, memory_order_relaxed);
	}
}

void _mp_profile_peak(void)
{
	atomic_fetch_add_explicit(&peak_epoch, 1, memory_order_relaxed);
}

int _mp_profile_site(uint32_t id, struct mp_site_stat *out)
{
	struct site *s = site_of(id, 0);
	memset(out, 0, sizeof *out);
	if (!s || !atomic_load_explicit(&s->allocs, memory_order_relaxed))
		return 0;
	out->allocs = atomic_load_explicit(&s->allocs, memory_order_relaxed);
	out->bytes = atomic_load_explicit(&s->bytes, memory_order_relaxed);
	out->live_blocks = out->allocs -
			   atomic_load_explicit(&s->frees, memory_order_relaxed);
	out->live_bytes = (size_t)live_of(s);
	uint64_t e = atomic_load_explicit(&peak_epoch, memory_order_relaxed);
	out->peak_bytes = atomic_load_explicit(&s->epoch, memory_order_relaxed) == e
				  ? (size_t)atomic_load_explicit(&s->peak, memory_order_relaxed)
				  : out->live_bytes;
	out->temps = atomic_load_explicit(&s->temps, memory_order_relaxed);
	out->temp_bytes = atomic_load_explicit(&s->temp_bytes, memory_order_relaxed);
	return 1;
}

uint32_t _mp_profile_max_id(void)
{
	unsigned top = atomic_load(&top_page);
	return top ? (uint32_t)(top * PAGE_SITES - 1) : 0;
}

unsigned _mp_profile_series(struct mp_prof_point *out, uint64_t *ival,
			    struct mp_prof_point *now)
{
	/* held for a few stores by an allocating thread; one stopped there
	 * (a crash report) is not waited for: the copy may be torn then */
	long spins = 0;
	int got;
	while (!(got = !atomic_flag_test_and_set_explicit(&series_busy,
							   memory_order_acquire)) &&
	       ++spins < 10000000)
		;
	unsigned n = npoints;
	memcpy(out, series, n * sizeof *out);
	*ival = interval;
	if (got)
		atomic_flag_clear_explicit(&series_busy, memory_order_release);
	now->ns = ns_since_start();
	now->allocs = atomic_load(&allocs_total) + pt.pending;
	now->bytes = live_fn ? live_fn() : 0;
	return n;
}

uint64_t _mp_profile_lost(void)
{
	return atomic_load(&lost);
}
