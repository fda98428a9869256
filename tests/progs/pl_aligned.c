/* pl_aligned.c - posix_memalign, aligned_alloc, memalign, valloc and pvalloc
 * with alignments 16..4096 and small and large sizes: every pointer is
 * aligned, writable over its full size, has malloc_usable_size >= the
 * request and is freed.  Prints one FAIL line per problem; exits with the
 * number of problems. */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tprog.h"

static int fails, count;

static void use(const char *how, void *p, size_t align, size_t n)
{
	count++;
	if (!p) {
		printf("FAIL %s(align %zu, %zu): NULL (errno %d)\n", how, align, n,
		       errno);
		fails++;
		return;
	}
	if ((uintptr_t)p % align) {
		printf("FAIL %s(align %zu, %zu): %p misaligned\n", how, align, n, p);
		fails++;
	}
	if (malloc_usable_size(p) < n) {
		printf("FAIL %s(align %zu, %zu): usable size %zu\n", how, align, n,
		       malloc_usable_size(p));
		fails++;
	}
	unsigned char *c = p;
	memset(c, 0x5a, n);
	for (size_t i = 0; i < n; i++)
		if (c[i] != 0x5a) {
			printf("FAIL %s(align %zu, %zu): byte %zu lost\n", how, align,
			       n, i);
			fails++;
			break;
		}
	free(p);
}

int main(void)
{
	static const size_t sizes[] = { 1, 100, 4096, 5000 };
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	for (size_t align = 16; align <= 4096; align *= 2)
		for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
			size_t n = sizes[k];
			void *p = NULL;
			int rc = posix_memalign(&p, align, n);
			if (rc) {
				printf("FAIL posix_memalign(align %zu, %zu) = %d\n",
				       align, n, rc);
				fails++;
			} else {
				use("posix_memalign", p, align, n);
			}
			size_t rounded = (n + align - 1) / align * align;
			use("aligned_alloc", aligned_alloc(align, rounded), align,
			    rounded);
			use("memalign", memalign(align, n), align, n);
		}
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		size_t n = sizes[k];
		use("valloc", valloc(n), page, n);
		use("pvalloc", pvalloc(n), page, (n + page - 1) / page * page);
	}
	printf("aligned: %d allocations, %d failures\n", count, fails);
	return fails;
}
