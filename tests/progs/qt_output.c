/* qt_output.c - writes known bytes to stdout and stderr, interleaved (for
 * t_quiet.sh: under mpcheck they must come out exactly as they do plainly);
 * "leak" as argv[1] also loses one block, "child" forks a child that
 * allocates and exits too. */
#include "tprog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void *volatile sink;

int main(int argc, char **argv)
{
	int leak = argc > 1 && strcmp(argv[1], "leak") == 0;
	int child = argc > 1 && strcmp(argv[1], "child") == 0;
	setvbuf(stdout, NULL, _IONBF, 0); /* the order 2>&1 shows is fixed */
	char *p = malloc(64);
	strcpy(p, "out: one");
	puts(p);
	fputs("err: two\n", stderr);
	free(p);
	if (leak)
		sink = malloc(40), sink = NULL; /* definitely lost */
	if (child) {
		pid_t pid = fork();
		if (pid == 0) {
			free(malloc(10));
			fputs("err: child\n", stderr);
			exit(0);
		}
		waitpid(pid, NULL, 0);
	}
	puts("out: three");
	return 0;
}
