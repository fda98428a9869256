/* tprog.c - test program for mpcheck: `tprog [STATUS|kill]` exits with
 * STATUS (default 0) or dies by SIGKILL, so no report is written. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "kill"))
		raise(SIGKILL);
	return argc > 1 ? atoi(argv[1]) : 0;
}
