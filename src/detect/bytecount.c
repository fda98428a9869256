/* bytecount.c - the bytes in use and their peak, counted on every
 * allocation and free without a shared written line (pool.c calls it;
 * mp_stats, the profile and quarantine_mb=auto read it).
 */
#define _GNU_SOURCE
#include "bytecount.h"
#include "quarantine.h"
#include "slab.h" /* _mp_arena, MP_ARENAS */
#include "tcache.h"

#include <stdatomic.h>

/* Bytes in use: a thread with a slot cache counts in its cache record
 * (tcache.h: one writer, so a plain add, no locked instruction, which would
 * also wait for the block's guard and metadata stores to drain); any other
 * in one counter per arena, each on its own cache line, so two threads on
 * two arenas never write the same line (a shared counter written by every
 * malloc and free made two threads do less work than one).  The sum of all
 * is exact whenever no call is in flight.  The peak is checked against
 * this thread's counter plus its last reading of the others, re-read when
 * that estimate reaches the peak, when the thread changes counters, and
 * every PEAK_REREAD allocations: exact while one thread allocates; with
 * several, a peak reached by the growth of other threads' counters since
 * that reading may be seen late or missed. */
#define PEAK_REREAD 256
static struct {
	atomic_long bytes;
} __attribute__((aligned(64))) arena_bytes[MP_ARENAS];
static atomic_size_t peak_bytes;
static __thread struct {
	long others;    /* the other counters' bytes, last read */
	unsigned tick;
	atomic_long *mine; /* the counter they exclude */
} peak_view __attribute__((tls_model("initial-exec")));
static long bytes_total(void)
{
	long t = _mp_tc_bytes_total();
	for (int a = 0; a < MP_ARENAS; a++)
		t += atomic_load_explicit(&arena_bytes[a].bytes, memory_order_relaxed);
	return t;
}

/* This thread's counter, and its bytes after adding n. */
static inline atomic_long *count_add(long n, long *now)
{
	atomic_long *c = _mp_tc_bytes_counter();
	if (c) { /* ours alone */
		*now = atomic_load_explicit(c, memory_order_relaxed) + n;
		atomic_store_explicit(c, *now, memory_order_relaxed);
	} else {
		c = &arena_bytes[_mp_arena()].bytes;
		*now = atomic_fetch_add_explicit(c, n, memory_order_relaxed) + n;
	}
	return c;
}

/* 1 when this allocation raised the peak (the profile's snapshot) */
int _mp_bytes_alloc(size_t n)
{
	long mine;
	atomic_long *c = count_add((long)n, &mine);
	size_t peak = atomic_load_explicit(&peak_bytes, memory_order_relaxed);
	if (mine + peak_view.others <= (long)peak && c == peak_view.mine &&
	    ++peak_view.tick % PEAK_REREAD != 0)
		return 0;
	long t = bytes_total();
	peak_view.mine = c;
	peak_view.others = t - atomic_load_explicit(c, memory_order_relaxed);
	size_t now = t > 0 ? (size_t)t : 0;
	while (now > peak)
		if (atomic_compare_exchange_weak(&peak_bytes, &peak, now)) {
			_mp_quarantine_set_peak(now); /* quarantine_mb=auto */
			return 1;
		}
	return 0;
}

void _mp_bytes_free(size_t n)
{
	long now;
	count_add(-(long)n, &now);
}

size_t _mp_bytes_live(void)
{
	long t = bytes_total();
	return t > 0 ? (size_t)t : 0;
}

size_t _mp_bytes_peak(void)
{
	return atomic_load(&peak_bytes);
}

void _mp_bytes_reset(void)
{
	for (int a = 0; a < MP_ARENAS; a++)
		atomic_store(&arena_bytes[a].bytes, 0);
	atomic_store(&peak_bytes, 0);
	_mp_quarantine_set_peak(0);
}
