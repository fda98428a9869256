/* lz_libs.c - for t_lazylibs.sh: whether libdw, libelf and libunwind are
 * mapped into this process, a leak and a crash.
 *   lz_libs maps         print "mapped N" (N: /proc/self/maps lines of them)
 *   lz_libs leak         leak 48 bytes from make_leak, then "mapped N"
 *   lz_libs crash        write through a null pointer (SIGSEGV)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int mapped(void)
{
	char line[4096];
	int k = 0;
	FILE *f = fopen("/proc/self/maps", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		k += strstr(line, "/libdw") || strstr(line, "/libelf") ||
		     strstr(line, "/libunwind");
	fclose(f);
	return k;
}

__attribute__((noinline)) void *make_leak(void)
{
	return malloc(48); /* MARK-LZ-LEAK */
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "maps";
	if (strcmp(what, "crash") == 0) {
		volatile int *p = NULL;
		*p = 1;
	}
	if (strcmp(what, "leak") == 0) {
		void *volatile keep = make_leak();
		keep = NULL;
		(void)keep;
	}
	printf("mapped %d\n", mapped());
	return 0;
}
