/* lk_thread_stack.c - a 48-byte block whose only pointer is a local of a
 * second thread that is still blocked when main returns (argv[1]: "cond" =
 * in pthread_cond_wait, "pause" = in pause()).  Still reachable. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tprog.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready_cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t never_cv = PTHREAD_COND_INITIALIZER;
static int ready, use_pause;

static void *holder(void *arg)
{
	(void)arg;
	char *volatile mine = malloc(48); /* THREAD_SITE */
	memset(mine, 1, 48);
	pthread_mutex_lock(&mu);
	ready = 1;
	pthread_cond_signal(&ready_cv);
	if (use_pause) {
		pthread_mutex_unlock(&mu);
		for (;;)
			pause();
	}
	for (;;)
		pthread_cond_wait(&never_cv, &mu);
	return NULL;
}

int main(int argc, char **argv)
{
	tp_anchor();
	use_pause = argc > 1 && strcmp(argv[1], "pause") == 0;
	pthread_t t;
	if (pthread_create(&t, NULL, holder, NULL) != 0)
		return 2;
	pthread_mutex_lock(&mu);
	while (!ready)
		pthread_cond_wait(&ready_cv, &mu);
	pthread_mutex_unlock(&mu);
	return 0;
}
