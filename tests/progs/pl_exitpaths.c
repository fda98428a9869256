/* pl_exitpaths.c - the leak report at every way out:
 *   return  leak 77 bytes, return 0 from main
 *   exit    leak 88 bytes, exit(3) from two calls deep
 *   thread  leak 99 bytes, return 0 from main while a second thread is
 *           still running (blocked in pause()) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tprog.h"

TP_NOINLINE static void leak_on_return(void)
{
	char *volatile p = malloc(77); /* SITE_RETURN */
	memset(p, 1, 77);
	p = NULL;
}

TP_NOINLINE static void leak_before_exit(void)
{
	char *volatile p = malloc(88); /* SITE_EXIT */
	memset(p, 1, 88);
	p = NULL;
}

TP_NOINLINE static void leak_with_thread(void)
{
	char *volatile p = malloc(99); /* SITE_THREAD */
	memset(p, 1, 99);
	p = NULL;
}

TP_NOINLINE static void exit_deeper(void)
{
	exit(3); /* EXIT_CALL */
}

TP_NOINLINE static void exit_deep(void)
{
	exit_deeper();
	TP_NO_TAILCALL();
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int started;

static void *sleeper(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	started = 1;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "return";
	if (strcmp(mode, "exit") == 0) {
		leak_before_exit();
		exit_deep();
	} else if (strcmp(mode, "thread") == 0) {
		pthread_t t;
		pthread_create(&t, NULL, sleeper, NULL);
		pthread_mutex_lock(&mu);
		while (!started)
			pthread_cond_wait(&cv, &mu);
		pthread_mutex_unlock(&mu);
		leak_with_thread();
	} else {
		leak_on_return();
	}
	return 0;
}
