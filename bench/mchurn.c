/* mchurn.c - malloc-dominated churn: the allocator's own cost, not memory's.
 *
 *   mchurn OPS WINDOW THREADS
 *
 * Each thread replaces blocks of its own WINDOW-slot window at random (LCG):
 * sizes 8..128 bytes, one in eight 8..4096; only the first 64 bytes of a
 * block are written, so the time is the allocator's rather than the cost of
 * touching big blocks (churn.c writes every line).  Same work per thread.
 */
#include "common.h"

#include <pthread.h>
#include <string.h>

static long ops = 2000000, window = 8192;

#define TOUCHED 64 /* bytes written per block */

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
		uint32_t z = lcg(&seed);
		size_t n = (z & 7) == 0 ? 8 + (z >> 3) % 4089 : 8 + (z >> 3) % 121;
		slot[k] = malloc(n);
		if (!slot[k])
			abort();
		memset(slot[k], (int)(i & 0xff), n < TOUCHED ? n : TOUCHED);
	}
	for (long k = 0; k < window; k++)
		free(slot[k]);
	free(slot);
	return (void *)(uintptr_t)sum;
}

int main(int argc, char **argv)
{
	return churn_main(argc, argv, "mchurn", &ops, &window, worker);
}
