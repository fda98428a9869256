/* st_scan_churn.c - leak checks while other threads churn.
 *
 *   st_scan_churn [CHECKS=20] [THREADS=4] [LEAKS=100]
 *
 * THREADS threads replace blocks of their own 256-slot window at random
 * (the windows hang off a global, so every block they hold is reachable)
 * until told to stop.  The main thread leaks exactly LEAKS blocks of 40
 * bytes, then runs CHECKS mp_leak_check()s while the threads churn: each
 * must find exactly LEAKS definite blocks (40 * LEAKS bytes) and nothing
 * indirect or possible, whatever the other threads hold or are freeing at
 * that moment.  With quarantine_mb=0 their freed slots sit in per-thread
 * caches (thread_cache): free, so never a leak, and a slot being handed out
 * by its cache when the threads are stopped is not live yet.
 */
#include "stress.h"

#include "mempool.h"

#include <pthread.h>
#include <stdatomic.h>

extern long mp_leak_check(struct mp_leak_counts *out) __attribute__((weak));

#define WINDOW 256
#define LEAK_SIZE 40

static unsigned char **windows[64];
static atomic_int stop;
static atomic_long ops;

static void *churn(void *arg)
{
	long id = (long)(uintptr_t)arg;
	uint64_t rng = (uint64_t)id * 0x9e3779b97f4a7c15ull + 7;
	unsigned char **w = windows[id];
	long n = 0;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		size_t k = st_rand(&rng) % WINDOW;
		free(w[k]);
		size_t sz = (size_t)(st_rand(&rng) % 200) + 8;
		w[k] = malloc(sz);
		if (w[k])
			w[k][0] = (unsigned char)n;
		n++;
	}
	atomic_fetch_add(&ops, n);
	return NULL;
}

/* Lost at once: no frame or register of main keeps them. */
static __attribute__((noinline)) void leak(int n)
{
	for (int i = 0; i < n; i++) {
		void *p = malloc(LEAK_SIZE);
		__asm__ volatile("" : : "r"(p) : "memory");
	}
}

static __attribute__((noinline)) void clobber(void)
{
	volatile char buf[4096];
	for (size_t i = 0; i < sizeof buf; i += 64)
		buf[i] = 0;
}

int main(int argc, char **argv)
{
	int checks = (int)st_arg(argc, argv, 1, 20);
	int nthreads = (int)st_arg(argc, argv, 2, 4);
	int leaks = (int)st_arg(argc, argv, 3, 100);
	if (!mp_leak_check) {
		printf("# FAIL not run under libmpwrap.so\n");
		return 2;
	}
	if (nthreads > 64)
		nthreads = 64;
	pthread_t t[64];
	for (int i = 0; i < nthreads; i++) {
		windows[i] = calloc(WINDOW, sizeof *windows[i]);
		if (!windows[i])
			return 3;
	}
	leak(leaks);
	clobber();
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&t[i], NULL, churn, (void *)(uintptr_t)i) != 0)
			return 4;
	int bad = 0;
	for (int c = 0; c < checks; c++) {
		struct timespec ts = { 0, 2000000 }; /* let them churn 2 ms */
		nanosleep(&ts, NULL);
		struct mp_leak_counts k;
		memset(&k, 0, sizeof k);
		if (mp_leak_check(&k) < 0) {
			printf("# FAIL check %d did not run\n", c);
			bad++;
			continue;
		}
		if (k.definite_blocks != (size_t)leaks ||
		    k.definite_bytes != (size_t)leaks * LEAK_SIZE ||
		    k.indirect_blocks || k.possible_blocks) {
			printf("# FAIL check %d: definite %zu blocks %zu bytes, indirect %zu, "
			       "possible %zu (expected %d definite)\n", c, k.definite_blocks,
			       k.definite_bytes, k.indirect_blocks, k.possible_blocks, leaks);
			bad++;
		}
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < nthreads; i++) {
		for (int k = 0; k < WINDOW; k++)
			free(windows[i][k]);
		free(windows[i]);
	}
	printf("# checks=%d threads=%d leaks=%d ops=%ld bad=%d\n", checks, nthreads,
	       leaks, atomic_load(&ops), bad);
	return bad ? 1 : 0;
}
