/* rb_reload_lib.c - built twice, as librbfirst.so (RB_NAME first_lib_alloc,
 * 48 bytes) and librbsecond.so (second_lib_alloc, 80 bytes) for
 * rb_reload.c: same code, so the second lands where the first was. */
#include <stdlib.h>

__attribute__((noinline)) void *RB_NAME(void)
{
	void *volatile p = malloc(RB_SIZE);
	return p;
}

void rb_reload_leak(void)
{
	RB_NAME();
	__asm__ volatile("" ::: "memory");
}
