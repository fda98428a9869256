/* pl_underflow.c - heap-buffer-underflow: the byte just before an
 * argv[1]-byte block is written, found when the block is freed. */
#include <stdlib.h>
#include <string.h>

#include "tprog.h"

TP_NOINLINE static char *alloc_buffer(size_t n)
{
	char *p = malloc(n); /* ALLOC_SITE */
	tp_escape(p);
	return p;
}

TP_NOINLINE static void write_before_start(char *p)
{
	p = tp_launder(p);
	p[-1] = 'U';
	tp_escape(p);
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 64;
	char *p = alloc_buffer(n);
	memset(p, 'a', n);
	write_before_start(p);
	free(p); /* FREE_SITE */
	return 0;
}
