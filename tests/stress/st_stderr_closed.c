/* st_stderr_closed.c - issue 12 item 13: reports never go into a
 * descriptor the program reuses.
 *
 *   close2: the program closes stderr, then opens its own data file (which
 *           gets descriptor 2, the lowest free one) and writes to it
 *           between two double frees.  The reports must not land in the
 *           data file nor vanish (they go to the stderr the program was
 *           started with), and the data file must get descriptor 2 as
 *           without the library (the symbolizer's files may not take it).
 *   reuse:  the program closes every descriptor above 2 (the library's
 *           private copy of stderr too) and puts its data file on every
 *           number from 3 to 1023, then double frees: the report must go
 *           to stderr, not into the data file through a reused number.
 */
#include "stress.h"

#include <fcntl.h>

static int data_write(int fd, const char *s)
{
	return write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -1;
}

static void double_free(size_t n)
{
	char *volatile p = malloc(n); /* volatile: clang drops malloc/free pairs */
	free(p);
	free(p);
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	const char *mode = argv[1], *data = argv[2];
	if (strcmp(mode, "reuse") == 0) {
		double_free(30); /* the library is initialised, its copy taken */
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
		int fd = open(data, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || data_write(fd, "data 1\n"))
			return 3;
		for (int i = 3; i < 1024; i++)
			if (i != fd)
				dup2(fd, i);
		double_free(40);
		if (data_write(fd, "data 2\n"))
			return 3;
		return 0;
	}
	close(2);
	double_free(20); /* with fd 2 closed: the symbolizer opens files */
	int fd = open(data, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	printf("# data_fd=%d\n", fd);
	fflush(stdout);
	if (fd < 0 || data_write(fd, "data 1\n"))
		return 3;
	double_free(30); /* with fd 2 the program's data file */
	if (data_write(fd, "data 2\n"))
		return 3;
	close(fd);
	return 0;
}
