/* growth.h - sites whose reachable bytes keep growing (growth.c). */
#ifndef MP_GROWTH_H
#define MP_GROWTH_H

#include "leaks.h"

/* Compare this check's reachable bytes per site with the previous check's
 * and list in ci->grow the sites that grew leak_check_growth checks in a
 * row (largest first; the first check only measures).  One check at a
 * time: call under the scan gate. */
void _mp_growth(const struct mp_leak_set *ls, struct mp_check_info *ci);

/* A forked child: the growth history starts anew. */
void _mp_growth_child(void);

#endif
