/* rb_fork_quarantine.c - a forked child's exit check costs what the child
 * did: the parent frees 20,000 blocks (they wait in the quarantine), then
 * forks a child that frees 5 blocks of its own and exits.  The child's
 * exit check verifies the poison of the 5 blocks it freed, not the
 * parent's 20,000 (it once re-checked the whole inherited quarantine in
 * every child: bash's subshells after a big array, 5.8 s -> 119 s with
 * the leak scan).  The child writes into a block it freed: still caught. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	for (int i = 0; i < 20000; i++)
		free(malloc(64));
	pid_t p = fork();
	if (p == 0) {
		char *mine[5];
		for (int i = 0; i < 5; i++)
			mine[i] = malloc(64);
		for (int i = 0; i < 5; i++)
			free(mine[i]);
		mine[4][1] = 'x'; /* write after free, in the child */
		exit(0);
	}
	int st = 0;
	waitpid(p, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
