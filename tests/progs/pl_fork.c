/* pl_fork.c - fork from a multi-threaded program: 4 threads allocate and
 * free in a loop while main forks 20 children; each child mallocs, frees
 * and exit(0)s.  Prints "child PID" per child and "parent PID"; exits 1 if a
 * child did not exit with status 0. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tprog.h"

#define NTHREADS 4
#define NCHILDREN 20

static atomic_int stop;

static void *churn(void *arg)
{
	unsigned seed = (unsigned)(size_t)arg + 1;
	while (!atomic_load(&stop)) {
		seed = seed * 1103515245u + 12345u;
		size_t n = 1 + (seed >> 8) % 8000;
		char *p = malloc(n);
		memset(p, 1, n);
		tp_escape(p);
		free(p);
	}
	return NULL;
}

int main(void)
{
	pthread_t t[NTHREADS];
	pid_t kids[NCHILDREN];
	for (size_t i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, churn, (void *)i);
	fflush(stdout);
	for (int i = 0; i < NCHILDREN; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			char *p = malloc(100 + (size_t)i);
			memset(p, 2, 100 + (size_t)i);
			tp_escape(p);
			free(p);
			exit(0);
		}
		kids[i] = pid;
	}
	int bad = 0;
	for (int i = 0; i < NCHILDREN; i++) {
		int st = -1;
		if (kids[i] < 0 || waitpid(kids[i], &st, 0) != kids[i] ||
		    !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			printf("bad child %d status %d\n", (int)kids[i], st);
			bad = 1;
		}
		printf("child %d\n", (int)kids[i]);
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	printf("parent %d\n", (int)getpid());
	return bad;
}
