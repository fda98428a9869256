/* guardpage.h - sampled guard-page blocks (Electric Fence, GWP-ASan). */
#ifndef MP_GUARDPAGE_H
#define MP_GUARDPAGE_H

#include <stddef.h>
#include <stdint.h>

#include "large.h"
#include "gpsites.h"
#include "verdict.h"

/* Should this allocation get a guard page: a targeted site (`site`, what
 * _mp_gp_site_match said of its stack: MP_GP_OVER or MP_GP_UNDER, then
 * returned | MP_GP_EXACT) or the guard_page_rate sample (the side of
 * guard_page_side); 0: no. */
#define MP_GP_EXACT 4
int _mp_gp_wanted(size_t n, size_t align, int site);

/* Map a block of n bytes against an inaccessible page, as _mp_gp_wanted
 * said (`how`), and fill *e (user, real, map_pages, flags); NULL when no
 * memory or no registry slot. */
void *_mp_gp_alloc(size_t n, size_t align, uint32_t stack, int how,
		   struct mp_large *e);

/* Guard bytes to check beside a large block: 16 normally; around a guard-page
 * block, only what lies between the block and its page (never the page). */
void _mp_gp_soft_guards(const struct mp_large *e, size_t *front, size_t *rear);

/* Freed: make the data pages inaccessible, so any use faults at once. */
void _mp_gp_retire(const struct mp_large *e, uint32_t free_stack);
/* Leaves quarantine: unmap. */
void _mp_gp_release(uintptr_t real, uint32_t map_pages);
/* Half the registry in use: a freed guard-page block is released at once
 * instead of waiting in quarantine (no use-after-free check for it). */
int _mp_gp_crowded(void);

/* Fault at addr: a guard page or a freed guard-page block?  Fills *v
 * (access: MP_ACCESS_READ, MP_ACCESS_WRITE or 0 when unknown) and returns
 * 1.  Lock-free: called from the SIGSEGV handler. */
int _mp_gp_fault(uintptr_t addr, uint32_t access_stack, int access,
		 struct mp_verdict *v);

#endif
