/* rb_cancel_lib.c - allocations from freshly loaded code (rb_cancel.c). */
#include <stdlib.h>

static void *volatile keep;

__attribute__((noinline)) static void *deep(int n)
{
	void *p = n ? deep(n - 1) : malloc(100);
	__asm__ volatile("" ::: "memory");
	return p;
}

void rb_alloc_a(void)
{
	free(keep);
	keep = deep(5);
}

void rb_alloc_b(void)
{
	free(keep);
	keep = deep(7);
	free(keep);
	keep = NULL;
}
