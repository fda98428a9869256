/* pl_dlib.c - the shared library pl_dlopen.c loads, leaks from and unloads. */
#include <stdlib.h>
#include <string.h>

#include "tprog.h"

TP_NOINLINE void *dl_leaky_alloc(size_t n)
{
	void *p = malloc(n); /* ALLOC_SITE */
	memset(p, 6, n);
	tp_escape(p);
	return p;
}
