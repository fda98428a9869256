/* profile.h - the heap profile by allocation site (profile=1): counters per
 * depot stack id, the peak snapshot, temporaries and heap size over time. */
#ifndef MP_PROFILE_H
#define MP_PROFILE_H

#include <stddef.h>
#include <stdint.h>

/* One allocation site's figures, as read by _mp_profile_site. */
struct mp_site_stat {
	uint64_t allocs, bytes;  /* allocations made, bytes they asked for */
	uint64_t live_blocks;    /* live now */
	size_t live_bytes;
	size_t peak_bytes;       /* live at the process's peak */
	uint64_t temps, temp_bytes; /* freed before any other allocation */
};

/* One point of the heap-size series. */
struct mp_prof_point {
	uint64_t ns;      /* since the profile began (CLOCK_MONOTONIC) */
	uint64_t allocs;  /* allocations made before it */
	size_t bytes;     /* live bytes then */
};

#define MP_PROF_POINTS 1000

/* Turn the profile on; live() gives the bytes live now (the pool's
 * counters, for the series).  Before the first allocation is counted
 * (two threads may both call it: the same values are stored). */
void _mp_profile_start(size_t (*live)(void));
int _mp_profile_on(void);

/* Block p of n bytes made at stack id `stack`, or freed (stack: the one it
 * was made at).  No lock needed, no memory allocated but the table's own
 * pages (vm.c), mapped as sites first appear. */
void _mp_profile_alloc(uint32_t stack, size_t n, uintptr_t p);
void _mp_profile_free(uint32_t stack, size_t n, uintptr_t p);
/* The pool's live bytes just reached a new peak (after the allocation that
 * did it was counted above): the sites' live bytes now are the peak's. */
void _mp_profile_peak(void);

/* Figures of site `id` (0: blocks without a stack); 0 when it never
 * allocated.  Exact when no allocation or free is in flight. */
int _mp_profile_site(uint32_t id, struct mp_site_stat *s);
/* Highest site id that may have figures. */
uint32_t _mp_profile_max_id(void);

/* The series, oldest first (at most MP_PROF_POINTS); *interval: the
 * allocations between two points; *now gets a point for this moment. */
unsigned _mp_profile_series(struct mp_prof_point *out, uint64_t *interval,
			    struct mp_prof_point *now);
/* Sites that could not be counted (no memory for the table). */
uint64_t _mp_profile_lost(void);

#endif
