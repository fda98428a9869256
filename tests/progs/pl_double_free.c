/* pl_double_free.c - a 48-byte block freed in first_free(), then again in
 * second_free(). */
#include <stdlib.h>
#include <string.h>

#include "tprog.h"

TP_NOINLINE static char *alloc_obj(void)
{
	char *p = malloc(48); /* ALLOC_SITE */
	tp_escape(p);
	return p;
}

TP_NOINLINE static void first_free(char *p)
{
	free(p); /* FIRST_FREE */
	TP_NO_TAILCALL();
}

TP_NOINLINE static void second_free(char *p)
{
	free(p); /* SECOND_FREE */
	TP_NO_TAILCALL();
}

int main(void)
{
	char *p = alloc_obj();
	memset(p, 1, 48);
	first_free(p);
	second_free(tp_launder(p));
	return 0;
}
