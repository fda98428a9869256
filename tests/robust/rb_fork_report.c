/* rb_fork_report.c - one thread writes error reports (each symbolizes its
 * stacks) while another forks: neither the parent nor a child may hang.
 * Children exit at once (each writes its own report).  Prints "forked N". */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static atomic_int stop;

static void *reporter(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		char *volatile p = malloc(24);
		free(p);
		free(p); /* a double free: one error report */
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int forks = argc > 1 ? atoi(argv[1]) : 20;
	pthread_t t;
	pthread_create(&t, NULL, reporter, NULL);
	int n = 0;
	for (int i = 0; i < forks; i++) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		if (pid > 0 && waitpid(pid, NULL, 0) == pid)
			n++;
	}
	atomic_store(&stop, 1);
	pthread_join(t, NULL);
	printf("forked %d\n", n);
	return 0;
}
