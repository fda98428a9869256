/* roots.h - where the leak scan starts: module data, stacks, TLS, and the
 * program's own anonymous memory. */
#ifndef MP_ROOTS_H
#define MP_ROOTS_H

#include <stddef.h>
#include <stdint.h>

#include "threads.h"

#define MP_MAX_ROOTS 4096
#define MP_MAX_ANON 8192

struct mp_roots {
	struct mp_range root[MP_MAX_ROOTS]; /* always mapped: read directly */
	uint8_t root_kind[MP_MAX_ROOTS];    /* enum mp_root_kind (leaks.h) */
	size_t nroot;
	struct mp_range anon[MP_MAX_ANON];  /* anonymous rw mappings: read with
					     * care, minus our own (vm.c) */
	size_t nanon;
	struct mp_range ldso_text;          /* blocks the dynamic linker
					     * allocated (TLS) are roots */
	struct mp_range tsearch_text;       /* libc's tsearch: its nodes are
					     * pointed to as node + 1 (the
					     * colour bit), a start pointer */
	struct mp_range mods[MP_MAX_ROOTS]; /* loaded modules' writable
					     * segments, page-rounded: never
					     * anonymous roots (our own bss
					     * among them) */
	size_t nmods;
};

/* Collect roots; sp is where the program's frames begin on the exiting
 * thread's stack (handoff.h); 0: the calling thread is the checker's own
 * (longrun.c), neither its stack nor its descriptor is a root.  No pool lock may be held (dl_iterate_phdr
 * takes the loader lock). */
void _mp_roots_collect(struct mp_roots *rt, uintptr_t sp);

/* Read [lo, hi) without faulting, skipping pages that are not resident or
 * vanish meanwhile, and hand each readable run of words to fn, with the
 * address it was read from. */
void _mp_roots_read(uintptr_t lo, uintptr_t hi,
		    void (*fn)(const uintptr_t *w, size_t n, uintptr_t from,
			       void *arg),
		    void *arg);

/* Root regions the program registered (LeakSanitizer's interface,
 * preload/lsan.c): add (-1: table full), remove one registered with the
 * same bounds (-1: none), and copy them out for the scan. */
int _mp_roots_region_add(uintptr_t lo, uintptr_t hi);
int _mp_roots_region_remove(uintptr_t lo, uintptr_t hi);
size_t _mp_roots_regions(struct mp_range *out, size_t max);
/* Every region registered now or unregistered since: never read as
 * anonymous memory (a registered one is read as a region, when
 * use_root_regions says so; an unregistered one not at all). */
size_t _mp_roots_regions_known(struct mp_range *out, size_t max);

#endif
