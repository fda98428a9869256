/* api.h - what the API layer offers the layer above it (the preload):
 * the public functions themselves are in include/mempool.h. */
#ifndef MP_API_H
#define MP_API_H

#include "mempool.h"

/* mp_leak_check runs fn (libmpwrap.so's classified check, longrun.c) when
 * one is registered; without it (libmempool.a) every live block counts. */
void _mp_api_on_leak_check(int (*fn)(const char *trigger, int checker,
				     struct mp_leak_counts *out));

/* mp_scope_end runs fn (libmpwrap.so's check of the scope's blocks,
 * longrun.c) when one is registered: the scope's lost blocks, reported with
 * its name, or -1; without it every live block of the scope counts. */
void _mp_api_on_scope_end(long (*fn)(const char *name));
/* mp_scope_begin calls fn (longrun.c: where the program began the scope)
 * once it has begun one, from the library's first frame. */
void _mp_api_on_scope_begin(void (*fn)(void));

#endif
