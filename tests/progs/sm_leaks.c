/* sm_leaks.c - leaks for sampled mode (t_sample.sh), run with
 * sample_rate=1 so that every block of at most a page is sampled and the
 * report is exact:
 *   sm_leaks leak      3 blocks of 100 bytes lost from leak_site, and a
 *                      48-byte block from chain_head holding the only
 *                      pointer to a 24-byte one from chain_tail (definite
 *                      and indirect); 5 blocks of 40 bytes kept in a global
 *   sm_leaks heapref   blocks from kept_in_heap whose only pointers are in
 *                      glibc blocks too large to be sampled: one in the main
 *                      heap (64 KiB, [heap]), one mmap'd (1 MiB): reachable
 *   sm_leaks threads   4 threads, each loses one 100-byte block from
 *                      leak_site and keeps one in a global slot
 *   sm_leaks check     the leak, then an on-demand check (mp_leak_check,
 *                      found with dlsym), then the program goes on
 *   sm_leaks dump      the leak, then mp_dump_leaks (the live sampled
 *                      blocks by stack), printing its count
 *   sm_leaks term      the leak, then SIGTERM to itself
 *   sm_leaks fork      the leak, then a child that loses one 100-byte
 *                      block from child_site and exits; the parent waits
 *   sm_leaks clean     nothing lost
 * Prints "done" at the end. */
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tprog.h"

static void *kept[16];
static void **big_heap, **big_mmap;

TP_NOINLINE static void leak_site(void)
{
	char *p = malloc(100); /* MARK-LEAK */
	memset(p, 1, 100);
	tp_escape(p);
}

TP_NOINLINE static void *chain_tail(void)
{
	void *p = malloc(24);
	memset(p, 2, 24);
	return p;
}

TP_NOINLINE static void chain_head(void)
{
	void **h = malloc(48);
	memset(h, 0, 48);
	h[0] = chain_tail();
	tp_escape(h);
}

TP_NOINLINE static void child_site(void)
{
	char *p = malloc(100);
	memset(p, 5, 100);
	tp_escape(p);
}

TP_NOINLINE static void *kept_site(void)
{
	void *p = malloc(40);
	memset(p, 3, 40);
	return p;
}

TP_NOINLINE static void *kept_in_heap(void)
{
	void *p = malloc(32);
	memset(p, 4, 32);
	return p;
}

TP_NOINLINE static void lose_all(void)
{
	for (int i = 0; i < 3; i++)
		leak_site();
	chain_head();
	for (int i = 0; i < 5; i++)
		kept[i] = kept_site();
}

/* the only pointers to the blocks are in glibc's unsampled heap */
TP_NOINLINE static void hide_in_heap(void)
{
	big_heap = malloc(64 << 10);
	big_mmap = malloc(1 << 20);
	memset(big_heap, 0, 64 << 10);
	memset(big_mmap, 0, 1 << 20);
	big_heap[100] = kept_in_heap();
	big_heap[101] = kept_in_heap();
	big_mmap[5000] = kept_in_heap();
}

TP_NOINLINE static void *thread_main(void *arg)
{
	size_t k = (size_t)arg;
	free(malloc(8)); /* a thread's first allocation is never sampled */
	leak_site();
	kept[8 + k] = kept_site();
	return NULL;
}

int main(int argc, char **argv)
{
	const char *kind = argc > 1 ? argv[1] : "clean";
	if (!strcmp(kind, "leak") || !strcmp(kind, "check") || !strcmp(kind, "term") ||
	    !strcmp(kind, "dump")) {
		lose_all();
	} else if (!strcmp(kind, "fork")) {
		lose_all();
		fflush(stdout);
		pid_t c = fork();
		if (c == 0) {
			child_site();
			exit(0);
		}
		waitpid(c, NULL, 0);
	} else if (!strcmp(kind, "heapref")) {
		hide_in_heap();
	} else if (!strcmp(kind, "threads")) {
		pthread_t t[4];
		for (size_t k = 0; k < 4; k++)
			pthread_create(&t[k], NULL, thread_main, (void *)k);
		for (int k = 0; k < 4; k++)
			pthread_join(t[k], NULL);
	} else {
		void *p = kept_site();
		free(p);
	}
	if (!strcmp(kind, "check")) {
		long (*check)(void *) = (long (*)(void *))dlsym(RTLD_DEFAULT,
								"mp_leak_check");
		printf("check %ld\n", check ? check(NULL) : -2L);
	}
	if (!strcmp(kind, "dump")) {
		size_t (*dump)(void) = (size_t (*)(void))dlsym(RTLD_DEFAULT,
							       "mp_dump_leaks");
		printf("dump %zu\n", dump ? dump() : (size_t)-1);
	}
	if (!strcmp(kind, "term")) {
		fflush(stdout);
		kill(getpid(), SIGTERM);
	}
	printf("done\n");
	return 0;
}
