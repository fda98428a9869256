/* lc_damage.c - heap damage that the checker finds late (at free or exit),
 * for tests/t_locate.sh: mpcheck --locate must rerun the guilty process
 * with a guard page at the block's allocation site and name the line of
 * the bad access (the ACCESS_* markers).
 *
 *   lc_damage clean            no error
 *   lc_damage over N           writes the byte after an N-byte block
 *   lc_damage under            writes the byte before a 10-byte block
 *   lc_damage wuaf             writes into a freed 10-byte block
 *   lc_damage ruaf             reads a freed 10-byte block (invisible
 *                              without a guard page)
 *   lc_damage flaky FILE       overflows only when FILE does not exist,
 *                              and creates it: a rerun does not reproduce
 *   lc_damage hang FILE        the same, but a rerun hangs instead
 *   lc_damage loop K           K blocks of 10 bytes allocated and freed at
 *                              one site, the last one overflowed
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tprog.h"

/* the one allocation site every mode shares */
TP_NOINLINE static char *make_block(size_t n)
{
	char *p = malloc(tp_size(n)); /* ALLOC_SITE */
	tp_escape(p);
	return p;
}

TP_NOINLINE static void free_block(char *p)
{
	free(p); /* FREE_SITE */
	TP_NO_TAILCALL();
}

TP_NOINLINE static void write_at(char *p, long i)
{
	*(volatile char *)((char *)tp_launder(p) + i) = 'x'; /* ACCESS_WRITE */
}

TP_NOINLINE static int read_at(char *p, long i)
{
	return *(volatile char *)((char *)tp_launder(p) + i); /* ACCESS_READ */
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "clean";
	size_t n = strcmp(mode, "over") == 0 && argc > 2
			   ? (size_t)strtoul(argv[2], NULL, 10) : 10;
	char *p = make_block(n); /* ALLOC_CALL */
	if (!p)
		return 2;
	memset(p, 0, n);
	if (strcmp(mode, "over") == 0) {
		write_at(p, (long)n); /* CALL_OVER */
		TP_NO_TAILCALL();
		free(p);
	} else if (strcmp(mode, "under") == 0) {
		write_at(p, -1); /* CALL_UNDER */
		free(p);
	} else if (strcmp(mode, "wuaf") == 0) {
		free_block(p);
		write_at(p, 3); /* CALL_WUAF */
	} else if (strcmp(mode, "ruaf") == 0) {
		free_block(p);
		printf("%d\n", read_at(p, 3)); /* CALL_RUAF */
	} else if ((strcmp(mode, "flaky") == 0 || strcmp(mode, "hang") == 0) &&
		   argc > 2) {
		int fd = open(argv[2], O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd >= 0) { /* the first run only */
			close(fd);
			write_at(p, (long)n); /* CALL_FLAKY */
		} else if (mode[0] == 'h') {
			for (;;)
				pause();
		}
		free(p);
	} else if (strcmp(mode, "loop") == 0 && argc > 2) {
		long k = strtol(argv[2], NULL, 10);
		free(p);
		for (long i = 0; i < k; i++) {
			char *q = make_block(10); /* LOOP_CALL */
			if (i == k - 1)
				write_at(q, 10); /* CALL_LOOP */
			free(q);
		}
	} else {
		free(p);
	}
	return 0;
}
