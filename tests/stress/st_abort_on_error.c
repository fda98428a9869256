/* st_abort_on_error.c - issue 12 item 10: with abort_on_error=1 the error
 * report, the leak report and the JSON file are all written, then the
 * process dies of SIGABRT.
 *
 *   free: a double free while the program runs (abort() from inside free:
 *         the fatal-signal report took it for a crash in the allocator and
 *         skipped the leak scan)
 *   exit: an overflow of a block never freed, found by the exit check
 *         (abort() inside the exit report: no leak report, no JSON)
 * Both leak 100 bytes (leak_site) first.
 */
#include "stress.h"

/* the block's only pointer dies with this frame: definitely lost */
__attribute__((noinline)) static void leak_site(void)
{
	char *volatile p = malloc(100);
	memset(p, 7, 100);
	__asm__ volatile("" : : "r"(p) : "memory");
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "free";
	leak_site();
	char *volatile p = malloc(10); /* volatile: clang drops malloc/free pairs */
	if (strcmp(mode, "free") == 0) {
		free(p);
		free(p); /* double free: abort_on_error aborts here */
		printf("survived the double free\n");
		return 0;
	}
	((volatile char *)p)[10] = 1; /* one byte past the end; found at exit */
	p = NULL;
	printf("# returning\n");
	return 0;
}
