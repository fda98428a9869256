/* rb_large_exit.c - N live blocks larger than the largest class (the real
 * allocator's), all reachable at exit: the exit check and leak scan must
 * stay near-linear in them (400k blocks once took 63 s). */
#include <stdlib.h>

void **volatile keep;

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 200000;
	keep = malloc(sizeof *keep * (size_t)n);
	for (int i = 0; i < n; i++)
		keep[i] = malloc(4200);
	return 0;
}
