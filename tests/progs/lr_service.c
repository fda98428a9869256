/* lr_service.c - a long-running multi-threaded program for t_longrun.sh.
 *
 * Three threads allocate and free all the time (each from its own
 * function with its own size, so each site's reachable bytes are those of
 * N or N+1 blocks, never growing at two checks in a row); the main thread
 * leaks, grows a cache
 * and asks for leak checks:
 *   lr_service signal DIR N   N checks by raising SIGUSR2, each waited for
 *                             in DIR/r.PID.log ("end of leak check #k")
 *   lr_service api N          N checks by mp_leak_check(), counts printed
 *   lr_service timer DIR N    waits for N periodic checks
 *   lr_service serve DIR      prints "ready" and waits to be killed
 *   lr_service own DIR        the same with its own SIGTERM handler (which
 *                             must win), after asking for the old one
 * Before check k the cache grows by one 64-byte block (cache_add); before
 * check 1 a 100-byte block is lost (leak_first), before check 3 a
 * 200-byte one (leak_third).
 */
#define _GNU_SOURCE
#include "mempool.h"
#include "tprog.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern long mp_leak_check(struct mp_leak_counts *out) __attribute__((weak));

#define SLOTS 16
static atomic_int stop, filled;

struct node {
	struct node *next;
	char pad[56];
};
static struct node *cache;

TP_NOINLINE static void cache_add(void)
{
	struct node *n = malloc(sizeof *n);
	n->next = cache;
	cache = n;
	TP_NO_TAILCALL();
}

TP_NOINLINE static void leak_first(void)
{
	tp_escape(malloc(tp_size(100)));
	TP_NO_TAILCALL();
}

TP_NOINLINE static void leak_third(void)
{
	tp_escape(malloc(tp_size(200)));
	TP_NO_TAILCALL();
}

/* new block first, then free the old: a site holds N or N+1 blocks (a
 * large one from churn_a, slots from the others) */
#define CHURN(name)                                                         \
	TP_NOINLINE static void *name(void **slot, size_t n)                \
	{                                                                   \
		void *p = malloc(n);                                        \
		memset(p, 1, n < 64 ? n : 64);                              \
		void *old = *slot;                                          \
		*(void *volatile *)slot = p;                                \
		free(old);                                                  \
		return p;                                                   \
	}
CHURN(churn_a)
CHURN(churn_b)
CHURN(churn_c)

/* One size per site: a site holds 16 or 17 blocks of it, so its
 * reachable bytes never go up at two checks in a row. */
static void *worker(void *arg)
{
	void *(*fn)(void **, size_t) = (void *(*)(void **, size_t))arg;
	size_t size = fn == churn_a ? 5000 : fn == churn_b ? 100 : 1000;
	void *slot[SLOTS] = { 0 };
	unsigned r = 12345;
	for (int i = 0; i < SLOTS; i++) /* full before the first check */
		fn(&slot[i], size);
	atomic_fetch_add(&filled, 1);
	while (!atomic_load(&stop)) {
		r = r * 1103515245 + 12345;
		unsigned i = (r >> 8) % SLOTS;
		fn(&slot[i], size);
	}
	for (int i = 0; i < SLOTS; i++)
		free(slot[i]);
	return NULL;
}

/* Wait until the log says check k ended (the checker thread runs it). */
static void wait_check(const char *dir, int k)
{
	char path[512], want[64], buf[1 << 16];
	snprintf(path, sizeof path, "%s/r.%d.log", dir, (int)getpid());
	snprintf(want, sizeof want, "end of leak check #%d:", k);
	for (int tries = 0; tries < 20000; tries++) { /* 20 s at most */
		int fd = open(path, O_RDONLY);
		if (fd >= 0) {
			ssize_t n, off = 0;
			int found = 0;
			/* the last 64 KiB hold the latest check's end */
			off_t size = lseek(fd, 0, SEEK_END);
			lseek(fd, size > (off_t)sizeof buf - 1 ? size - (off_t)sizeof buf + 1 : 0,
			      SEEK_SET);
			while ((n = read(fd, buf + off, sizeof buf - 1 - (size_t)off)) > 0)
				off += n;
			buf[off] = '\0';
			found = memmem(buf, (size_t)off, want, strlen(want)) != NULL;
			close(fd);
			if (found)
				return;
		}
		struct timespec ms = { 0, 1000000 };
		nanosleep(&ms, NULL);
	}
	fprintf(stderr, "check %d never ended\n", k);
	exit(99);
}

static void own_term(int sig)
{
	(void)sig;
	static const char msg[] = "own handler\n";
	if (write(1, msg, sizeof msg - 1) < 0)
		_exit(8);
	_exit(7);
}

static void *before_check_thread(void *arg)
{
	int k = (int)(intptr_t)arg;
	cache_add();
	if (k == 1)
		leak_first();
	if (k == 3)
		leak_third();
	return NULL;
}

/* On a thread of its own, ended before the check: no live frame of the
 * main thread (stopped anywhere in wait_check) holds a stale copy of a
 * lost pointer, which a conservative scan would rightly take as a root. */
static void before_check(int k)
{
	pthread_t t;
	pthread_create(&t, NULL, before_check_thread, (void *)(intptr_t)k);
	pthread_join(t, NULL);
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	const char *mode = argv[1];
	pthread_t t[3];
	void *(*fns[3])(void **, size_t) = { churn_a, churn_b, churn_c };
	sigset_t term;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, worker, (void *)fns[i]);
	while (atomic_load(&filled) < 3)
		sched_yield();
	/* termination signals go to the workers, mostly inside malloc/free */
	if (strcmp(mode, "serve") == 0)
		pthread_sigmask(SIG_BLOCK, &term, NULL);
	if (strcmp(mode, "own") == 0) {
		struct sigaction sa, old;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = own_term;
		sigaction(SIGTERM, &sa, &old);
		printf("SIGTERM was %s\n", old.sa_handler == SIG_DFL ? "SIG_DFL" : "other");
		void (*prev)(int) = signal(SIGINT, own_term);
		printf("SIGINT was %s\n", prev == SIG_DFL ? "SIG_DFL" : "other");
		mode = "serve";
	}
	if (strcmp(mode, "serve") == 0) {
		before_check(1);
		before_check(2);
		before_check(3);
		printf("ready\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	int n = atoi(argv[argc - 1]);
	for (int k = 1; k <= n; k++) {
		if (strcmp(mode, "timer") != 0)
			before_check(k);
		if (strcmp(mode, "signal") == 0) {
			kill(getpid(), SIGUSR2);
			wait_check(argv[2], k);
		} else if (strcmp(mode, "api") == 0) {
			struct mp_leak_counts c;
			long rc = mp_leak_check ? mp_leak_check(&c) : -2;
			printf("check %lu rc %ld definite %zu/%zu indirect %zu/%zu "
			       "possible %zu/%zu growing %zu classified %d\n",
			       c.check, rc, c.definite_bytes, c.definite_blocks,
			       c.indirect_bytes, c.indirect_blocks, c.possible_bytes,
			       c.possible_blocks, c.growing_sites, c.classified);
		} else if (strcmp(mode, "timer") == 0) {
			wait_check(argv[2], k);
		}
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	return 0;
}
