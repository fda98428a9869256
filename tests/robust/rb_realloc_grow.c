/* rb_realloc_grow.c - realloc's cost and its use-after-realloc detection.
 *
 *   rb_realloc_grow grow [MB]   grows one buffer to MB MiB (default 2) in
 *                               128-byte steps, as bash does capturing
 *                               $(...) output; prints the final checksum.
 *                               The checker once moved (copied) the block
 *                               at every step: 16k reallocs of a 2 MB
 *                               buffer copied 16 GB (0.3 s -> 115 s).
 *   rb_realloc_grow stale       reallocs a 100-byte block to 200 bytes
 *                               and writes through the old pointer: the
 *                               checker must still report a write after
 *                               free (small blocks always move).
 *   rb_realloc_grow stale-large the same with a 64 KiB block grown to
 *                               128 KiB: a block's first realloc moves.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int grow(size_t mb)
{
	size_t want = mb << 20, len = 0;
	char *buf = NULL;
	unsigned long sum = 0;
	while (len < want) {
		char *nb = realloc(buf, len + 128);
		if (!nb)
			return 1;
		buf = nb;
		memset(buf + len, (int)(len / 128 % 251), 128);
		len += 128;
	}
	for (size_t i = 0; i < len; i += 4096)
		sum += (unsigned char)buf[i];
	free(buf);
	printf("%zu %lu\n", len, sum);
	return 0;
}

static int stale(size_t from, size_t to)
{
	char *p = malloc(from);
	memset(p, 'a', from);
	char *volatile old = p;
	char *q = realloc(p, to);
	if (!q)
		return 1;
	old[3] = 'x'; /* use after realloc: the old block is freed */
	printf("%c\n", q[3]);
	free(q);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "grow"))
		return grow(argc > 2 ? (size_t)atoi(argv[2]) : 2);
	if (argc == 2 && !strcmp(argv[1], "stale"))
		return stale(100, 200);
	if (argc == 2 && !strcmp(argv[1], "stale-large"))
		return stale(64 << 10, 128 << 10);
	fprintf(stderr, "usage: rb_realloc_grow grow [MB] | stale | stale-large\n");
	return 2;
}
