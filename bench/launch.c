/* launch.c - run one command; report its wall time, peak RSS and status.
 *
 *   launch OUTFILE [NAME=VALUE...] -- PROG [ARG...]
 *
 * The driver (python) does not fork the measured program itself: Linux
 * carries ru_maxrss across execve, so a child forked from the driver would
 * start with the driver's own RSS.  This small program forks instead, sets
 * the NAME=VALUE variables (LD_PRELOAD, MPWRAP_OPTIONS, ...) in the child
 * only, and writes one line to OUTFILE:
 *
 *   <wait status> <wall ns> <peak RSS KiB of the child tree> <end ns>
 *
 * where <end ns> is CLOCK_MONOTONIC when the child was reaped.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	int i = 2;
	while (i < argc && strcmp(argv[i], "--") != 0)
		i++;
	if (argc < 2 || i + 1 >= argc) {
		fprintf(stderr, "usage: launch OUTFILE [NAME=VALUE...] -- PROG [ARG...]\n");
		return 2;
	}
	FILE *out = fopen(argv[1], "w");
	if (!out) {
		perror(argv[1]);
		return 2;
	}
	long long t0 = mono_ns();
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 2;
	}
	if (pid == 0) {
		fclose(out);
		for (int k = 2; k < i; k++)
			if (putenv(argv[k]) != 0)
				_exit(127);
		execvp(argv[i + 1], argv + i + 1);
		perror(argv[i + 1]);
		_exit(127);
	}
	int status;
	struct rusage ru;
	while (wait4(pid, &status, 0, &ru) < 0)
		;
	long long t1 = mono_ns();
	fprintf(out, "%d %lld %ld %lld\n", status, t1 - t0, ru.ru_maxrss, t1);
	fclose(out);
	return 0;
}
