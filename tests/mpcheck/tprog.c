/* tprog.c - test program for mpcheck: `tprog [STATUS|kill|sleep MS]` exits
 * with STATUS (default 0), dies by SIGKILL (so no report is written) or
 * sleeps MS milliseconds first (long enough for mpcheck to see it run). */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "kill"))
		raise(SIGKILL);
	if (argc > 2 && !strcmp(argv[1], "sleep")) {
		long ms = atol(argv[2]);
		struct timespec t = { ms / 1000, ms % 1000 * 1000000L };
		nanosleep(&t, NULL);
		return 0;
	}
	return argc > 1 ? atoi(argv[1]) : 0;
}
