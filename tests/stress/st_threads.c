/* st_threads.c - malloc/calloc/realloc/free storms from many threads.
 *
 *   st_threads [THREADS=64] [OPS_PER_THREAD=20000]
 *
 * Each thread keeps a window of up to 64 live blocks (sizes 0..8 KiB, some
 * large ones up to 68 KiB) and picks one random operation at a time: malloc,
 * calloc (checked zeroed), realloc (prefix checked), free (pattern checked),
 * malloc_usable_size (== requested size under libmpwrap).  All threads start
 * together behind a barrier; at the end every block is freed.  Nothing is
 * kept: at exit the program holds no block of its own.
 */
#include "stress.h"

#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>

#define WINDOW 64

struct slot {
	unsigned char *p;
	size_t n;
	uintptr_t seed;
};

static long ops_per_thread;
static pthread_barrier_t start;
static atomic_long n_malloc, n_calloc, n_realloc, n_free, n_bad, n_null;

static void *worker(void *arg)
{
	uint64_t rng = 0x9E3779B97F4A7C15ULL ^ ((uintptr_t)arg * 0x100000001b3ULL);
	struct slot w[WINDOW] = { { 0 } };
	long m = 0, c = 0, r = 0, f = 0, bad = 0, null = 0;
	pthread_barrier_wait(&start);
	for (long i = 0; i < ops_per_thread; i++) {
		uint64_t x = st_rand(&rng);
		struct slot *s = &w[x % WINDOW];
		unsigned op = (unsigned)(x >> 8) % 8;
		if (!s->p) {
			size_t n = st_size(&rng);
			s->seed = (uintptr_t)x;
			if (op < 2) {
				s->p = calloc(1, n);
				c++;
				for (size_t k = 0; s->p && k < n; k++)
					if (s->p[k]) {
						bad++;
						break;
					}
			} else {
				s->p = malloc(n);
				m++;
			}
			if (!s->p) {
				null++;
				continue;
			}
			s->n = n;
			st_fill(s->p, n, s->seed);
		} else if (op < 3) {
			size_t n = st_size(&rng);
			if (!st_check(s->p, s->n, s->seed))
				bad++;
			unsigned char *q = realloc(s->p, n ? n : 1);
			r++;
			if (!q) {
				null++;
				continue;
			}
			if (!st_check_head(q, s->n < n ? s->n : n, s->seed))
				bad++;
			s->p = q;
			s->n = n ? n : 1;
			st_fill(q, s->n, s->seed);
		} else if (op == 3) {
			if (malloc_usable_size(s->p) != s->n)
				bad++;
		} else {
			if (!st_check(s->p, s->n, s->seed))
				bad++;
			free(s->p);
			f++;
			s->p = NULL;
		}
	}
	for (int k = 0; k < WINDOW; k++)
		if (w[k].p) {
			if (!st_check(w[k].p, w[k].n, w[k].seed))
				bad++;
			free(w[k].p);
			f++;
		}
	n_malloc += m;
	n_calloc += c;
	n_realloc += r;
	n_free += f;
	n_bad += bad;
	n_null += null;
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = (int)st_arg(argc, argv, 1, 64);
	ops_per_thread = st_arg(argc, argv, 2, 20000);
	pthread_t *t = calloc((size_t)threads, sizeof *t);
	if (!t || pthread_barrier_init(&start, NULL, (unsigned)threads) != 0)
		return 2;
	double t0 = st_now();
	for (int i = 0; i < threads; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(i + 1)) != 0) {
			printf("# FAIL pthread_create %d\n", i);
			return 1;
		}
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	double secs = st_now() - t0;
	free(t);
	printf("# threads=%d ops=%ld malloc=%ld calloc=%ld realloc=%ld free=%ld "
	       "bad=%ld null=%ld keep=0 seconds=%.2f\n", threads,
	       (long)threads * ops_per_thread, (long)n_malloc, (long)n_calloc,
	       (long)n_realloc, (long)n_free, (long)n_bad, (long)n_null, secs);
	if (n_bad || n_null) {
		printf("# FAIL %ld corrupted blocks, %ld failed allocations\n",
		       (long)n_bad, (long)n_null);
		return 1;
	}
	return 0;
}
