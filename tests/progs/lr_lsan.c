/* lr_lsan.c - LeakSanitizer's interface under libmpwrap.so (t_longrun.sh).
 * Built with -rdynamic so that mpwrap finds the program's hooks.
 *   lr_lsan checks   recoverable checks around ignored objects, disabled
 *                    regions, a root region, suppressions; prints results
 *   lr_lsan once     __lsan_do_leak_check twice, then prints "after"
 * LR_OFF=1 in the environment: __lsan_is_turned_off says so.
 */
#define _GNU_SOURCE
#include "mpwrap/lsan_interface.h"
#include "tprog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int __lsan_is_turned_off(void)
{
	const char *v = getenv("LR_OFF");
	return v && *v == '1';
}

const char *__lsan_default_suppressions(void)
{
	return "# the program's own\nleak:suppressed_site\nleak:^no_such_fn$\n";
}

struct pair {
	void *child;
	char pad[32];
};

TP_NOINLINE static void ignored_site(void)
{
	struct pair *p = malloc(sizeof *p);       /* 40 bytes, ignored */
	p->child = malloc(tp_size(24));           /* reachable through it */
	__lsan_ignore_object((char *)p + 8);      /* an interior pointer works */
	TP_NO_TAILCALL();
}

TP_NOINLINE static void disabled_site(void)
{
	__lsan_disable();
	tp_escape(malloc(tp_size(32)));
	__lsan_enable();
	TP_NO_TAILCALL();
}

TP_NOINLINE static void *region_site(void)
{
	void *p = malloc(tp_size(56));
	TP_NO_TAILCALL();
	return p;
}

TP_NOINLINE static void suppressed_site(void)
{
	tp_escape(malloc(tp_size(72)));
	TP_NO_TAILCALL();
}

TP_NOINLINE static void leaked_site(void)
{
	tp_escape(malloc(tp_size(88)));
	TP_NO_TAILCALL();
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "once") == 0) {
		leaked_site();
		__lsan_do_leak_check();
		__lsan_do_leak_check(); /* no effect */
		printf("after\n");
		return 0;
	}
	printf("clean %d\n", __lsan_do_recoverable_leak_check());
	ignored_site();
	disabled_site();
	suppressed_site();
	/* a shared file mapping is no root: only registered */
	char tmpl[] = "/tmp/lr_lsan.XXXXXX";
	int fd = mkstemp(tmpl);
	unlink(tmpl);
	if (fd < 0 || ftruncate(fd, 4096) != 0)
		return 2;
	void **region = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (region == MAP_FAILED)
		return 2;
	region[3] = region_site();
	__lsan_register_root_region(region, 4096);
	leaked_site();
	printf("registered %d\n", __lsan_do_recoverable_leak_check());
	__lsan_unregister_root_region(region, 4096);
	printf("unregistered %d\n", __lsan_do_recoverable_leak_check());
	__lsan_unregister_root_region(region, 4096); /* never registered now */
	__lsan_enable();                             /* unmatched */
	return 0;
}
