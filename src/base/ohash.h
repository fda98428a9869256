/* ohash.h - the one rule of backward-shift deletion in the open-addressing
 * tables with linear probing (the large-block table, the custom pools' and
 * their blocks' tables): after a delete leaves a hole, the run that
 * follows is walked and each entry that may fill the hole moves into it, so
 * that no tombstone is left and lookups stay short.
 */
#ifndef MP_OHASH_H
#define MP_OHASH_H

#include <stddef.h>

/* May the entry at slot j, whose home slot is `home`, move back into the
 * hole at slot `hole` (j follows the hole in the probe run, cyclically)?
 * Only when its home is not in (hole, j]: there a lookup starting at home
 * would no longer reach it. */
static inline int _mp_ohash_fills_hole(size_t home, size_t hole, size_t j)
{
	return j > hole ? home <= hole || home > j
			: home <= hole && home > j;
}

#endif
