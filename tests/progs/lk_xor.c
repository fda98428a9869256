/* lk_xor.c - a 128-byte block whose only "pointer" is stored XOR-masked in
 * a global: the scan cannot see it, so it is definitely lost. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tprog.h"

#define MASK ((uintptr_t)0xa5a5a5a5a5a5a5a5ULL)

volatile uintptr_t g_masked;

TP_NOINLINE static void hide(void)
{
	char *volatile p = malloc(128); /* XOR_SITE */
	memset(p, 1, 128);
	g_masked = (uintptr_t)p ^ MASK;
	p = NULL;
}

int main(void)
{
	hide();
	/* (no unmasking here: a copy of the pointer in a register or a dead
	 * stack slot at exit would make the block reachable) */
	return 0;
}
