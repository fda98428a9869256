/* vm.h - the pool's own anonymous mappings, registered so the leak scan can
 * tell them from the program's memory. */
#ifndef MP_VM_H
#define MP_VM_H

#include <stddef.h>
#include <stdint.h>

/* Anonymous read-write mapping, registered as ours; NULL on failure.
 * noreserve: reserve address space only (touched pages become memory). */
void *_mp_map(size_t len, int noreserve);
/* Like _mp_map, aligned to `align` (a power of two). */
void *_mp_map_aligned(size_t len, size_t align);
void _mp_unmap(void *p, size_t len);

/* Call fn(lo, hi, arg) for every part of [lo, hi) that is not ours.
 * Returns -1 (and calls nothing) if the registry ever overflowed, so the
 * caller cannot tell ours from theirs. */
int _mp_vm_foreign_parts(uintptr_t lo, uintptr_t hi,
			 void (*fn)(uintptr_t, uintptr_t, void *), void *arg);

/* The same with _mp_vm_lock held (the leak scan holds it while the other
 * threads are stopped, so none can be parked holding it). */
int _mp_vm_foreign_parts_locked(uintptr_t lo, uintptr_t hi,
				void (*fn)(uintptr_t, uintptr_t, void *),
				void *arg);

void _mp_vm_lock(void);
void _mp_vm_unlock(void);

#endif
