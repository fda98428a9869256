/* sm_bugs.c - heap bugs for sampled mode (t_sample.sh): each argument
 * names one bug at one site, executed in a loop, so that with
 * sample_rate=N one of the iterations lands on a guarded slot.
 *   sm_bugs KIND [ITERATIONS [SIZE]]
 * KIND: uaf_write, uaf_read, overflow (a write one byte past the block,
 * the block's size SIZE, 100 by default), underflow, double_free,
 * invalid_free, threads, fork, clean (no bug: malloc, realloc, free).
 * A sampled block is told from glibc's by malloc_usable_size (exactly the
 * size asked for, with SIZE not a multiple of 8): the bugs glibc itself
 * would abort on are done on sampled blocks only.  Prints "done" when the
 * loop finished without dying. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <malloc.h>

#include "tprog.h"

static volatile char sink;

__attribute__((noinline)) static char *make_block(size_t n)
{
	return malloc(n);
}

__attribute__((noinline)) static void uaf_write(char *p)
{
	p[8] = 'x'; /* MARK-UAF-WRITE */
}

__attribute__((noinline)) static void uaf_read(char *p)
{
	sink = p[8]; /* MARK-UAF-READ */
}

__attribute__((noinline)) static void overflow_one(char *p, size_t n)
{
	p[n] = 'o'; /* MARK-OVERFLOW */
}

__attribute__((noinline)) static void underflow_one(char *p)
{
	p[-1] = 'u'; /* MARK-UNDERFLOW */
}

__attribute__((noinline)) static void *worker(void *arg)
{
	long iters = (long)(size_t)arg;
	for (long i = 0; i < iters; i++) {
		char *p = make_block(48);
		memset(p, 1, 48);
		char *q = realloc(p, 96);
		free(q);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const char *kind = argc > 1 ? argv[1] : "clean";
	long iters = argc > 2 ? atol(argv[2]) : 20000;
	size_t size = argc > 3 ? (size_t)atol(argv[3]) : 100;
	for (long i = 0; i < iters; i++) {
		char *p = make_block(size);
		memset(p, 0, size);
		if (!strcmp(kind, "uaf_write")) {
			char *alias = tp_launder(p);
			free(p);
			uaf_write(alias);
		} else if (!strcmp(kind, "uaf_read")) {
			char *alias = tp_launder(p);
			free(p);
			uaf_read(alias);
		} else if (!strcmp(kind, "overflow")) {
			overflow_one(p, size);
			free(p);
		} else if (!strcmp(kind, "underflow")) {
			if (malloc_usable_size(p) == size) /* sampled only: glibc's
							    * chunk header is there */
				underflow_one(p);
			free(p);
		} else if (!strcmp(kind, "double_free")) {
			int sampled = malloc_usable_size(p) == size;
			char *alias = tp_launder(p);
			free(p);
			if (sampled) /* glibc's would abort */
				free(alias); /* MARK-DOUBLE-FREE */
		} else if (!strcmp(kind, "invalid_free")) {
			if (malloc_usable_size(p) == size) /* sampled only */
				free(p + 8 * (size > 0)); /* MARK-INVALID-FREE */
			free(p);
		} else if (!strcmp(kind, "threads")) {
			free(p);
			pthread_t t[4];
			for (int k = 0; k < 4; k++)
				pthread_create(&t[k], NULL, worker, (void *)(size_t)(iters / 4 + 1));
			for (int k = 0; k < 4; k++)
				pthread_join(t[k], NULL);
			break;
		} else if (!strcmp(kind, "fork")) {
			free(p);
			pid_t c = fork();
			if (c == 0) {
				worker((void *)(size_t)iters);
				char *b = make_block(size);
				char *alias = tp_launder(b);
				free(b);
				uaf_write(alias); /* the child's own bug */
				_exit(0);
			}
			int st;
			waitpid(c, &st, 0);
			worker((void *)(size_t)iters);
			printf("child %s %d\n", WIFSIGNALED(st) ? "signal" : "exit",
			       WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
			break;
		} else {
			char *q = realloc(p, size * 2);
			q[size * 2 - 1] = 1;
			if (!(i & 1))
				q = realloc(q, size / 2 + 1);
			free(q);
		}
	}
	printf("done\n");
	return 0;
}
