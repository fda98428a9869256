/* rb_cancel.c - malloc and free are no cancellation points (glibc's are
 * not): a thread with a pending deferred cancel allocates from code loaded
 * just now (new return addresses: the stack walker reads that library's
 * unwind tables, with open and read), then reaches a real cancellation
 * point.  Another thread must still allocate afterwards.  Prints
 * "cancelled at testcancel" as under glibc alone. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static volatile int reached;

static void *victim(void *arg)
{
	void (*alloc_in_lib)(void) = (void (*)(void))arg;
	int old;
	pthread_setcanceltype(PTHREAD_CANCEL_DEFERRED, &old);
	pthread_cancel(pthread_self()); /* pending from here on */
	alloc_in_lib();
	reached = 1; /* only a real cancellation point may stop us */
	pthread_testcancel();
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	void *h = dlopen(argv[1], RTLD_NOW);
	if (!h) {
		fprintf(stderr, "%s\n", dlerror());
		return 2;
	}
	void (*a)(void) = (void (*)(void))dlsym(h, "rb_alloc_a");
	void (*b)(void) = (void (*)(void))dlsym(h, "rb_alloc_b");
	pthread_t t;
	void *ret;
	pthread_create(&t, NULL, victim, (void *)a);
	pthread_join(t, &ret);
	b(); /* more new code: the walker's rule lock must be free */
	printf("%s\n", ret == PTHREAD_CANCELED && reached ? "cancelled at testcancel"
		: ret == PTHREAD_CANCELED ? "cancelled inside the allocator"
		: "not cancelled");
	return 0;
}
