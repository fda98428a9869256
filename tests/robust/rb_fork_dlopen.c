/* rb_fork_dlopen.c - one thread loops dlopen/dlclose while main forks N
 * children that allocate and exit: a child forked while the loader's locks
 * were held by the other thread holds them for good, and its exit report
 * needs the loader.  No child may hang (each gets 2 s; glibc alone hangs
 * some of them in its own exit code).  Prints "hung H of N". */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *lib;
static void *loader(void *a)
{
	(void)a;
	for (;;) {
		void *h = dlopen(lib, RTLD_NOW);
		if (h)
			dlclose(h);
	}
	return NULL;
}

/* one child: allocates and exits; 2 s to do so */
static int child_hangs(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		void *volatile p = malloc(10);
		(void)p;
		exit(0);
	}
	for (int k = 0; k < 200; k++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return 0;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	lib = argv[1];
	int n = atoi(argv[2]), hung = 0;
	pthread_t t;
	pthread_create(&t, NULL, loader, NULL);
	for (int i = 0; i < n; i++)
		hung += child_hangs();
	printf("hung %d of %d\n", hung, n);
	fflush(stdout);
	_exit(0); /* the loader thread never ends */
}
