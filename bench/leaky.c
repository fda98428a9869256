/* leaky.c - leak N blocks for the exit-report cost benchmark.
 *
 *   leaky N distinct|shared|none
 *
 * Every block (32 bytes, no pointers inside) is allocated through a chain
 * of LEVELS calls picked from K different functions, and its pointer is
 * dropped, so it is definitely lost.  "distinct" walks a different chain
 * for every block (K^LEVELS = 2,097,152 distinct stacks within the first
 * 10 frames, the default stack_depth); "shared" walks the same chain for
 * all; "none" frees every block at once (same work, no leak).
 *
 * The last thing main does is print CLOCK_MONOTONIC in nanoseconds; the
 * driver subtracts it from the time it reaps the process, which gives the
 * cost of everything after main: destructors, the leak scan, the report.
 * Under libmpwrap, main also calls mp_dump_stats() (found with dlsym, so
 * the program runs under any allocator) before that timestamp: the log
 * then tells the number of stacks and the depot's bytes whatever
 * report_at_exit says.
 * Build with -fno-omit-frame-pointer so the frame-pointer unwinders of the
 * other tools see the same distinct stacks.
 */
#define _GNU_SOURCE
#include "common.h"

#include <dlfcn.h>
#include <string.h>

#define K 8
#define LEVELS 7
#define NOINL __attribute__((noinline, noclone, noipa))
#define BARRIER() __asm__ __volatile__("" ::: "memory")

static int do_free;

NOINL static void leak_one(void)
{
	unsigned char *p = malloc(32);
	if (!p)
		abort();
	memset(p, 0x5a, 32);
	__asm__ __volatile__("" : : "r"(p) : "memory");
	if (do_free)
		free(p);
	BARRIER();
}

typedef void (*step_fn)(int, unsigned);
static step_fn tab[K];

#define STEP(i)                                                        \
	NOINL static void step##i(int d, unsigned c)                   \
	{                                                              \
		if (d == 0)                                            \
			leak_one();                                    \
		else                                                   \
			tab[c % K](d - 1, c / K);                      \
		BARRIER();                                             \
	}
STEP(0) STEP(1) STEP(2) STEP(3) STEP(4) STEP(5) STEP(6) STEP(7)

int main(int argc, char **argv)
{
	long n = arg_long(argc, argv, 1, 10000);
	const char *mode = argc > 2 ? argv[2] : "distinct";
	int distinct = strcmp(mode, "distinct") == 0;
	do_free = strcmp(mode, "none") == 0;
	if (n < 0 || (!distinct && !do_free && strcmp(mode, "shared") != 0)) {
		fprintf(stderr, "usage: leaky N distinct|shared|none\n");
		return 2;
	}
	step_fn t[K] = { step0, step1, step2, step3, step4, step5, step6, step7 };
	memcpy(tab, t, sizeof t);
	double t0 = now_s();
	for (long i = 0; i < n; i++) {
		unsigned c = distinct ? (unsigned)i : 0;
		tab[c % K](LEVELS - 1, c / K);
	}
	report_work(now_s() - t0, (double)n);
	void (*dump_stats)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "mp_dump_stats");
	if (dump_stats)
		dump_stats();
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	printf("BENCH_MAIN_END_NS=%lld\n",
	       (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
	fflush(stdout);
	return 0;
}
