/* lk_cycle.c - two 48-byte blocks pointing at each other and at nothing
 * else, unreachable: one definitely lost, the other indirectly. */
#include <stdlib.h>
#include <string.h>

#include "tprog.h"

struct pair {
	struct pair *other;
	char pad[40];
};

TP_NOINLINE static void make_cycle(void)
{
	struct pair *volatile a = malloc(sizeof(struct pair)); /* CYCLE_A */
	struct pair *volatile b = malloc(sizeof(struct pair)); /* CYCLE_B */
	memset(a->pad, 1, sizeof a->pad);
	memset(b->pad, 2, sizeof b->pad);
	a->other = b;
	b->other = a;
	a = NULL;
	b = NULL;
}

int main(void)
{
	make_cycle();
	return 0;
}
