/* lsan.h - LeakSanitizer's interface in libmpwrap.so: what the leak scan
 * and the reports need of it (root regions, the program's hooks). */
#ifndef MP_LSAN_H
#define MP_LSAN_H

#include <stddef.h>

#include "threads.h"

struct mp_leak_set;

/* Copy the registered root regions (__lsan_register_root_region) into
 * out[max]; returns how many. */
size_t _mp_lsan_root_regions(struct mp_range *out, size_t max);

/* The program's __lsan_is_turned_off() says no leak checking: 1. */
int _mp_lsan_turned_off(void);

/* Drop from ls the lost groups that the program's
 * __lsan_default_suppressions() suppresses (`leak:PATTERN` lines, matched
 * against the function, file and module of each allocation frame, as
 * mpcheck --suppressions does), counting them in ls->supp_*.  No lock
 * may be held (it symbolizes). */
void _mp_lsan_suppress(struct mp_leak_set *ls);

#endif
