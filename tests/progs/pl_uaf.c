/* pl_uaf.c - use after free: a 200-byte block is written at offset 10 after
 * being freed; then 40 blocks of 64 KiB are freed so that, with
 * quarantine_mb=1, the block leaves quarantine and its poison is checked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tprog.h"

TP_NOINLINE static char *alloc_victim(void)
{
	char *p = malloc(200); /* ALLOC_SITE */
	tp_escape(p);
	return p;
}

TP_NOINLINE static void free_victim(char *p)
{
	free(p); /* FREE_SITE */
	TP_NO_TAILCALL();
}

TP_NOINLINE static void write_after_free(char *p)
{
	p = tp_launder(p);
	p[10] = 'W';
	tp_escape(p);
}

int main(void)
{
	char *p = alloc_victim();
	memset(p, 3, 200);
	free_victim(p);
	write_after_free(p);
	for (int i = 0; i < 40; i++) {
		char *q = malloc(64 * 1024);
		memset(q, 4, 64 * 1024);
		tp_escape(q);
		free(q);
	}
	printf("churned\n");
	return 0;
}
