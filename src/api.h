/* api.h - what the API layer offers the layer above it (the preload):
 * the public functions themselves are in include/mempool.h. */
#ifndef MP_API_H
#define MP_API_H

#include "mempool.h"

/* mp_leak_check runs fn (libmpwrap.so's classified check, longrun.c) when
 * one is registered; without it (libmempool.a) every live block counts. */
void _mp_api_on_leak_check(int (*fn)(const char *trigger, int checker,
				     struct mp_leak_counts *out));

#endif
