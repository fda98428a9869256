/* rb_files.c - issue 24 items 2, 3 and 5: the report files and the files
 * around them.  Makes something to report (a double free and a 100-byte
 * leak) and then, as the arguments say:
 *   chdir DIR   changes directory before exiting (a daemon's chdir("/")):
 *               relative report paths still mean the starting directory
 *   write FILE N  writes N bytes to FILE itself (past `ulimit -f` it must
 *               die of SIGXFSZ as it does without the library)
 *   thread      keeps a second thread running through the exit report
 * and prints "# done" last.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__attribute__((noinline)) static void leak_site(void)
{
	char *volatile p = malloc(100);
	__asm__ volatile("" : : "r"(p) : "memory");
}

static void *spin(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	leak_site();
	char *volatile p = malloc(10); /* volatile: clang drops malloc/free pairs */
	free(p);
	free(p);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "chdir") == 0 && i + 1 < argc) {
			if (chdir(argv[++i]) != 0)
				return 2;
		} else if (strcmp(argv[i], "write") == 0 && i + 2 < argc) {
			int fd = open(argv[i + 1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
			size_t n = strtoul(argv[i + 2], NULL, 10);
			char *b = calloc(1, n);
			if (fd < 0 || !b)
				return 3;
			/* a short write stops at the limit; the next raises */
			for (size_t k = 0; k < n;) {
				ssize_t w = write(fd, b + k, n - k);
				if (w <= 0)
					return 3;
				k += (size_t)w;
			}
			free(b);
			close(fd);
			i += 2;
		} else if (strcmp(argv[i], "thread") == 0) {
			pthread_t t;
			if (pthread_create(&t, NULL, spin, NULL) != 0)
				return 4;
		}
	}
	printf("# done\n");
	fflush(stdout);
	return 0;
}
