/* common.h - shared helpers of the mpwrap benchmark workloads. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

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

#endif
