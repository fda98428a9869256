/* bytecount.h - bytes in use and their peak (bytecount.c). */
#ifndef MP_BYTECOUNT_H
#define MP_BYTECOUNT_H

#include <stddef.h>

/* n bytes allocated: 1 when that raised the peak (the profile's snapshot).
 * Any thread; exact while one thread allocates (bytecount.c says when a
 * peak reached by several may be seen late). */
int _mp_bytes_alloc(size_t n);
/* n bytes freed. */
void _mp_bytes_free(size_t n);
/* the bytes in use now: exact whenever no call is in flight */
size_t _mp_bytes_live(void);
size_t _mp_bytes_peak(void);
/* mp_reset_stats: both to 0 (the quarantine's peak too) */
void _mp_bytes_reset(void);

#endif
