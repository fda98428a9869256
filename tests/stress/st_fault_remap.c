/* st_fault_remap.c - issue 12 item 6: a fault the report's own mappings
 * make valid must still kill the program.
 *
 * The program leaks one block, unmaps a 64 MiB region of its own and
 * writes through a dangling pointer to its top bytes.  Every gap above the
 * region was filled first (PROT_NONE), so the first anonymous mapping made
 * while the fault is reported (the symbolizer's, the real allocator's) is
 * placed at the top of the hole, right on the faulting address: a handler
 * that only returns lets the retried write succeed, and the program goes
 * on after "dying of SIGSEGV".  It must die of SIGSEGV instead; "survived"
 * on stdout means it did not.
 */
#include "stress.h"

#include <stdint.h>
#include <sys/mman.h>

#define MAXMAPS 8192

static void fill_gaps_above(uintptr_t lo)
{
	static uintptr_t s[MAXMAPS], e[MAXMAPS];
	static int stack[MAXMAPS];
	char line[512];
	int n = 0;
	FILE *f = fopen("/proc/self/maps", "r");
	if (!f)
		return;
	while (n < MAXMAPS && fgets(line, sizeof line, f)) {
		unsigned long a, b;
		if (sscanf(line, "%lx-%lx", &a, &b) != 2)
			continue;
		s[n] = a;
		e[n] = b;
		stack[n] = strstr(line, "[stack]") != NULL;
		n++;
	}
	fclose(f);
	for (int i = 0; i + 1 < n; i++) {
		/* not the gap below the main stack: it must stay free to grow */
		if (e[i] < lo || s[i + 1] <= e[i] || stack[i + 1])
			continue;
		mmap((void *)e[i], s[i + 1] - e[i], PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	}
}

/* the block's only pointer dies with this frame: definitely lost */
__attribute__((noinline)) static void leak_site(void)
{
	char *volatile p = malloc(100);
	memset(p, 1, 100);
}

int main(void)
{
	size_t len = 64 << 20;
	char *region = mmap(NULL, len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED) {
		printf("# FAIL mmap\n");
		return 2;
	}
	leak_site(); /* the report must still list it */
	volatile char *dangling = region + len - 64;
	/* stdio's buffer is allocated now: nothing may map memory between
	 * the munmap and the write but the fault's report */
	printf("# fault_at=%p\n", (void *)dangling);
	fflush(stdout);
	fill_gaps_above((uintptr_t)region + len);
	munmap(region, len);
	*dangling = 1;
	printf("survived: the write through a dangling pointer succeeded (%d)\n",
	       *dangling);
	return 0;
}
