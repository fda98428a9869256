/* common.h - shared helpers of the mpwrap benchmark workloads. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Numerical Recipes LCG: cheap, deterministic, per thread. */
static inline uint32_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(*s >> 33);
}

static inline double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Write one byte per 64-byte line (and the last byte) so every page of the
 * block is really used. */
static inline void touch(unsigned char *p, size_t n, unsigned char v)
{
	for (size_t i = 0; i < n; i += 64)
		p[i] = v;
	p[n - 1] = v;
}

static inline long arg_long(int argc, char **argv, int i, long def)
{
	return argc > i ? strtol(argv[i], NULL, 10) : def;
}

/* The driver reads this line from stdout: seconds spent in the measured
 * phase (start-up and exit excluded). */
static inline void report_work(double seconds, double ops)
{
	printf("BENCH_WORK_S=%.6f BENCH_OPS=%.0f\n", seconds, ops);
	fflush(stdout);
}

/* The churn programs' main: OPS WINDOW THREADS from argv (ops and window
 * hold their defaults), worker run by each thread (the main thread
 * itself when there is one), then the work rate. */
static inline int churn_main(int argc, char **argv, const char *name,
			     long *ops, long *window, void *(*worker)(void *))
{
	*ops = arg_long(argc, argv, 1, *ops);
	*window = arg_long(argc, argv, 2, *window);
	long nthreads = arg_long(argc, argv, 3, 1);
	if (*ops < 1 || *window < 1 || nthreads < 1 || nthreads > 256) {
		fprintf(stderr, "usage: %s OPS WINDOW THREADS\n", name);
		return 2;
	}
	pthread_t tid[256];
	double t0 = now_s();
	if (nthreads == 1) {
		worker(NULL);
	} else {
		for (long t = 0; t < nthreads; t++)
			if (pthread_create(&tid[t], NULL, worker, (void *)t) != 0)
				abort();
		for (long t = 0; t < nthreads; t++)
			pthread_join(tid[t], NULL);
	}
	report_work(now_s() - t0, (double)*ops * (double)nthreads);
	return 0;
}

#endif
