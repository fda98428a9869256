/* largeset.c - a large live set: allocate N small blocks (16..64 bytes),
 * keep them all, then free them all in allocation order.
 *
 *   largeset N
 */
#include "common.h"

#include <string.h>

int main(int argc, char **argv)
{
	long n = arg_long(argc, argv, 1, 10000000);
	if (n < 1) {
		fprintf(stderr, "usage: largeset N\n");
		return 2;
	}
	void **v = malloc((size_t)n * sizeof *v);
	if (!v)
		abort();
	uint64_t seed = 12345;
	double t0 = now_s();
	for (long i = 0; i < n; i++) {
		size_t sz = 16 + lcg(&seed) % 49;
		unsigned char *p = malloc(sz);
		if (!p)
			abort();
		p[0] = (unsigned char)i;
		p[sz - 1] = (unsigned char)sz;
		v[i] = p;
	}
	unsigned long sum = 0;
	for (long i = 0; i < n; i++) {
		sum += ((unsigned char *)v[i])[0];
		free(v[i]);
	}
	report_work(now_s() - t0, 2.0 * (double)n);
	free(v);
	return sum == 42 ? 1 : 0;
}
