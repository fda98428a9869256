/* scopecost.c - what a scope costs (README, "Leak checks per test"):
 * N live reachable blocks, then, REPS times, a full leak check
 * (mp_leak_check) against a scope (mp_scope_begin, LEAK lost blocks,
 * mp_scope_end) on the same heap, interleaved, each timed.
 *
 *   cc -O1 -g -Iinclude bench/scopecost.c -o scopecost
 *   LD_PRELOAD=./libmpwrap.so MPWRAP_OPTIONS=log_path=/dev/null \
 *       ./scopecost [N=1000000] [LEAK=10] [REPS=7]
 */
#include <mempool.h>
#include <mpwrap/scope.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#pragma weak mp_leak_check /* runs (and does nothing) without the preload */

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void **keep; /* a root: every block reachable */

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	int leak = argc > 2 ? atoi(argv[2]) : 10;
	int reps = argc > 3 ? atoi(argv[3]) : 7;
	if (!mp_leak_check || !mp_scope_begin) {
		fprintf(stderr, "scopecost: run it under LD_PRELOAD=libmpwrap.so\n");
		return 2;
	}
	keep = malloc((size_t)n * sizeof *keep);
	for (long i = 0; i < n; i++)
		keep[i] = malloc(32);
	for (int r = 0; r < reps; r++) {
		double t0 = now();
		mp_leak_check(NULL);
		double t1 = now();
		mp_scope_begin("scopecost");
		double t2 = now();
		for (int i = 0; i < leak; i++) {
			volatile char *p = malloc(40);
			p[0] = 1;
		}
		long lost = mp_scope_end();
		double t3 = now();
		printf("full %.1f ms  scope_begin %.1f ms  scope_end %.1f ms (lost %ld)\n",
		       (t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3, lost);
	}
	return 0;
}
