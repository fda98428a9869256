/* testname.h - the test a process belongs to (testname.c). */
#ifndef MP_TESTNAME_H
#define MP_TESTNAME_H

#include "out.h"

/* Find it once per image (the first JSON start marker); a fork child keeps
 * its parent's.  Not thread-safe: called at start, under the report's
 * once-only path. */
void _mp_testname_find(void);
/* ,"test":{...}|null,"ancestors":[...] of the process section */
void _mp_testname_json(struct mp_out *o);

#endif
