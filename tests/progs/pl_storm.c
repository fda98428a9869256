/* pl_storm.c - 32 threads x 20000 malloc/free of mixed sizes: no error,
 * nothing lost, every byte pattern intact. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tprog.h"

#define NTHREADS 32
#define ITERS 20000

static void *worker(void *arg)
{
	unsigned seed = (unsigned)(size_t)arg * 2654435761u + 1;
	void *keep[8] = { 0 };
	size_t bad = 0;
	for (int i = 0; i < ITERS; i++) {
		seed = seed * 1103515245u + 12345u;
		size_t n = 1 + (seed >> 8) % 6000;
		unsigned char *p = tp_launder(malloc(n));
		if (!p)
			return (void *)1;
		memset(p, (int)(i & 0xff), n);
		int k = i & 7;
		if (keep[k]) {
			unsigned char *q = keep[k];
			if (q[0] != (unsigned char)((i - 8) & 0xff))
				bad++;
			free(q);
		}
		keep[k] = p;
	}
	for (int k = 0; k < 8; k++)
		free(keep[k]);
	return (void *)bad;
}

int main(void)
{
	pthread_t t[NTHREADS];
	for (size_t i = 0; i < NTHREADS; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)i) != 0) {
			perror("pthread_create");
			return 2;
		}
	size_t bad = 0;
	for (int i = 0; i < NTHREADS; i++) {
		void *r;
		pthread_join(t[i], &r);
		bad += (size_t)r;
	}
	printf("storm done: %d threads x %d, %zu bad\n", NTHREADS, ITERS, bad);
	return bad != 0;
}
