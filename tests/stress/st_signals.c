/* st_signals.c - signals delivered while the program is inside malloc.
 *
 *   st_signals alarm     [SECONDS=3]
 *   st_signals usr1      [SECONDS=3]
 *   st_signals usr1-safe [SECONDS=3]
 *
 * alarm: a setitimer(ITIMER_REAL) SIGALRM every 100 us, whose handler only
 *   counts (it never allocates), interrupts a main loop of malloc, realloc
 *   and free; every block's pattern is checked.  Correct programs do this.
 * usr1: a second thread sends SIGUSR1 to the main thread every ~50 us; the
 *   handler itself calls malloc and free while the main loop allocates.
 *   malloc is not async-signal-safe, in glibc no more than in libmpwrap, so
 *   this program is wrong by POSIX: a handler that interrupts the allocator
 *   while it holds one of its locks may deadlock.  The test only asks that
 *   the process ends within its timeout with no crash and no error report;
 *   a hang is reported as such (docs/hardening.md).
 * usr1-safe: the same, but the main loop raises a flag around each of its
 *   allocator calls and the handler allocates only when the flag is down,
 *   i.e. never while the interrupted thread is inside malloc/free.  The
 *   handler's malloc then must work, stack capture unwinding through the
 *   signal frame included: no deadlock allowed.
 * Nothing is kept: at exit the program holds no block of its own.
 */
#include "stress.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/time.h>
#include <errno.h>

static volatile sig_atomic_t alarms, usr1s, handler_bad, in_alloc, skipped;
static int safe_mode;
static atomic_int stop;
static pthread_t main_thread;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static void on_usr1(int sig)
{
	(void)sig;
	if (safe_mode && in_alloc) {
		skipped++;
		return;
	}
	int saved = errno;
	size_t n = (size_t)(usr1s % 7) * 40 + 1;
	unsigned char *p = malloc(n);
	if (p) {
		memset(p, 0x5a, n);
		if (p[n - 1] != 0x5a)
			handler_bad = 1;
		free(p);
	} else {
		handler_bad = 1;
	}
	usr1s++;
	errno = saved;
}

static void *sender(void *arg)
{
	(void)arg;
	struct timespec ts = { 0, 50000 };
	while (!atomic_load(&stop)) {
		pthread_kill(main_thread, SIGUSR1);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "alarm";
	double secs = (double)st_arg(argc, argv, 2, 3);
	int usr1 = strncmp(mode, "usr1", 4) == 0;
	safe_mode = strcmp(mode, "usr1-safe") == 0;
	struct sigaction sa;
	pthread_t t;
	memset(&sa, 0, sizeof sa);
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = usr1 ? on_usr1 : on_alarm;
	if (sigaction(usr1 ? SIGUSR1 : SIGALRM, &sa, NULL) != 0)
		return 2;
	main_thread = pthread_self();
	if (usr1) {
		if (pthread_create(&t, NULL, sender, NULL) != 0)
			return 2;
	} else {
		struct itimerval it = { { 0, 100 }, { 0, 100 } };
		setitimer(ITIMER_REAL, &it, NULL);
	}

	uint64_t rng = 42;
	unsigned char *w[64] = { 0 };
	size_t n[64];
	long ops = 0, bad = 0;
	double t0 = st_now();
	while (st_now() - t0 < secs) {
		for (int i = 0; i < 1000; i++, ops++) {
			uint64_t x = st_rand(&rng);
			int k = (int)(x % 64);
			if (!w[k]) {
				n[k] = st_size(&rng);
				in_alloc = 1;
				w[k] = malloc(n[k]);
				in_alloc = 0;
				if (!w[k]) {
					bad++;
					continue;
				}
				st_fill(w[k], n[k], (uintptr_t)k);
			} else if (x & 0x100) {
				size_t m = st_size(&rng) + 1;
				if (!st_check(w[k], n[k], (uintptr_t)k))
					bad++;
				in_alloc = 1;
				unsigned char *q = realloc(w[k], m);
				in_alloc = 0;
				if (!q) {
					bad++;
					continue;
				}
				w[k] = q;
				n[k] = m;
				st_fill(q, m, (uintptr_t)k);
			} else {
				if (!st_check(w[k], n[k], (uintptr_t)k))
					bad++;
				in_alloc = 1;
				free(w[k]);
				in_alloc = 0;
				w[k] = NULL;
			}
		}
	}
	double dt = st_now() - t0;
	if (usr1) {
		atomic_store(&stop, 1);
		pthread_join(t, NULL);
	} else {
		struct itimerval off = { { 0, 0 }, { 0, 0 } };
		setitimer(ITIMER_REAL, &off, NULL);
	}
	for (int k = 0; k < 64; k++)
		free(w[k]);
	printf("# mode=%s ops=%ld signals=%ld skipped=%ld bad=%ld handler_bad=%d "
	       "keep=0 seconds=%.2f\n", mode, ops,
	       usr1 ? (long)usr1s : (long)alarms, (long)skipped, bad,
	       (int)handler_bad, dt);
	if (bad || handler_bad || (usr1 ? usr1s : alarms) == 0) {
		printf("# FAIL %ld corrupted blocks, handler_bad=%d, %ld signals\n",
		       bad, (int)handler_bad, usr1 ? (long)usr1s : (long)alarms);
		return 1;
	}
	return 0;
}
