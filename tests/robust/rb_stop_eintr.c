/* rb_stop_eintr.c - an on-demand leak check stops the program's threads:
 * a thread asleep in MODE must not see it (issue 24 item 7: nanosleep,
 * poll, select, epoll_wait returned EINTR, as the stop signal's handler
 * ran).  The thread sleeps 400 ms in MODE; main waits until the kernel
 * shows it blocked there (/proc/self/task/TID/syscall), runs
 * __lsan_do_recoverable_leak_check, and the thread prints what MODE
 * returned: "MODE 0" (or a count) when undisturbed, "MODE EINTR" if not.
 *   rb_stop_eintr nanosleep|clock_nanosleep|usleep|poll|epoll_wait|select
 *   rb_stop_eintr ownsig   the program's own SIGUSR1 handler, and SIGUSR1
 *                          sent to the sleeping thread: "ownsig EINTR"
 *   rb_stop_eintr handler  the program has its own SIGUSR1 handler (and
 *                          sees it as it installed it), the leak check
 *                          interrupts nanosleep: "handler 0"
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

static const char *mode;
static atomic_int tid;

static void on_usr1(int sig)
{
	(void)sig;
}

static void *sleeper(void *arg)
{
	(void)arg;
	long rc;
	atomic_store(&tid, (int)syscall(SYS_gettid));
	if (!strcmp(mode, "nanosleep") || !strcmp(mode, "ownsig") ||
	    !strcmp(mode, "handler")) {
		struct timespec ts = { 0, 400000000 };
		rc = nanosleep(&ts, NULL);
	} else if (!strcmp(mode, "clock_nanosleep")) {
		struct timespec ts = { 0, 400000000 };
		rc = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
		if (rc)
			errno = (int)rc, rc = -1;
	} else if (!strcmp(mode, "usleep")) {
		rc = usleep(400000);
	} else if (!strcmp(mode, "poll")) {
		rc = poll(NULL, 0, 400);
	} else if (!strcmp(mode, "epoll_wait")) {
		struct epoll_event ev;
		int ep = epoll_create1(0);
		rc = epoll_wait(ep, &ev, 1, 400);
	} else if (!strcmp(mode, "select")) {
		struct timeval tv = { 0, 400000 };
		rc = select(0, NULL, NULL, NULL, &tv);
	} else {
		return NULL;
	}
	if (rc < 0 && errno == EINTR)
		printf("%s EINTR\n", mode);
	else
		printf("%s %ld\n", mode, rc);
	return NULL;
}

/* blocked in a system call other than futex (the semaphore-free start) */
static int blocked(int t)
{
	char path[64], buf[64] = "";
	snprintf(path, sizeof path, "/proc/self/task/%d/syscall", t);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	int ok = fgets(buf, sizeof buf, f) != NULL;
	fclose(f);
	long nr = ok ? strtol(buf, NULL, 10) : -1;
	return ok && strncmp(buf, "running", 7) && nr != SYS_futex && nr >= 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	mode = argv[1];
	pthread_t th;
	if (!strcmp(mode, "ownsig") || !strcmp(mode, "handler")) {
		struct sigaction sa, old;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_usr1;
		sa.sa_flags = SA_RESTART;
		sigaction(SIGUSR1, &sa, NULL);
		sigaction(SIGUSR1, NULL, &old);
		if (old.sa_handler != on_usr1 || (old.sa_flags & SA_SIGINFO) ||
		    !(old.sa_flags & SA_RESTART))
			printf("the program does not see its own handler\n");
	}
	pthread_create(&th, NULL, sleeper, NULL);
	while (!atomic_load(&tid) || !blocked(atomic_load(&tid)))
		sched_yield();
	if (!strcmp(mode, "ownsig"))
		pthread_kill(th, SIGUSR1);
	else if (__lsan_do_recoverable_leak_check)
		__lsan_do_recoverable_leak_check();
	pthread_join(th, NULL);
	return 0;
}
