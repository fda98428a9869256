/* stats.c - the pool's statistics (mp_get_stats): per-class slot counts
 * from the class records, and the global counters.  A dying process reads
 * them without the class locks (a crashed thread may hold one); the
 * numbers may then be a little torn, never a reason to hang. */
#include "pool.h"
#include "block.h"
#include "depot.h"
#include "report.h"
#include "tcache.h"

#include <pthread.h>

void _mp_stats_read(struct mp_stats *st, int lock)
{
	struct mp_counters k;
	for (int c = 0; c < MP_NUM_CLASSES; c++) {
		struct mp_class_stats *cs = &st->cls[c];
		*cs = (struct mp_class_stats){ .size = _mp_classes[0][c].size };
		for (int a = 0; a < MP_ARENAS; a++) {
			struct mp_class *cl = &_mp_classes[a][c];
			if (lock)
				pthread_mutex_lock(&cl->lock);
			cs->total += cl->total;
			/* live: with the allocations caches served (tcache.h) */
			cs->in_use += cl->live + _mp_tc_fast_count(a, c);
			cs->quarantined += cl->quarantined;
			if (lock)
				pthread_mutex_unlock(&cl->lock);
		}
		cs->free = cs->total - cs->in_use - cs->quarantined;
	}
	_mp_counters_get(&k, lock);
	st->large_blocks = k.large_blocks;
	st->large_bytes = k.large_bytes;
	st->bytes_in_use = k.bytes_in_use;
	st->peak_bytes = k.peak_bytes;
	st->allocs = k.allocs;
	st->frees = k.frees;
	st->errors = _mp_report_error_count();
	st->stacks = _mp_depot_count();
}
