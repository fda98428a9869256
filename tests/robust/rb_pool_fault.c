/* rb_pool_fault.c - the program dies of SIGSEGV inside the allocator: it
 * made a block of its own unreadable (mprotect) and frees it, and free's
 * poisoning faults (issue 24 item 13: the report said "leak scan skipped"
 * and then "no leaks, no errors", and mpcheck passed a real leak).  The
 * leak of leaky_site is never looked for: the report must say so. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void *volatile keep;

__attribute__((noinline)) static void leaky_site(void)
{
	char *p = malloc(40);
	strcpy(p, "leaked");
	keep = p;
	keep = NULL;
}

int main(void)
{
	leaky_site();
	size_t ps = (size_t)sysconf(_SC_PAGESIZE);
	char *q = malloc(200);
	memset(q, 1, 200);
	mprotect((void *)((uintptr_t)q & ~(uintptr_t)(ps - 1)), ps, PROT_NONE);
	free(q);
	return 0;
}
