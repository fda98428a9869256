/* pl_libc_alias.c - glibc's exported __libc_* allocation entry points mixed
 * with the standard ones: a block from __libc_malloc freed by free(), one
 * from malloc freed by __libc_free, and so on, all clean; then 77 bytes from
 * __libc_memalign lost in lose_aligned(), a definite leak. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tprog.h"

extern void *__libc_malloc(size_t);
extern void __libc_free(void *);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_valloc(size_t);
extern void *__libc_pvalloc(size_t);

TP_NOINLINE static void lose_aligned(void)
{
	char *volatile p = __libc_memalign(64, 77); /* ALIAS_LEAK */
	memset(p, 3, 77);
	p = NULL;
}

int main(void)
{
	char *a = __libc_malloc(40);
	a = realloc(a, 80);
	free(a);
	char *b = malloc(24);
	b = __libc_realloc(b, 300);
	__libc_free(b);
	char *c = __libc_calloc(3, 7);
	if (c[20] != 0)
		return 2;
	free(c);
	free(__libc_valloc(10));
	__libc_free(__libc_pvalloc(10));
	void *d = __libc_memalign(256, 100);
	if ((uintptr_t)d % 256)
		return 3;
	free(d);
	lose_aligned();
	return 0;
}
