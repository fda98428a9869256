/* locate.h - where a bad address points, in words (report time only). */
#ifndef MP_LOCATE_H
#define MP_LOCATE_H

#include "report.h"

/* Fill v->loc and v->loc_kind for the reports that name an address of
 * unknown standing (invalid free, overflow, underflow, use after free):
 * beside or inside a heap block, in a freed one, on a thread's stack (in
 * which frame), in a module's data (which symbol), or nowhere known.
 * Symbolizes and reads the thread registry: no pool lock may be held. */
void _mp_locate(struct mp_verdict *v);

/* "heap", "freed", "stack", "data", "module", "unknown"; NULL: not located. */
const char *_mp_loc_kind_name(int kind);

/* The key naming the site of depot stack `stack` (with "under@" for side
 * MP_GP_UNDER) into buf; -1 when the stack cannot be named (no stack, no
 * module).  Report time: it symbolizes. */
int _mp_gp_site_key(uint32_t stack, int side, char *buf, size_t cap);

#endif
