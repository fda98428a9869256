/* st_fork.c - fork() while other threads allocate.
 *
 *   st_fork [CHILDREN=40] [THREADS=8] [CHILD_TIMEOUT_S=20]
 *
 * THREADS threads run malloc/realloc/free storms for the whole run; the main
 * thread forks CHILDREN times, one child at a time.  Each child (a copy of
 * whatever the allocator's locks and lists were at fork time) allocates,
 * checks and frees 2000 blocks of its own, also from 4 threads of its own,
 * and leaves with exit(0), so the library's exit report (and JSON file) runs
 * in the child too.  The parent waits for each child up to CHILD_TIMEOUT_S
 * seconds; a child still running then is a hang (killed, counted, failure).
 * Nothing is kept: at exit the program holds no block of its own.
 */
#include "stress.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>

static atomic_int stop;
static atomic_long thread_ops, bad;

static void *storm(void *arg)
{
	uint64_t rng = 0xabcdef12345ULL + (uintptr_t)arg * 7919;
	unsigned char *w[32] = { 0 };
	size_t n[32];
	long ops = 0;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint64_t x = st_rand(&rng);
		int k = (int)(x % 32);
		if (w[k]) {
			if (!st_check(w[k], n[k], (uintptr_t)k))
				bad++;
			if (x & 0x100) {
				free(w[k]);
				w[k] = NULL;
			} else {
				size_t m = st_size(&rng) + 1;
				unsigned char *q = realloc(w[k], m);
				if (!q) {
					bad++;
					continue;
				}
				if (!st_check_head(q, n[k] < m ? n[k] : m, (uintptr_t)k))
					bad++;
				w[k] = q;
				n[k] = m;
				st_fill(q, m, (uintptr_t)k);
			}
		} else {
			n[k] = st_size(&rng);
			w[k] = malloc(n[k]);
			if (!w[k]) {
				bad++;
				continue;
			}
			st_fill(w[k], n[k], (uintptr_t)k);
		}
		ops++;
	}
	for (int k = 0; k < 32; k++)
		free(w[k]);
	thread_ops += ops;
	return NULL;
}

static void *child_thread(void *arg)
{
	uint64_t rng = (uintptr_t)arg * 31 + 1;
	long local_bad = 0;
	for (int i = 0; i < 500; i++) {
		size_t m = st_size(&rng);
		unsigned char *p = malloc(m);
		if (!p)
			return (void *)1;
		st_fill(p, m, (uintptr_t)i);
		if (!st_check(p, m, (uintptr_t)i))
			local_bad++;
		free(p);
	}
	return (void *)local_bad;
}

/* What a child does: its own allocations, from the main thread and from
 * 4 new threads, then exit() with the library's report. */
static void child(int i)
{
	uint64_t rng = (uint64_t)i * 1000003 + 17;
	unsigned char *p[500];
	size_t n[500];
	int fails = 0;
	for (int k = 0; k < 500; k++) {
		n[k] = st_size(&rng);
		p[k] = malloc(n[k]);
		if (!p[k])
			_exit(3);
		st_fill(p[k], n[k], (uintptr_t)k);
	}
	pthread_t t[4];
	for (int k = 0; k < 4; k++)
		if (pthread_create(&t[k], NULL, child_thread, (void *)(uintptr_t)k) != 0)
			fails++;
	for (int k = 0; k < 4 && !fails; k++) {
		void *r;
		pthread_join(t[k], &r);
		fails += r != NULL;
	}
	for (int k = 0; k < 500; k++) {
		if (!st_check(p[k], n[k], (uintptr_t)k))
			fails++;
		free(p[k]);
	}
	exit(fails ? 4 : 0);
}

int main(int argc, char **argv)
{
	int children = (int)st_arg(argc, argv, 1, 40);
	int threads = (int)st_arg(argc, argv, 2, 8);
	double limit = (double)st_arg(argc, argv, 3, 20);
	pthread_t t[256];
	int hangs = 0, failed = 0;
	double worst = 0;
	if (threads > 256)
		threads = 256;
	setvbuf(stdout, NULL, _IONBF, 0);
	double t0 = st_now();
	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, storm, (void *)(uintptr_t)i);
	for (int i = 0; i < children; i++) {
		double c0 = st_now();
		pid_t pid = fork();
		if (pid < 0) {
			printf("# FAIL fork: %d\n", i);
			failed++;
			break;
		}
		if (pid == 0)
			child(i);
		int status = 0;
		for (;;) {
			pid_t w = waitpid(pid, &status, WNOHANG);
			if (w == pid)
				break;
			if (st_now() - c0 > limit) {
				kill(pid, SIGKILL);
				waitpid(pid, &status, 0);
				hangs++;
				printf("# FAIL child %d (pid %d) still running after %.0f s: "
				       "killed\n", i, (int)pid, limit);
				break;
			}
			usleep(1000);
		}
		double dt = st_now() - c0;
		if (dt > worst)
			worst = dt;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL)
				printf("# FAIL child %d killed by signal %d\n", i,
				       WTERMSIG(status));
			else if (WIFEXITED(status))
				printf("# FAIL child %d exit status %d\n", i,
				       WEXITSTATUS(status));
			failed++;
		}
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	printf("# pid=%d children=%d threads=%d thread_ops=%ld hangs=%d failed=%d "
	       "bad=%ld slowest_child=%.2f keep=0 seconds=%.2f\n", (int)getpid(),
	       children, threads, (long)thread_ops, hangs, failed, (long)bad, worst,
	       st_now() - t0);
	return hangs || failed || bad ? 1 : 0;
}
