/* uw_getattr.c - the first allocation of threads made inside glibc's
 * pthread_getattr_np, which holds the thread's own lock while it reallocs:
 * the walker must not ask pthread_getattr_np for the stack bounds there (it
 * used to, and the thread deadlocked on itself).  Main thread and two
 * threads, then a leak so the report has a stack to show. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static void *probe(void *arg)
{
	pthread_attr_t a;
	size_t size = 0;
	void *addr;
	if (pthread_getattr_np(pthread_self(), &a) == 0) {
		pthread_attr_getstack(&a, &addr, &size);
		pthread_attr_destroy(&a);
	}
	return size ? arg : NULL;
}

__attribute__((noinline)) static void *leak_here(void)
{
	return malloc(77);
}

void *volatile uw_keep; /* the leaked block's only pointer, then cleared */

int main(void)
{
	int ok = probe(&ok) != NULL;
	for (int i = 0; i < 2; i++) {
		pthread_t t;
		void *r = NULL;
		if (pthread_create(&t, NULL, probe, &ok) != 0)
			return 2;
		pthread_join(t, &r);
		ok &= r != NULL;
	}
	uw_keep = leak_here();
	uw_keep = NULL;
	printf("%s\n", ok ? "bounds ok" : "bounds missing");
	return ok ? 0 : 1;
}
