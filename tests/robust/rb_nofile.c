/* rb_nofile.c - a double free in a process whose library cannot write its
 * report file (issue 24 item 10: mpcheck passed it, blaming "_exit()
 * outside the library").
 *   rb_nofile soft    RLIMIT_NOFILE soft limit 8 (hard as it was), every
 *                     descriptor taken, then a double free in free_twice
 *   rb_nofile hard    the same with the hard limit 8 too
 *   rb_nofile plain   only the double free (run it after setpriv)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static void *volatile keep;

__attribute__((noinline)) static void free_twice(void)
{
	char *p = malloc(24);
	keep = p;
	free(p);
	free(p);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	if (strcmp(argv[1], "plain")) {
		struct rlimit rl;
		getrlimit(RLIMIT_NOFILE, &rl);
		rl.rlim_cur = 8;
		if (!strcmp(argv[1], "hard"))
			rl.rlim_max = 8;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			return 3;
		while (open("/dev/null", O_RDONLY) >= 0)
			;
	}
	free_twice();
	printf("done\n");
	return 0;
}
