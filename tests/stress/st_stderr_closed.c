/* st_stderr_closed.c - issue 12 item 13: the program closes stderr, then
 * opens its own data file (which gets descriptor 2, the lowest free one)
 * and writes to it between two double frees.  The reports must never land
 * in the data file, must not vanish (they go to the stderr the program was
 * started with), and the data file must get descriptor 2 as without the
 * library (the symbolizer's files may not take it first).
 */
#include "stress.h"

#include <fcntl.h>

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	char *volatile p = malloc(10); /* volatile: clang drops malloc/free pairs */
	free(p);
	close(2);
	free(p); /* first report, with fd 2 closed: the symbolizer opens files */
	int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	printf("# data_fd=%d\n", fd);
	fflush(stdout);
	if (fd < 0 || write(fd, "data 1\n", 7) != 7)
		return 3;
	char *volatile q = malloc(20);
	free(q);
	free(q); /* second report, with fd 2 the program's data file */
	if (write(fd, "data 2\n", 7) != 7)
		return 3;
	close(fd);
	return 0;
}
