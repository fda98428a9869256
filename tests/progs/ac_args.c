/* ac_args.c - the argument checks memcheck 3.22 added (and calloc's fishy
 * size, which memcheck has had long), one case per run (argv[1]).  Every
 * call returns what glibc's does, with its errno: the program prints the
 * outcome ("ok" lines), never changed by the checker.
 *   aa_mult     aligned_alloc(64, 100): size not a multiple of the alignment
 *   zero        posix_memalign(&p, 64, 0), memalign(256, 0), aligned_alloc(64, 0)
 *   realloc0    realloc(p, 0)
 *   calloc_neg  calloc(0, -1): a "negative" size, product 0 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tprog.h"

int main(int argc, char **argv)
{
	const char *c = argc > 1 ? argv[1] : "";
	void *p = NULL;
	errno = 0;
	if (!strcmp(c, "aa_mult")) {
		p = aligned_alloc(tp_size(64), tp_size(100)); /* AA_MULT */
		printf("ok %d %d\n", p != NULL && (uintptr_t)p % 64 == 0, errno);
		free(p);
	} else if (!strcmp(c, "zero")) {
		int rc = posix_memalign(&p, tp_size(64), tp_size(0)); /* Z_PM */
		printf("ok pm %d %d %d\n", rc, p != NULL, errno);
		free(p);
		p = memalign(tp_size(256), tp_size(0)); /* Z_MA */
		printf("ok ma %d %d\n", p != NULL, errno);
		free(p);
		p = aligned_alloc(tp_size(64), tp_size(0)); /* Z_AA */
		printf("ok aa %d %d\n", p != NULL, errno);
		free(p);
	} else if (!strcmp(c, "realloc0")) {
		p = malloc(40); /* R0_ALLOC */
		tp_escape(p);
		void *q = realloc(p, tp_size(0)); /* R0_CALL */
		printf("ok %d %d\n", q != NULL, errno);
		free(q);
	} else if (!strcmp(c, "calloc_neg")) {
		p = calloc(tp_size(0), tp_size((size_t)-1)); /* CN_CALL */
		printf("ok %d %d\n", p != NULL, errno);
		free(p);
	} else {
		return 2;
	}
	return 0;
}
