/* pl_invalid_free.c - free() of something that is not a block start:
 *   stack           the address of a local variable
 *   interior        8 bytes into a 64-byte block
 *   interior_large  24 bytes into a 5000-byte block
 *   freed           8 bytes into a 64-byte block already freed
 *   global          8 bytes into a global array (data segment, symbol)
 *   thread          a local variable of a second thread's function
 *   main_stack      main's local, freed by a second thread
 *   other_stack     a second thread's local, freed by main
 *   wild            the address 0x1000 (nothing there)
 * The real block is freed properly afterwards: nothing leaks. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tprog.h"

TP_NOINLINE static char *alloc_block(size_t n)
{
	char *p = malloc(n); /* ALLOC_SITE */
	tp_escape(p);
	return p;
}

TP_NOINLINE static void bad_free(void *p)
{
	free(tp_launder(p)); /* BAD_FREE */
	TP_NO_TAILCALL();
}

char tp_global_buf[64];

TP_NOINLINE static void *thread_local_free(void *arg)
{
	char mine[48];
	memset(mine, 0, sizeof mine);
	tp_escape(mine);
	bad_free(mine + 16);
	return arg;
}

TP_NOINLINE static void *free_it(void *p)
{
	bad_free(p);
	return NULL;
}

static char *volatile handed; /* the holder's local, for main to free */
static volatile int stage;

TP_NOINLINE static void *holder(void *arg)
{
	char mine[40];
	memset(mine, 0, sizeof mine);
	handed = (char *)tp_launder(mine) + 8;
	stage = 1;
	while (stage != 2) /* keep the frame alive until main has freed */
		;
	handed = NULL;
	return arg;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "stack";
	if (strcmp(mode, "stack") == 0) {
		char local[32];
		memset(local, 0, sizeof local);
		tp_escape(local);
		bad_free(local);
		printf("stack %p\n", (void *)local);
	} else if (strcmp(mode, "global") == 0) {
		bad_free(tp_global_buf + 8);
	} else if (strcmp(mode, "thread") == 0) {
		pthread_t t;
		pthread_create(&t, NULL, thread_local_free, NULL);
		pthread_join(t, NULL);
	} else if (strcmp(mode, "main_stack") == 0) {
		char local[32];
		memset(local, 0, sizeof local);
		tp_escape(local);
		pthread_t t;
		pthread_create(&t, NULL, free_it, local + 4);
		pthread_join(t, NULL);
	} else if (strcmp(mode, "other_stack") == 0) {
		pthread_t t;
		pthread_create(&t, NULL, holder, NULL);
		while (stage != 1)
			;
		bad_free(handed);
		stage = 2;
		pthread_join(t, NULL);
	} else if (strcmp(mode, "wild") == 0) {
		bad_free((void *)0x1000);
	} else if (strcmp(mode, "freed") == 0) {
		char *p = alloc_block(64);
		free(tp_launder(p));
		bad_free((char *)tp_launder(p) + 8);
	} else {
		size_t n = strcmp(mode, "interior") == 0 ? 64 : 5000;
		size_t off = n == 64 ? 8 : 24;
		char *p = alloc_block(n);
		memset(p, 2, n);
		bad_free(p + off);
		free(p);
	}
	return 0;
}
