/* ar_threads300.c - 300 live threads when main calls exit.  Each holds the
 * only pointer to one block in a live local variable (still reachable) and
 * left the only pointer to another in a dead frame below its stack pointer
 * (definitely lost, as memcheck says: the scan reads a stack from its
 * pointer up).  The scan once stopped and read 256 threads at most while
 * the registry holds 8,192: the stacks of the others were read whole as
 * anonymous memory, dead frames included. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NTHREADS 300
#define BLOCK 24
#define LOST 40

static pthread_barrier_t ready;
static pthread_mutex_t never = PTHREAD_MUTEX_INITIALIZER;

/* The pointer sits deep in this frame: the calls made after it returns
 * (barrier, mutex) use far less stack than DEAD_DEPTH bytes. */
#define DEAD_DEPTH 4096
__attribute__((noinline)) static void lose_in_dead_frame(void)
{
	void *volatile slots[DEAD_DEPTH / sizeof(void *)];
	slots[0] = malloc(LOST);
	memset(slots[0], 1, LOST);
}

static void *hold(void *arg)
{
	lose_in_dead_frame();
	char *volatile mine = malloc(BLOCK);
	memset(mine, (int)(long)arg, BLOCK);
	pthread_barrier_wait(&ready);
	pthread_mutex_lock(&never); /* held by main: parks here for good */
	return (void *)mine;
}

int main(void)
{
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	pthread_barrier_init(&ready, NULL, NTHREADS + 1);
	pthread_mutex_lock(&never);
	for (long i = 0; i < NTHREADS; i++) {
		pthread_t t;
		if (pthread_create(&t, &attr, hold, (void *)i) != 0) {
			perror("pthread_create");
			return 2;
		}
	}
	pthread_barrier_wait(&ready);
	printf("%d threads hold their blocks\n", NTHREADS);
	fflush(stdout);
	exit(0);
}
