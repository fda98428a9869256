/* lk_tls.c - blocks held only by a __thread variable: 72 bytes by the main
 * thread's, 88 bytes by a second thread's (still blocked when main
 * returns).  Both still reachable. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "tprog.h"

static __thread void *volatile tls_keep;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready_cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t never_cv = PTHREAD_COND_INITIALIZER;
static int ready;

TP_NOINLINE static void keep_in_tls(size_t n)
{
	char *volatile p = malloc(n); /* TLS_SITE */
	memset(p, 1, n);
	tls_keep = p;
	p = NULL;
}

static void *holder(void *arg)
{
	(void)arg;
	keep_in_tls(88);
	pthread_mutex_lock(&mu);
	ready = 1;
	pthread_cond_signal(&ready_cv);
	for (;;)
		pthread_cond_wait(&never_cv, &mu);
	return NULL;
}

int main(void)
{
	tp_anchor();
	keep_in_tls(72);
	pthread_t t;
	if (pthread_create(&t, NULL, holder, NULL) != 0)
		return 2;
	pthread_mutex_lock(&mu);
	while (!ready)
		pthread_cond_wait(&ready_cv, &mu);
	pthread_mutex_unlock(&mu);
	return 0;
}
