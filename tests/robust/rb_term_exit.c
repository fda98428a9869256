/* rb_term_exit.c - SIGTERM arrives while the library writes its exit
 * report (issue 24 item 4: the JSON and the program's buffered stdout were
 * lost, status 143).  The program's __lsan_is_turned_off, which the exit
 * report calls, sends it, so it lands inside the report every time:
 *   rb_term_exit self     kill(getpid(), SIGTERM) on the reporting thread
 *   rb_term_exit thread   another thread of the program takes it
 * Either way the report must be whole, stdout flushed, and the process
 * then dies of SIGTERM (143) as it was asked to.
 */
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void *volatile keep;
static int mode_thread;
static sem_t go, sent;

__attribute__((noinline)) static void leaky_site(void)
{
	char *p = malloc(40);
	strcpy(p, "leaked");
	keep = p;
	keep = NULL;
}

static void *helper(void *arg)
{
	(void)arg;
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGTERM);
	pthread_sigmask(SIG_UNBLOCK, &s, NULL);
	sem_wait(&go);
	pthread_kill(pthread_self(), SIGTERM);
	sem_post(&sent);
	for (;;)
		pause();
	return NULL;
}

int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
	static int once;
	if (once++)
		return 0;
	if (!mode_thread) {
		kill(getpid(), SIGTERM);
		return 0;
	}
	sem_post(&go);
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += 5; /* the helper's handler returns at once, or never */
	sem_timedwait(&sent, &t);
	return 0;
}

int main(int argc, char **argv)
{
	mode_thread = argc > 1 && !strcmp(argv[1], "thread");
	leaky_site();
	if (mode_thread) {
		pthread_t t;
		sigset_t s;
		sem_init(&go, 0, 0);
		sem_init(&sent, 0, 0);
		pthread_create(&t, NULL, helper, NULL);
		/* main itself blocks SIGTERM: only the helper takes it */
		sigemptyset(&s);
		sigaddset(&s, SIGTERM);
		pthread_sigmask(SIG_BLOCK, &s, NULL);
	}
	printf("buffered stdout\n"); /* a file: flushed by exit, not now */
	return 0;
}
