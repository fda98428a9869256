/* lk_tsd.c - a 40-byte block held only as a pthread_setspecific() value of
 * the main thread: still reachable.
 *   few   one key: the value sits in the thread descriptor itself
 *   many  40 keys created before the first malloc, the value stored under
 *         the last one: glibc keeps values of keys >= 32 in a second-level
 *         array it callocs on the first pthread_setspecific in that range */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "tprog.h"

static pthread_key_t key;

TP_NOINLINE static void keep_in_tsd(void)
{
	char *volatile p = malloc(40); /* TSD_SITE */
	memset(p, 1, 40);
	pthread_setspecific(key, p);
	p = NULL;
}

int main(int argc, char **argv)
{
	int nkeys = argc > 1 && strcmp(argv[1], "many") == 0 ? 40 : 1;
	for (int i = 0; i < nkeys; i++)
		if (pthread_key_create(&key, NULL) != 0)
			return 2;
	tp_anchor();
	keep_in_tsd();
	return 0;
}
