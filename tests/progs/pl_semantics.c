/* pl_semantics.c - glibc malloc-family semantics that must survive the
 * preload: realloc(NULL, n), realloc(p, 0), realloc keeping data, calloc
 * overflow, huge requests, errno kept by successful calls.  Prints
 * "ok NAME" or "FAIL NAME: why" per check; exits with the failure count. */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tprog.h"

static int fails;

static void check(const char *name, int ok, const char *why)
{
	if (ok) {
		printf("ok %s\n", name);
	} else {
		printf("FAIL %s: %s\n", name, why);
		fails++;
	}
}

static int all(const unsigned char *p, size_t n, unsigned char v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

int main(void)
{
	/* errno is left alone by calls that succeed */
	int keep_ok = 1;
	static const size_t sizes[] = { 0, 1, 100, 4096, 5000, 100000 };
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		errno = EDOM;
		void *p = tp_launder(malloc(tp_size(sizes[k])));
		keep_ok &= p != NULL && errno == EDOM;
		void *q = tp_launder(calloc(1, tp_size(sizes[k])));
		keep_ok &= q != NULL && errno == EDOM;
		p = tp_launder(realloc(p, tp_size(sizes[k] + 10)));
		keep_ok &= p != NULL && errno == EDOM;
		free(p);
		free(q);
		free(NULL);
		keep_ok &= errno == EDOM;
	}
	check("errno_kept", keep_ok, "a successful call changed errno");

	/* malloc(0): a unique, freeable pointer */
	void *z1 = tp_launder(malloc(tp_size(0)));
	void *z2 = tp_launder(malloc(tp_size(0)));
	check("malloc_zero", z1 && z2 && z1 != z2, "not two distinct pointers");
	free(z1);
	free(z2);

	/* realloc(NULL, n) allocates */
	unsigned char *r = tp_launder(realloc(NULL, tp_size(50)));
	int ok = r != NULL && malloc_usable_size(r) >= 50;
	if (r)
		memset(r, 7, 50);
	check("realloc_null", ok, "realloc(NULL, 50) gave no usable block");

	/* realloc(p, 0) frees p and returns NULL (glibc) */
	errno = 0;
	void *r0 = tp_launder(realloc(r, tp_size(0)));
	check("realloc_zero", r0 == NULL, "realloc(p, 0) returned a pointer");
	free(r0);

	/* growing and shrinking keep the data */
	unsigned char *g = tp_launder(malloc(100));
	for (int i = 0; i < 100; i++)
		g[i] = (unsigned char)i;
	g = tp_launder(realloc(g, tp_size(10000)));
	ok = g != NULL;
	for (int i = 0; ok && i < 100; i++)
		ok = g[i] == (unsigned char)i;
	check("realloc_grow", ok, "data lost growing 100 -> 10000");
	if (g)
		memset(g + 100, 9, 9900);
	g = tp_launder(realloc(g, tp_size(20)));
	ok = g != NULL;
	for (int i = 0; ok && i < 20; i++)
		ok = g[i] == (unsigned char)i;
	check("realloc_shrink", ok, "data lost shrinking 10000 -> 20");

	/* a failed realloc leaves the block alone */
	errno = 0;
	void *big = tp_launder(realloc(tp_launder(g), tp_size(SIZE_MAX / 2)));
	ok = big == NULL && errno == ENOMEM;
	for (int i = 0; ok && i < 20; i++)
		ok = g[i] == (unsigned char)i;
	check("realloc_huge", ok, "realloc(p, SIZE_MAX/2) not NULL+ENOMEM "
	      "with p intact");
	free(g);

	/* calloc: zeroed; overflow is NULL + ENOMEM */
	unsigned char *c = tp_launder(calloc(100, tp_size(50)));
	check("calloc_zeroed", c && all(c, 5000, 0), "not zeroed");
	free(c);
	errno = 0;
	void *co = tp_launder(calloc(tp_size(SIZE_MAX / 2 + 2), 2));
	check("calloc_overflow", co == NULL && errno == ENOMEM,
	      "calloc(SIZE_MAX/2+2, 2) not NULL+ENOMEM");
	errno = 0;
	co = tp_launder(calloc(tp_size((size_t)1 << 40), tp_size((size_t)1 << 40)));
	check("calloc_overflow2", co == NULL && errno == ENOMEM,
	      "calloc(2^40, 2^40) not NULL+ENOMEM");

	/* huge malloc: NULL + ENOMEM, no abort */
	errno = 0;
	void *h = tp_launder(malloc(tp_size(SIZE_MAX - 4096)));
	check("malloc_huge", h == NULL && errno == ENOMEM,
	      "malloc(SIZE_MAX-4096) not NULL+ENOMEM");
	errno = 0;
	h = tp_launder(malloc(tp_size((size_t)1 << 60)));
	check("malloc_2e60", h == NULL && errno == ENOMEM,
	      "malloc(2^60) not NULL+ENOMEM");
	errno = 0;
	h = tp_launder(reallocarray(NULL, tp_size(SIZE_MAX / 4), 8));
	check("reallocarray_overflow", h == NULL && errno == ENOMEM,
	      "reallocarray overflow not NULL+ENOMEM");

	printf("semantics: %d failures\n", fails);
	return fails;
}
