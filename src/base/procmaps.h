/* procmaps.h - /proc/self/maps: one parser for the process's mappings, and
 * the readable ranges, so no check or scan ever reads memory the program
 * made inaccessible (a PROT_NONE heap page, a JVM's stack guard zone). */
#ifndef MP_PROCMAPS_H
#define MP_PROCMAPS_H

#include <stdint.h>

/* Call fn for every line of /proc/self/maps: range, permissions ("rw-p"),
 * path ("" for anonymous).  Stops when fn returns nonzero.  No malloc. */
void _mp_maps_each(int (*fn)(uintptr_t lo, uintptr_t hi, const char *perms,
			     const char *path, void *arg), void *arg);

/* Take a snapshot of the readable mappings and hold it (one holder at a
 * time) until _mp_readable_end.  Taken before any pool lock. */
void _mp_readable_begin(void);
void _mp_readable_end(void);
/* Take the snapshot again, still held (after the other threads stopped). */
void _mp_readable_refresh(void);

/* With the snapshot held: is all of [lo, hi) readable?  Without one (the
 * snapshot failed or is not held), 1. */
int _mp_readable(uintptr_t lo, uintptr_t hi);

/* Call fn for every readable part of [lo, hi) (all of it without a
 * snapshot). */
void _mp_readable_parts(uintptr_t lo, uintptr_t hi,
			void (*fn)(uintptr_t, uintptr_t, void *), void *arg);

/* With the snapshot held: does p lie in the read-only data of a loaded
 * file (no write, no execute permission)? */
int _mp_readable_rodata(uintptr_t p);

#endif
