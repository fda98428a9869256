/* scanblock.h - a block as the leak scan sees it (leakscan.c, leakheur.c).
 *
 * One reference for every kind of graph node: a slab slot, a large block
 * or a block the program describes (heap/custom.c), with the flag and aux
 * bits the scan keeps in the block itself (no memory of its own per
 * block).  A header of its own because the scan and memcheck's heuristics
 * (leakheur.c) both look at blocks through it.
 */
#ifndef MP_SCANBLOCK_H
#define MP_SCANBLOCK_H

#include "block.h"
#include "large.h"

#include <stddef.h>
#include <stdint.h>

struct bref {
	uintptr_t user;
	size_t size;
	uint8_t *flags;
	uint32_t stack;
	uint32_t *aux;        /* a slot's aux word, or NULL: */
	struct mp_large *le;  /* a large entry (aux bits) */
};

static inline unsigned get_aux(const struct bref *b)
{
	return b->aux ? *b->aux : b->le ? b->le->aux : 0;
}

static inline void set_aux(struct bref *b, unsigned aux)
{
	if (b->aux) /* the fork generation above the aux bits stays */
		*b->aux = (*b->aux & ~MP_AUX_BITS) | (aux & MP_AUX_BITS);
	else if (b->le)
		b->le->aux = aux & MP_AUX_BITS;
}

static inline void set_kind(uint8_t *f, int kind)
{
	*f = (uint8_t)((*f & ~MP_F_KIND_MASK) | (kind << MP_F_KIND_SHIFT));
}

#endif
