/* guardpage.h - sampled guard-page blocks (Electric Fence, GWP-ASan). */
#ifndef MP_GUARDPAGE_H
#define MP_GUARDPAGE_H

#include <stddef.h>
#include <stdint.h>

#include "large.h"
#include "verdict.h"

/* Should this allocation get a guard page?  (guard_page_rate sampling) */
int _mp_gp_wanted(size_t n, size_t align);

/* Map a block of n bytes against an inaccessible page and fill *e (user,
 * real, map_pages, flags); NULL when no memory or no registry slot. */
void *_mp_gp_alloc(size_t n, size_t align, uint32_t stack, struct mp_large *e);

/* Guard bytes to check beside a large block: 16 normally; around a guard-page
 * block, only what lies between the block and its page (never the page). */
void _mp_gp_soft_guards(const struct mp_large *e, size_t *front, size_t *rear);

/* Freed: make the data pages inaccessible, so any use faults at once. */
void _mp_gp_retire(const struct mp_large *e, uint32_t free_stack);
/* Leaves quarantine: unmap. */
void _mp_gp_release(uintptr_t real, uint32_t map_pages);

/* Fault at addr: a guard page or a freed guard-page block?  Fills *v and
 * returns 1.  Lock-free: called from the SIGSEGV handler. */
int _mp_gp_fault(uintptr_t addr, uint32_t access_stack, struct mp_verdict *v);

#endif
