/* pl_invalid_free.c - free() of something that is not a block start:
 *   stack           the address of a local variable
 *   interior        8 bytes into a 64-byte block
 *   interior_large  24 bytes into a 5000-byte block
 * The real block is freed properly afterwards: nothing leaks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tprog.h"

TP_NOINLINE static char *alloc_block(size_t n)
{
	char *p = malloc(n); /* ALLOC_SITE */
	tp_escape(p);
	return p;
}

TP_NOINLINE static void bad_free(void *p)
{
	free(tp_launder(p)); /* BAD_FREE */
	TP_NO_TAILCALL();
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "stack";
	if (strcmp(mode, "stack") == 0) {
		char local[32];
		memset(local, 0, sizeof local);
		tp_escape(local);
		bad_free(local);
		printf("stack %p\n", (void *)local);
	} else {
		size_t n = strcmp(mode, "interior") == 0 ? 64 : 5000;
		size_t off = n == 64 ? 8 : 24;
		char *p = alloc_block(n);
		memset(p, 2, n);
		bad_free(p + off);
		free(p);
	}
	return 0;
}
