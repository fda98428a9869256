/* ac_lsan.c - LeakSanitizer's root-set flags and hooks, one case per run
 * (argv[1]); each case leaves one 1337-byte block held only by the root it
 * names, then runs an explicit __lsan_do_leak_check() while that root is
 * live (case "exit": no explicit check, the block is lost at exit):
 *   globals   a global pointer             (use_globals)
 *   stacks    a local of main's            (use_stacks, use_registers)
 *   tls       a __thread pointer           (use_tls)
 *   region    an mmap'd page registered as a root region (use_root_regions)
 *   unreg     the same, unregistered before the check: no root any more
 *   exit      lost at exit, no explicit check (leak_check_at_exit)
 * Built with -DDEFAULT_OPTIONS='"..."' it defines __lsan_default_options
 * (export it: -rdynamic).  Works under real LSan (-fsanitize=leak) too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "mpwrap/lsan_interface.h"
#include "tprog.h"

#ifdef DEFAULT_OPTIONS
const char *__lsan_default_options(void)
{
	return DEFAULT_OPTIONS;
}
#endif

void *volatile global_p;
static __thread void *volatile tls_p;

TP_NOINLINE static void *alloc_victim(void)
{
	void *p = malloc(1337); /* ALLOC_SITE */
	memset(p, 0, 1337);
	tp_escape(p);
	return p;
}

TP_NOINLINE static void check(void)
{
	if (__lsan_do_leak_check)
		__lsan_do_leak_check();
	TP_NO_TAILCALL();
}

int main(int argc, char **argv)
{
	const char *c = argc > 1 ? argv[1] : "";
	if (!strcmp(c, "globals")) {
		global_p = alloc_victim();
		check();
	} else if (!strcmp(c, "stacks")) {
		void *volatile local = alloc_victim();
		check();
		tp_escape((void *)&local);
	} else if (!strcmp(c, "tls")) {
		tls_p = alloc_victim();
		check();
	} else if (!strcmp(c, "region") || !strcmp(c, "unreg")) {
		void **page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (page == MAP_FAILED)
			return 2;
		if (__lsan_register_root_region)
			__lsan_register_root_region(page, 4096);
		page[7] = alloc_victim();
		if (!strcmp(c, "unreg") && __lsan_unregister_root_region)
			__lsan_unregister_root_region(page, 4096);
		check();
	} else if (!strcmp(c, "exit")) {
		void *volatile p = alloc_victim();
		p = NULL;
		tp_escape((void *)&p);
	} else {
		return 2;
	}
	printf("done\n");
	return 0;
}
