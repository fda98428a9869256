/* rb_aslimit.c - a program under an address space limit (ulimit -v).
 *
 *   rb_aslimit steps   mallocs 1 MiB blocks until malloc fails, prints how
 *                      many it got, frees them and leaks 77 bytes from
 *                      leak_after_limit().  The checker once reserved 2 GiB
 *                      for its stack depot at the first stack: under a
 *                      1 GiB limit the program got 50 blocks (1017 without
 *                      the checker) and every report lost its stacks.
 *   rb_aslimit tight   lowers its own limit to what it uses now plus
 *                      32 KiB, then frees and allocates from 19,683
 *                      distinct call stacks (more than the stack depot's
 *                      first chunks hold): the depot must say once that it
 *                      cannot store them, and the program runs on; the
 *                      limit is restored and 55 bytes are leaked from
 *                      leak_after_limit().
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static void *volatile sink;

__attribute__((noinline)) static void leak_after_limit(size_t n)
{
	sink = malloc(n);
	memset(sink, 1, n);
	sink = NULL;
}

static int steps(void)
{
	void **head = NULL;
	size_t got = 0;
	for (;;) {
		void **p = malloc((size_t)1 << 20);
		if (!p)
			break;
		*p = head;
		head = p;
		got++;
	}
	while (head) {
		void **next = *head;
		free(head);
		head = next;
	}
	printf("%zu\n", got);
	leak_after_limit(77);
	return 0;
}

/* 3^depth distinct stacks: each level calls the next from one of three
 * call sites (-O0 keeps them apart). */
__attribute__((noinline)) static void fan(int depth, unsigned v)
{
	if (depth == 0) {
		void *p = malloc(24);
		sink = p;
		free(p);
		return;
	}
	switch (v % 3) {
	case 0: fan(depth - 1, v / 3); break;
	case 1: fan(depth - 1, v / 3); break;
	default: fan(depth - 1, v / 3); break;
	}
	sink = NULL; /* no tail call */
}

static size_t vm_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long pages = 0;
	if (!f || fscanf(f, "%lu", &pages) != 1)
		return 0;
	fclose(f);
	return pages * 4096;
}

static int tight(void)
{
	struct rlimit old, rl;
	fan(9, 0); /* the path's own pages and first stacks, before the limit */
	printf("limit\n");
	fflush(stdout);
	size_t vm = vm_bytes();
	if (!vm || getrlimit(RLIMIT_AS, &old) != 0)
		return 2;
	rl = old;
	rl.rlim_cur = vm + (32 << 10);
	if (setrlimit(RLIMIT_AS, &rl) != 0)
		return 3;
	for (unsigned v = 0; v < 19683; v++)
		fan(9, v);
	if (setrlimit(RLIMIT_AS, &old) != 0)
		return 4;
	leak_after_limit(55);
	printf("done\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "steps"))
		return steps();
	if (argc == 2 && !strcmp(argv[1], "tight"))
		return tight();
	fprintf(stderr, "usage: rb_aslimit steps|tight\n");
	return 2;
}
