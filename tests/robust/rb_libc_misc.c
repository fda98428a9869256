/* rb_libc_misc.c - libc calls whose answer or report under the checker
 * was wrong (issue 24 item 13):
 *   rb_libc_misc aligned   aligned_alloc(3, 10) and aligned_alloc(0, 10):
 *                          glibc 2.36 returns memory (it rounds the
 *                          alignment up); prints "ok ok" when both do
 *   rb_libc_misc fclose2   fclose twice on one FILE (mawk does): glibc
 *                          aborts on its own heap, "free(): double free"
 *   rb_libc_misc setenv    setenv of new names, as a shell does: glibc
 *                          keeps them in a tsearch tree of its own
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	if (!strcmp(argv[1], "aligned")) {
		void *a = aligned_alloc(3, 10), *b = aligned_alloc(0, 10);
		printf("%s %s\n", a ? "ok" : "null", b ? "ok" : "null");
		free(a);
		free(b);
		return 0;
	}
	if (!strcmp(argv[1], "fclose2")) {
		FILE *f = fopen("/dev/null", "r");
		if (!f)
			return 3;
		fclose(f);
		fclose(f);
		printf("survived\n");
		return 0;
	}
	if (!strcmp(argv[1], "setenv")) {
		char name[32];
		for (int i = 0; i < 20; i++) {
			snprintf(name, sizeof name, "RB_VAR_%d", i);
			setenv(name, "some value", 1);
		}
		printf("%s\n", getenv("RB_VAR_7"));
		return 0;
	}
	return 2;
}
