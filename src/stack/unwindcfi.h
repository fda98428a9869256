/* unwindcfi.h - a pc's rule from its DWARF CFI (unwindcfi.c), for unwind.c:
 * every call under unwind.c's uw_lock. */
#ifndef MP_UNWINDCFI_H
#define MP_UNWINDCFI_H

#include <stdbool.h>
#include <stdint.h>

/* Bring the Dwfl in line with the loader's module set (c: its counters,
 * adds and subs, or NULL when it has none).  A dlclose may leave rules for
 * addresses a later dlopen reuses, a dlopen may cover pcs cached as "no
 * module" (nomodule: the table holds some): then flush() empties the table
 * first (passed in: unwind.c calls this file, never the other way). */
void _mp_unwind_sync_modules(const unsigned long long *c, bool nomodule,
			     void (*flush)(void));
/* The rule (unwindrule.h) of the code at addr, R_UNSUP (| R_NOMODULE when
 * no module covers it) if it has none the walker can use; *derived counts
 * the CFI lookups. */
uint64_t _mp_unwind_derive(uintptr_t addr, unsigned long *derived);
/* Forget the Dwfl (a forked child's, maybe half updated). */
void _mp_unwind_cfi_drop(void);

#endif
