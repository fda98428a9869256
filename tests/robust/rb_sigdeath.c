/* rb_sigdeath.c - death by a signal at its default action, other than a
 * fault: SIGPIPE, SIGALRM, SIGUSR1, real-time signals...  Each must write
 * the report as SIGTERM does (issue 24 item 9: they wrote none).
 *   rb_sigdeath raise N     leaks 40 bytes in leaky_site, then raise(N)
 *   rb_sigdeath pipe        leaks, then writes "y\n" to stdout until the
 *                           reader goes (`| head -1`: SIGPIPE)
 *   rb_sigdeath own N       its own handler for N: prints "handled N", 0
 *   rb_sigdeath later N     signal(N, handler) then signal(N, SIG_DFL):
 *                           the default again, so a report
 *   rb_sigdeath ignore      SIGPIPE ignored: write fails with EPIPE, 0
 * It takes malloc's address: built -no-pie, that makes the executable's
 * malloc a canonical PLT stub (an undefined symbol with a value), which
 * dlsym finds first and which is no allocator of its own (python3).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *volatile keep;
void *(*volatile rb_malloc_ref)(size_t);

__attribute__((noinline)) static void leaky_site(void)
{
	char *p = malloc(40);
	strcpy(p, "leaked");
	keep = p;
	keep = NULL;
}

static void on_sig(int sig)
{
	char m[32];
	int n = snprintf(m, sizeof m, "handled %d\n", sig);
	if (write(1, m, (size_t)n) < 0)
		_exit(3);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	int sig = argc > 2 ? atoi(argv[2]) : 0;
	rb_malloc_ref = malloc; /* code's reference: -no-pie makes it canonical */
	leaky_site();
	if (!strcmp(argv[1], "raise")) {
		raise(sig);
		return 0;
	}
	if (!strcmp(argv[1], "pipe")) {
		for (;;)
			if (write(1, "y\n", 2) < 0)
				return 4;
	}
	if (!strcmp(argv[1], "own")) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_sig;
		sigaction(sig, &sa, NULL);
		raise(sig);
		return 0;
	}
	if (!strcmp(argv[1], "later")) {
		signal(sig, on_sig);
		signal(sig, SIG_DFL);
		raise(sig);
		return 0;
	}
	if (!strcmp(argv[1], "ignore")) {
		int fd[2];
		signal(SIGPIPE, SIG_IGN);
		if (pipe(fd) != 0)
			return 5;
		close(fd[0]);
		if (write(fd[1], "x", 1) < 0 && errno == EPIPE)
			printf("EPIPE\n");
		return 0;
	}
	return 2;
}
