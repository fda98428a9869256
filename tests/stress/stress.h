/* stress.h - helpers shared by the stress programs (tests/stress/st_*.c).
 *
 * Every program prints "# key=value ..." lines that tests/t_stress.sh turns
 * into TAP lines, and exits non-zero (after a "# FAIL ..." line) when one of
 * its own checks failed.  Patterns written into blocks are verified before
 * each free or realloc.
 */
#ifndef MPWRAP_STRESS_H
#define MPWRAP_STRESS_H

#define _GNU_SOURCE
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static inline uint64_t st_rand(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static inline double st_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline long st_arg(int argc, char **argv, int i, long def)
{
	return argc > i ? strtol(argv[i], NULL, 0) : def;
}

/* Sizes: mostly small (slab classes), some up to 8 KiB, a few large. */
static inline size_t st_size(uint64_t *s)
{
	uint64_t r = st_rand(s);
	switch (r % 16) {
	case 0:
		return (size_t)(r >> 8) % 8192 + 1;
	case 1:
		return (r >> 8) % 64 == 0 ? (size_t)(r >> 16) % 65536 + 4097 : 0;
	default:
		return (size_t)(r >> 8) % 512 + 1;
	}
}

/* The pattern of a block: its first and last (up to) 16 bytes. */
static inline unsigned char st_pat(uintptr_t seed, size_t i)
{
	return (unsigned char)(seed * 131 + i * 7 + 1);
}

static inline void st_fill(unsigned char *p, size_t n, uintptr_t seed)
{
	size_t head = n < 16 ? n : 16;
	for (size_t i = 0; i < head; i++)
		p[i] = st_pat(seed, i);
	for (size_t i = n > 16 ? (n > 32 ? n - 16 : 16) : n; i < n; i++)
		p[i] = st_pat(seed, i);
}

/* 1 when the first min(n, 16) bytes hold the pattern (what realloc keeps). */
static inline int st_check_head(const unsigned char *p, size_t n, uintptr_t seed)
{
	size_t head = n < 16 ? n : 16;
	for (size_t i = 0; i < head; i++)
		if (p[i] != st_pat(seed, i))
			return 0;
	return 1;
}

static inline int st_check(const unsigned char *p, size_t n, uintptr_t seed)
{
	if (!st_check_head(p, n, seed))
		return 0;
	for (size_t i = n > 16 ? (n > 32 ? n - 16 : 16) : n; i < n; i++)
		if (p[i] != st_pat(seed, i))
			return 0;
	return 1;
}

#endif
