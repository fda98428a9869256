/* sampled.h - sampled mode (sample_rate=N): the C library serves every
 * allocation but one in N, which goes to a guarded slot (sampleslots.c)
 * with its allocation stack; errors on those are reported as the full
 * mode's. */
#ifndef MP_SAMPLED_H
#define MP_SAMPLED_H

#include <stddef.h>
#include <stdint.h>

#include "sampleslots.h"

/* At start, in sampled mode: options, stacks, the report sink and the
 * slots region.  0 when sampling runs. */
int _mp_sampled_start(void);

/* A sampled allocation of `family` (enum mp_family) by the shim that
 * returns to `caller`; NULL when it cannot be sampled (inside the
 * library, too large, every slot busy): the caller then goes to the C
 * library.  The block is not zeroed. */
void *_mp_sampled_alloc(size_t n, size_t align, unsigned family,
			uintptr_t caller);

/* p is in the slots region (_mp_slots_owns): free it, or report the
 * invalid free, double free or damaged guard bytes (the program goes on;
 * a bad pointer is not freed). */
void _mp_sampled_free(void *p, unsigned family, uintptr_t caller,
		      const char *where);

/* realloc of p in the region: a new block (sampled again when the
 * countdown says so, else the C library's), the old one freed as by
 * free; NULL and p untouched when no memory or p is no live block. */
void *_mp_sampled_realloc(void *p, size_t n, uintptr_t caller);

/* The requested size of the live block p (0: none). */
size_t _mp_sampled_usable_size(const void *p);

/* At exit or death: damage found in the guard bytes of live sampled
 * blocks, reported (none at a fatal fault: the dying thread may be
 * writing one). */
void _mp_sampled_sweep(int fatal);

/* Then, after the leak report (preload/exit.c): the error summary, or
 * the clean line (scanned: a leak check ran and found nothing listed),
 * and with verbosity=2 the statistics line. */
void _mp_sampled_summary(size_t errors, size_t lost_blocks, int scanned);

#endif
