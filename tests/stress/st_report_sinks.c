/* st_report_sinks.c - issue 12 items 11 and 12: report files planted in
 * the program's way.  The test points log_path / json_path at a FIFO
 * nobody reads, a symbolic link to a device, a device, another user's
 * file; this program only makes something to report (a double free and a
 * 100-byte leak) and says when it is done.  The library must neither hang
 * (a FIFO without a reader blocks open() for writing) nor write into or
 * replace what was planted, and must say why on stderr, where the report
 * then goes.
 */
#include "stress.h"

__attribute__((noinline)) static void leak_site(void)
{
	char *volatile p = malloc(100);
	__asm__ volatile("" : : "r"(p) : "memory");
}

int main(void)
{
	leak_site();
	char *volatile p = malloc(10); /* volatile: clang drops malloc/free pairs */
	free(p);
	free(p);
	printf("# done\n");
	return 0;
}
