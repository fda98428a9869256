/* lk_interior.c - blocks whose only pointers point into their interior:
 * a 64-byte block through a global at p + 8, a 5000-byte block through a
 * global at q + 100.  Both are possibly lost. */
#include <stdlib.h>
#include <string.h>

#include "tprog.h"

char *volatile g_inner_small;
char *volatile g_inner_large;

TP_NOINLINE static void hold_small(void)
{
	char *volatile p = malloc(64); /* SMALL_SITE */
	memset(p, 1, 64);
	g_inner_small = p + 8;
	p = NULL;
}

TP_NOINLINE static void hold_large(void)
{
	char *volatile q = malloc(5000); /* LARGE_SITE */
	memset(q, 1, 5000);
	g_inner_large = q + 100;
	q = NULL;
}

int main(void)
{
	hold_small();
	hold_large();
	return 0;
}
