/* inherit.h - a forked child's inherited blocks: the parts it wrote. */
#ifndef MP_INHERIT_H
#define MP_INHERIT_H

#include <stddef.h>
#include <stdint.h>

typedef void (*mp_part_fn)(uintptr_t lo, uintptr_t hi, void *arg);

/* In a forked child: fn(lo, hi, arg) for each part of a live inherited
 * block (one made before the fork) on a page the child wrote since, or on
 * every page when that cannot be told (inherit.c).  Class and large-table
 * locks held by the caller.  Returns the pages visited. */
size_t _mp_inherited_parts(mp_part_fn fn, void *arg);

#endif
