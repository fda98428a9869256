/* lk_solib_lib.c - liblkkeep.so: keeps a block in a static local. */
#include <stdlib.h>
#include <string.h>

#include "tprog.h"

TP_NOINLINE void lib_keep(size_t n)
{
	static void *volatile keep;
	if (!keep) {
		char *volatile p = malloc(n); /* LIB_SITE */
		memset(p, 1, n);
		keep = p;
		p = NULL;
	}
}
