/* pl_dtor.c - five blocks whose only pointers are XOR-masked (so they would
 * be definite leaks) are freed by a destructor, which runs before the
 * preload's exit report: nothing is lost. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tprog.h"

#define MASK ((uintptr_t)0x5a5a5a5a5a5a5a5aULL)
#define N 5

static volatile uintptr_t masked[N];

TP_NOINLINE static void make_blocks(void)
{
	for (int i = 0; i < N; i++) {
		char *p = malloc(100 + (size_t)i); /* ALLOC_SITE */
		memset(p, 1, 100 + (size_t)i);
		masked[i] = (uintptr_t)p ^ MASK;
	}
}

__attribute__((destructor)) static void release_all(void)
{
	for (int i = 0; i < N; i++)
		free((void *)(masked[i] ^ MASK));
	printf("destructor freed %d blocks\n", N);
}

int main(void)
{
	make_blocks();
	return 0;
}
