/* st_thread_exit.c - threads that exit while holding blocks.
 *
 *   st_thread_exit [ROUNDS=50] [THREADS=16] [BLOCKS=200]
 *
 * Each round starts THREADS threads (every fourth one detached); each
 * allocates BLOCKS blocks, fills them, publishes them in a shared table and
 * exits without freeing them, through return, pthread_exit() or, for the
 * detached ones, after signalling a semaphore.  Each thread also owns a
 * pthread key whose destructor frees one more block during thread teardown.
 * The main thread then checks every published block and frees it.  Nothing
 * is kept: at exit the program holds no block of its own.
 */
#include "stress.h"

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>

struct pub {
	unsigned char *p;
	size_t n;
};

static struct pub *table;
static int nthreads, nblocks;
static pthread_key_t key;
static sem_t done;
static atomic_long key_frees;

static void key_dtor(void *p)
{
	free(p);
	key_frees++;
}

static void *worker(void *arg)
{
	long id = (long)(uintptr_t)arg;
	uint64_t rng = (uint64_t)id * 2654435761u + 1;
	struct pub *mine = &table[(size_t)(id % nthreads) * (size_t)nblocks];
	pthread_setspecific(key, malloc(64));
	for (int i = 0; i < nblocks; i++) {
		size_t n = st_size(&rng);
		unsigned char *p = malloc(n);
		if (p)
			st_fill(p, n, (uintptr_t)(id * 100000 + i));
		mine[i] = (struct pub){ p, n };
	}
	if (id % 4 == 3) { /* detached: tell main we published, then leave */
		sem_post(&done);
		return NULL;
	}
	if (id % 2)
		pthread_exit(NULL);
	return NULL;
}

int main(int argc, char **argv)
{
	long rounds = st_arg(argc, argv, 1, 50);
	nthreads = (int)st_arg(argc, argv, 2, 16);
	nblocks = (int)st_arg(argc, argv, 3, 200);
	long bad = 0, nulls = 0, freed = 0, threads_run = 0;
	table = calloc((size_t)nthreads * (size_t)nblocks, sizeof *table);
	pthread_t *t = calloc((size_t)nthreads, sizeof *t);
	if (!table || !t || pthread_key_create(&key, key_dtor) != 0 ||
	    sem_init(&done, 0, 0) != 0)
		return 2;
	double t0 = st_now();
	for (long r = 0; r < rounds; r++) {
		int detached = 0;
		for (int i = 0; i < nthreads; i++) {
			long id = r * nthreads + i;
			pthread_attr_t a;
			pthread_attr_init(&a);
			if (id % 4 == 3) {
				pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
				detached++;
			}
			if (pthread_create(&t[i], &a, worker, (void *)(uintptr_t)id) != 0) {
				printf("# FAIL pthread_create\n");
				return 1;
			}
			pthread_attr_destroy(&a);
			threads_run++;
		}
		for (int i = 0; i < nthreads; i++)
			if ((r * nthreads + i) % 4 != 3)
				pthread_join(t[i], NULL);
		for (int i = 0; i < detached; i++)
			sem_wait(&done);
		for (int i = 0; i < nthreads; i++)
			for (int k = 0; k < nblocks; k++) {
				struct pub *b = &table[(size_t)i * (size_t)nblocks + (size_t)k];
				long id = r * nthreads + i;
				if (!b->p) {
					nulls++;
					continue;
				}
				if (!st_check(b->p, b->n, (uintptr_t)(id * 100000 + k)))
					bad++;
				free(b->p);
				b->p = NULL;
				freed++;
			}
	}
	/* the last detached threads may still be tearing down: wait for their
	 * key destructors (bounded) */
	for (int i = 0; i < 2000 && key_frees < threads_run; i++)
		usleep(1000);
	free(table);
	free(t);
	printf("# rounds=%ld threads=%ld blocks_freed_by_main=%ld key_frees=%ld "
	       "bad=%ld null=%ld keep=0 seconds=%.2f\n", rounds, threads_run, freed,
	       (long)key_frees, bad, nulls, st_now() - t0);
	if (bad || nulls || key_frees != threads_run) {
		printf("# FAIL bad=%ld null=%ld key_frees=%ld of %ld\n", bad, nulls,
		       (long)key_frees, threads_run);
		return 1;
	}
	return 0;
}
