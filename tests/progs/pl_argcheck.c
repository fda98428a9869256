/* pl_argcheck.c - bad arguments to the malloc family, one mode per kind
 * (argv[1]); every call must still return exactly what glibc's does, with
 * the same errno, and the program goes on.  Prints "ok NAME" or
 * "FAIL NAME ..." per call; each call is made from its own line marker.
 *   alignment   posix_memalign 24 and 4, aligned_alloc 3, memalign 48
 *   toobig      malloc, calloc, realloc, posix_memalign of "negative" sizes
 *   limit       malloc(2000000) under max_allocation_size=1000000
 *   overflow    calloc and reallocarray whose nmemb * size overflows
 *   realloc0    realloc(p, 0) of a 40-byte block (reported unless
 *               realloc_size_zero=0)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <gnu/libc-version.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tprog.h"

static int fails;

static void check(const char *name, int ok, const char *what)
{
	if (ok) {
		printf("ok %s\n", name);
	} else {
		printf("FAIL %s: %s\n", name, what);
		fails++;
	}
}

TP_NOINLINE static void alignment(void)
{
	void *p = (void *)1;
	errno = 0;
	int rc = posix_memalign(&p, tp_size(24), 100); /* PM_24 */
	check("posix_memalign_24", rc == EINVAL && errno == 0 && p == (void *)1,
	      "not EINVAL, errno and *out untouched");
	rc = posix_memalign(&p, tp_size(4), 100); /* PM_4 */
	check("posix_memalign_4", rc == EINVAL && errno == 0, "not EINVAL");
	p = aligned_alloc(tp_size(3), 100); /* AA_3 */
	/* glibc before 2.38 rounds 3 up (memalign) and returns memory; 2.38
	 * and later fail with EINVAL: the checker answers as the running one */
	if (strverscmp(gnu_get_libc_version(), "2.38") < 0) {
		check("aligned_alloc_3", p && ((uintptr_t)p & 3) == 0,
		      "glibc < 2.38 rounds 3 up and succeeds");
		free(p);
	} else {
		check("aligned_alloc_3", p == NULL && errno == EINVAL,
		      "not NULL+EINVAL");
	}
	errno = 0;
	p = memalign(tp_size(48), 100); /* MA_48 */
	check("memalign_48", p && ((uintptr_t)p & 63) == 0 && errno == 0,
	      "glibc rounds 48 up to 64 and succeeds");
	free(p);
}

TP_NOINLINE static void toobig(void)
{
	errno = 0;
	void *p = malloc(tp_size(SIZE_MAX - 4095)); /* TB_MALLOC */
	check("malloc_negative", p == NULL && errno == ENOMEM, "not NULL+ENOMEM");
	errno = 0;
	p = calloc(1, tp_size(SIZE_MAX)); /* TB_CALLOC */
	check("calloc_negative", p == NULL && errno == ENOMEM, "not NULL+ENOMEM");
	char *q = malloc(10);
	strcpy(q, "keep");
	errno = 0;
	p = realloc(tp_launder(q), tp_size((size_t)-1)); /* TB_REALLOC */
	check("realloc_negative", p == NULL && errno == ENOMEM && !strcmp(q, "keep"),
	      "not NULL+ENOMEM with the block intact");
	free(q);
	errno = 0;
	int rc = posix_memalign(&p, 64, tp_size((size_t)1 << 63)); /* TB_PM */
	check("posix_memalign_negative", rc == ENOMEM && errno == 0,
	      "not ENOMEM with errno untouched");
}

TP_NOINLINE static void limit(void)
{
	errno = 0;
	void *p = malloc(tp_size(2000000)); /* LIMIT */
	check("malloc_over_limit", p == NULL && errno == ENOMEM, "not NULL+ENOMEM");
	p = malloc(tp_size(1000000));
	check("malloc_at_limit", p != NULL, "the limit itself failed");
	free(p);
}

TP_NOINLINE static void overflow(void)
{
	errno = 0;
	void *p = calloc(tp_size(SIZE_MAX / 2 + 2), 2); /* OV_CALLOC */
	check("calloc_overflow", p == NULL && errno == ENOMEM, "not NULL+ENOMEM");
	errno = 0;
	p = reallocarray(NULL, tp_size(SIZE_MAX / 4), 8); /* OV_REALLOCARRAY */
	check("reallocarray_overflow", p == NULL && errno == ENOMEM,
	      "not NULL+ENOMEM");
}

TP_NOINLINE static char *alloc40(void)
{
	return tp_launder(malloc(40)); /* R0_ALLOC */
}

TP_NOINLINE static void realloc0(void)
{
	char *p = alloc40();
	errno = 0;
	void *q = realloc(p, tp_size(0)); /* R0_CALL */
	check("realloc_zero", q == NULL && errno == 0, "not NULL with errno kept");
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";
	if (!strcmp(m, "alignment"))
		alignment();
	else if (!strcmp(m, "toobig"))
		toobig();
	else if (!strcmp(m, "limit"))
		limit();
	else if (!strcmp(m, "overflow"))
		overflow();
	else if (!strcmp(m, "realloc0"))
		realloc0();
	printf("%d failures\n", fails);
	return fails;
}
