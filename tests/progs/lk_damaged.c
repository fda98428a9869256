/* lk_damaged.c - a 100-byte block written one byte past its end and then
 * leaked: the exit-time guard check reports the overflow, and the block is
 * still definitely lost (being reported is no reason to be reachable). */
#include <stdlib.h>
#include <string.h>

#include "tprog.h"

TP_NOINLINE static void damage_and_drop(void)
{
	char *volatile p = malloc(100); /* DAMAGED_SITE */
	memset(p, 1, 100);
	((char *)tp_launder(p))[tp_size(100)] = 'X';
	p = NULL;
}

int main(void)
{
	tp_anchor();
	damage_and_drop();
	return 0;
}
