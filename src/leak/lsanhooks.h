/* lsanhooks.h - the program's own LeakSanitizer hooks (lsanhooks.c). */
#ifndef MP_LSANHOOKS_H
#define MP_LSANHOOKS_H

#include <stddef.h>

struct mp_leak_set;

/* The program's __lsan_is_turned_off() says no leak checking: 1.  Loads
 * the LSan flags first (_mp_lsan_options_load): every leak check asks. */
int _mp_lsan_turned_off(void);

/* Apply the program's __lsan_default_options() and then LSAN_OPTIONS to
 * the LSan flags we share (options.h), once, where MPWRAP_OPTIONS did not
 * set them.  Needs the loader (it looks the hook up); no lock held. */
void _mp_lsan_options_load(void);

/* Drop from ls the lost groups that the program's
 * __lsan_default_suppressions() suppresses (`leak:PATTERN` lines, matched
 * against the function, file and module of each allocation frame, as
 * mpcheck --suppressions does), counting them in ls->supp_*.  No lock
 * may be held (it symbolizes). */
void _mp_lsan_suppress(struct mp_leak_set *ls);

#endif
