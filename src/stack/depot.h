/* depot.h - stack depot: each distinct stack stored once, named by an id. */
#ifndef MP_DEPOT_H
#define MP_DEPOT_H

#include <stddef.h>
#include <stdint.h>

/* Store pcs[0..n) (or find the identical stack); returns its id (>= 1), or
 * 0 when n == 0 or the depot is full.  Lookups of known stacks take no lock. */
uint32_t _mp_depot_put(const uintptr_t *pcs, unsigned n);

/* What a caller remembers of the id its last stack got: the unwinder's
 * replay of a call site (unwind.c) keeps one and clears it whenever the
 * replayed frames change, so an id found here is the id of the frames the
 * replay returns, while the depot was not reset and no module unloaded
 * (epoch and gen, checked here). */
struct mp_depot_memo {
	uint32_t id, gen, epoch;
};

/* _mp_depot_put for the frames m was filled for (m->id 0: empty), with
 * m's id when still valid; fills m otherwise. */
uint32_t _mp_depot_put_memo(const uintptr_t *pcs, unsigned n,
			    struct mp_depot_memo *m);

/* hook() is called once (no lock held) when a stack cannot be stored: no
 * memory could be mapped for it (an address space limit) or the depot
 * holds its maximum; later blocks get no stack. */
void _mp_depot_on_full(void (*hook)(void));

/* Frames of stack `id`; returns the depth (0 for id 0 or unknown). */
unsigned _mp_depot_get(uint32_t id, const uintptr_t **pcs);

/* Number of stacks stored (ids are 1..count) and bytes of depot memory. */
uint32_t _mp_depot_count(void);
size_t _mp_depot_bytes(void);

void _mp_depot_lock(void);
void _mp_depot_unlock(void);
/* Unmap everything (mp_destroy). */
void _mp_depot_reset(void);

/* The module generation stack `id` was first captured in (symbolize.h:
 * _mp_symbolize_generation), for _mp_symbolize_at. */
uint32_t _mp_depot_gen(uint32_t id);

#endif
