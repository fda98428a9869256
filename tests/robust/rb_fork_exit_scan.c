/* rb_fork_exit_scan.c - a forked child's exit report costs what the child
 * did: the parent keeps 100,000 blocks reachable (an array of pointers in a
 * large block), then forks a child that allocates 10 blocks, hangs one
 * from the inherited array, leaks a 3-node list and exits.  The child's
 * leak scan classifies its own 10 blocks and reads the few inherited pages
 * it wrote; its exit check reads the guards of its own blocks only (it
 * once classified and checked the whole inherited heap in every child:
 * bash's subshells after a 60k-element array, 5.8 s -> 119 s).  The child
 * writes past the end of an inherited block and frees it: caught at the
 * free.  With argument "again" the child forks a grandchild first, alive
 * while the child exits (its written pages are then shared). */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define N 100000

struct node {
	struct node *next;
	long pad[3];
};

static void **volatile g_all;

static __attribute__((noinline)) void leak_list(void)
{
	struct node *volatile head = NULL;
	for (int i = 0; i < 3; i++) {
		struct node *n = calloc(1, sizeof *n);
		n->next = head;
		head = n;
	}
}

int main(int argc, char **argv)
{
	int again = argc > 1 && !strcmp(argv[1], "again");
	void **all = calloc(N, sizeof *all);
	for (int i = 0; i < N; i++)
		all[i] = malloc(24 + i % 64);
	g_all = all;
	int hold[2];
	if (pipe(hold) != 0)
		return 2;
	pid_t p = fork();
	if (p == 0) {
		close(hold[0]);
		int q[2];
		if (again && pipe(q) == 0 && fork() == 0) {
			/* the grandchild: alive until the child has exited */
			char c;
			close(q[1]);
			while (read(q[0], &c, 1) > 0)
				;
			exit(0);
		}
		for (int i = 0; i < 6; i++)
			all[i * 1000] = malloc(40); /* the child's, reachable */
		leak_list();
		char *victim = all[50000];
		victim[24 + 50000 % 64] = 'x'; /* one byte past its end */
		free(victim);
		all[50000] = NULL;
		exit(0); /* closes q[1]: the grandchild ends */
	}
	close(hold[1]);
	int st = 0;
	waitpid(p, &st, 0);
	char c;
	while (read(hold[0], &c, 1) > 0)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
