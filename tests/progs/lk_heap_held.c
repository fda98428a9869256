/* lk_heap_held.c - blocks reachable only through other heap blocks: a
 * global points to A (64 bytes), A to B (5000 bytes, a large block), B to C
 * (96 bytes).  All three still reachable. */
#include <stdlib.h>
#include <string.h>

#include "tprog.h"

struct holder {
	void *next;
	char pad[56];
};

struct holder *volatile g_root;

TP_NOINLINE static void build_chain(void)
{
	struct holder *volatile a = malloc(sizeof(struct holder)); /* SITE_A */
	void **volatile b = malloc(5000);                         /* SITE_B */
	char *volatile c = malloc(96);                            /* SITE_C */
	memset(a->pad, 1, sizeof a->pad);
	memset(b, 0, 5000);
	memset(c, 3, 96);
	b[17] = c; /* an aligned word in the middle of B */
	a->next = b;
	g_root = a;
	a = NULL;
	b = NULL;
	c = NULL;
}

int main(void)
{
	tp_anchor();
	build_chain();
	return 0;
}
