/* pl_overflow.c - heap-buffer-overflow: one byte written just past the end
 * of an argv[1]-byte block (100: slab block, 5000: large block), found when
 * the block is freed.  Prints its pid. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tprog.h"

TP_NOINLINE static char *alloc_buffer(size_t n)
{
	char *p = malloc(n); /* ALLOC_SITE */
	tp_escape(p);
	return p;
}

TP_NOINLINE static void write_past_end(char *p, size_t n)
{
	p = tp_launder(p);
	p[n] = 'X';
	tp_escape(p);
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100;
	char *p = alloc_buffer(n);
	memset(p, 'a', n);
	write_past_end(p, n);
	free(p); /* FREE_SITE */
	printf("pid %d\n", (int)getpid());
	return 0;
}
