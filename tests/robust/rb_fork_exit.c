/* rb_fork_exit.c - main returns and prints a long leak report (many
 * distinct stacks to symbolize) while another thread keeps forking; the
 * children exit at once.  Nothing may hang.  The leaks are deliberate. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void *forker(void *arg)
{
	(void)arg;
	for (;;) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
	return NULL;
}

/* a distinct allocation stack for each depth */
__attribute__((noinline)) static void leak_at(int depth)
{
	if (depth > 0) {
		leak_at(depth - 1);
		__asm__ volatile("" ::: "memory");
		return;
	}
	void *volatile p = malloc(32);
	(void)p;
}

int main(void)
{
	for (int d = 0; d < 60; d++)
		leak_at(d);
	pthread_t t;
	pthread_create(&t, NULL, forker, NULL);
	usleep(20000);
	return 0;
}
