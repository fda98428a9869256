/* lk_global.c - a 200-byte block held by a global pointer: still reachable,
 * not a leak; listed only with show_reachable=1. */
#include <stdlib.h>
#include <string.h>

#include "tprog.h"

void *volatile g_keep;

TP_NOINLINE static void hold_global(void)
{
	char *volatile p = malloc(200); /* GLOBAL_SITE */
	memset(p, 1, 200);
	g_keep = p;
	p = NULL;
}

int main(void)
{
	tp_anchor();
	hold_global();
	return 0;
}
