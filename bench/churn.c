/* churn.c - malloc/free churn of mixed sizes with a window of live blocks.
 *
 *   churn OPS WINDOW THREADS
 *
 * Each thread does OPS operations on its own window of WINDOW slots: pick a
 * slot with an LCG, free what it holds, allocate 8..4096 bytes and touch
 * the block.  Every thread does the same work, so throughput scaling with
 * THREADS can be read directly.  All blocks are freed at the end.
 */
#include "common.h"

#include <pthread.h>
#include <string.h>

static long ops = 2000000, window = 10000;

static void *worker(void *arg)
{
	uint64_t seed = 0x9e3779b97f4a7c15ULL * ((uintptr_t)arg + 1);
	unsigned char **slot = calloc((size_t)window, sizeof *slot);
	if (!slot)
		abort();
	unsigned long sum = 0;
	for (long i = 0; i < ops; i++) {
		uint32_t r = lcg(&seed);
		size_t k = r % (size_t)window;
		if (slot[k]) {
			sum += slot[k][0];
			free(slot[k]);
		}
		size_t n = 8 + lcg(&seed) % 4089;
		slot[k] = malloc(n);
		if (!slot[k])
			abort();
		touch(slot[k], n, (unsigned char)i);
	}
	for (long k = 0; k < window; k++)
		free(slot[k]);
	free(slot);
	return (void *)(uintptr_t)sum;
}

int main(int argc, char **argv)
{
	return churn_main(argc, argv, "churn", &ops, &window, worker);
}
