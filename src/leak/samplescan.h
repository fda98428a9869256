/* samplescan.h - sampled mode's leak check: the live sampled blocks,
 * classified by reachability with the rest of the process (the C
 * library's heap included) as roots. */
#ifndef MP_SAMPLESCAN_H
#define MP_SAMPLESCAN_H

#include "leaks.h"

/* Stop the other threads, scan, group the live sampled blocks by
 * allocation stack and kind (definite, indirect, reachable) into *ls
 * (ls->sample_rate set; _mp_leaks_release frees it).  No lock of the
 * slots or of the C library's may be held.  0, or -1 (no memory). */
int _mp_samplescan_collect(struct mp_leak_set *ls);

#endif
