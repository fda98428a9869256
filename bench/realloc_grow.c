/* realloc_grow.c - many buffers grown by realloc, round robin.
 *
 *   realloc_grow NBUF ROUNDS
 *
 * Each round: (a) NBUF buffers grow by doubling from 16 bytes to 64 KiB
 * (crossing every small size class and the 4 KiB small/large boundary);
 * (b) NBUF buffers grow by +16-byte steps from 16 bytes to 6 KiB.  The
 * buffers are grown one step each in turn, so glibc cannot always extend in
 * place, and the new bytes are written every time.
 */
#include "common.h"

#include <string.h>

static void grow_all(unsigned char **buf, size_t *len, long nbuf, size_t limit,
		     int doubling, unsigned long *sum)
{
	for (long i = 0; i < nbuf; i++) {
		len[i] = 16;
		buf[i] = malloc(16);
		if (!buf[i])
			abort();
		memset(buf[i], (int)i, 16);
	}
	for (;;) {
		int grew = 0;
		for (long i = 0; i < nbuf; i++) {
			size_t n = doubling ? len[i] * 2 : len[i] + 16;
			if (n > limit)
				continue;
			unsigned char *q = realloc(buf[i], n);
			if (!q)
				abort();
			*sum += q[len[i] - 1];
			memset(q + len[i], (int)n, n - len[i]);
			buf[i] = q;
			len[i] = n;
			grew = 1;
		}
		if (!grew)
			break;
	}
	for (long i = 0; i < nbuf; i++)
		free(buf[i]);
}

int main(int argc, char **argv)
{
	long nbuf = arg_long(argc, argv, 1, 1000);
	long rounds = arg_long(argc, argv, 2, 4);
	if (nbuf < 1 || rounds < 1) {
		fprintf(stderr, "usage: realloc_grow NBUF ROUNDS\n");
		return 2;
	}
	unsigned char **buf = calloc((size_t)nbuf, sizeof *buf);
	size_t *len = calloc((size_t)nbuf, sizeof *len);
	if (!buf || !len)
		abort();
	unsigned long sum = 0;
	double ops = 0;
	double t0 = now_s();
	for (long r = 0; r < rounds; r++) {
		grow_all(buf, len, nbuf, 65536, 1, &sum);
		grow_all(buf, len, nbuf, 6144, 0, &sum);
		ops += (double)nbuf * (12 + 383);
	}
	report_work(now_s() - t0, ops);
	free(buf);
	free(len);
	return sum == 42 ? 1 : 0;
}
