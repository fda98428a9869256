/* pl_leak.c - definite leaks: 123 bytes from make_leak() and 3 x 1000 bytes
 * from make_many(); a 50-byte block freed properly does not count. */
#include <stdlib.h>
#include <string.h>

#include "tprog.h"

TP_NOINLINE static void make_leak(void)
{
	char *volatile p = malloc(123); /* LEAK_ONE */
	memset(p, 1, 123);
	p = NULL;
}

TP_NOINLINE static void make_many(void)
{
	/* a bound the compiler cannot see: no unrolling into 3 call sites */
	for (int i = 0; i < (int)tp_size(3); i++) {
		char *volatile p = malloc(1000); /* LEAK_MANY */
		memset(p, 2, 1000);
		p = NULL;
	}
}

int main(void)
{
	char *q = malloc(50);
	tp_escape(q);
	make_leak();
	make_many();
	free(q);
	return 0;
}
