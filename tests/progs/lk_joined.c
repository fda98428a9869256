/* lk_joined.c - one thread created, run to completion and joined; every
 * block the program allocated is freed.  Nothing is lost. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "tprog.h"

static void *work(void *arg)
{
	char *p = malloc(100);
	memset(p, 1, 100);
	tp_escape(p);
	free(p);
	return arg;
}

int main(void)
{
	pthread_t t;
	tp_anchor();
	if (pthread_create(&t, NULL, work, NULL) != 0)
		return 2;
	pthread_join(t, NULL);
	return 0;
}
