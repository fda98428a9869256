/* pl_status.c - prints to stdout and stderr and exits with status 7;
 * with argument "leak" it also leaks a 64-byte block first.  Its output and
 * status must be the same with and without the preload. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tprog.h"

TP_NOINLINE static void leak_one(void)
{
	char *volatile p = malloc(64); /* ALLOC_SITE */
	memset(p, 5, 64);
	p = NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "leak") == 0)
		leak_one();
	for (int i = 1; i <= 3; i++)
		printf("line %d of the program's own output\n", i);
	fprintf(stderr, "a line on stderr\n");
	return 7;
}
