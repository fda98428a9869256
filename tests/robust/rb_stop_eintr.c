/* rb_stop_eintr.c - an on-demand or periodic leak check stops the
 * program's threads: a thread waiting in MODE must not see it (issue 24
 * item 7: nanosleep, poll, select, epoll_wait... returned EINTR, as the
 * stop signal's handler ran).  The thread waits in MODE (400 ms where the
 * call has a timeout); main waits until the kernel shows it blocked there
 * (/proc/self/task/TID/syscall), runs __lsan_do_recoverable_leak_check,
 * then wakes the calls without a timeout (writes the pipe or socket,
 * posts the semaphore, sends the message, SIGUSR2 for the signal waits),
 * and the thread prints "MODE RESULT": the count returned, or the errno's
 * name (EINTR if the stop showed through).
 *   rb_stop_eintr MODE [check|own|none]
 *     check  (default) the leak check, then the wake-up
 *     own    the program's own SIGUSR1 (SA_RESTART handler) sent to the
 *            waiting thread instead: the calls with a timeout say EINTR
 *     none   nothing (for leak_check_interval: the periodic check)
 *   rb_stop_eintr periodic SECONDS: every call with a timeout waits
 *            SECONDS in its own thread at once, one line each (sorted by
 *            the caller), for a run under leak_check_interval=1
 *   modes: nanosleep clock_nanosleep usleep poll epoll_wait select
 *          ppoll pselect epoll_pwait epoll_pwait2 sigtimedwait
 *          sigwaitinfo sigwait sigsuspend sem_wait sem_timedwait
 *          sem_clockwait msgrcv msgsnd semop semtimedop read recv accept
 *   rb_stop_eintr ownsig   nanosleep, the program's own SIGUSR1 sent to
 *                          the sleeping thread: "ownsig EINTR"
 *   rb_stop_eintr handler  the program has its own SIGUSR1 handler (and
 *                          sees it as it installed it), the leak check
 *                          interrupts nanosleep: "handler 0"
 *   rb_stop_eintr sigwaitall  the thread blocks every signal and waits
 *                          in sigtimedwait for all of them: the stop
 *                          signal is not handed to it ("sigwaitall EAGAIN")
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/select.h>
#include <sys/sem.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

struct job {
	const char *mode;
	long ms;
	atomic_int tid;
	char line[80];
};

static const char *mode;
static atomic_int usr1_hits, usr2_hits;
static int pfd[2], sfd[2], lfd, msq = -1, semid = -1;
static sem_t sem;
static pthread_t th;

static void on_usr1(int sig)
{
	(void)sig;
	atomic_fetch_add(&usr1_hits, 1);
}

static void on_usr2(int sig)
{
	(void)sig;
	atomic_fetch_add(&usr2_hits, 1);
}

static const char *ename(int e)
{
	switch (e) {
	case EINTR: return "EINTR";
	case EAGAIN: return "EAGAIN";
	case ETIMEDOUT: return "ETIMEDOUT";
	case ENOMSG: return "ENOMSG";
	case ENOSYS: return "ENOSYS";
	case EINVAL: return "EINVAL";
	default: return "E?";
	}
}

static struct timespec rel(long ms)
{
	return (struct timespec){ ms / 1000, ms % 1000 * 1000000 };
}

static struct timespec abs_in(clockid_t c, long ms)
{
	struct timespec t;
	clock_gettime(c, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += ms % 1000 * 1000000;
	if (t.tv_nsec >= 1000000000) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000;
	}
	return t;
}

struct msg {
	long type;
	char text[8];
};

/* the call of `m`; -1 with errno as it failed */
static long call(const char *m, long ms)
{
	struct timespec ts = rel(ms);
	struct timeval tv = { ms / 1000, ms % 1000 * 1000 };
	struct epoll_event ev;
	sigset_t set;
	char c;
	if (!strcmp(m, "nanosleep") || !strcmp(m, "ownsig") || !strcmp(m, "handler"))
		return nanosleep(&ts, NULL);
	if (!strcmp(m, "clock_nanosleep")) {
		int rc = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
		return rc ? (errno = rc, -1) : 0;
	}
	if (!strcmp(m, "usleep"))
		return usleep((useconds_t)ms * 1000);
	if (!strcmp(m, "poll"))
		return poll(NULL, 0, (int)ms);
	if (!strcmp(m, "ppoll")) {
		sigemptyset(&set);
		return ppoll(NULL, 0, &ts, &set);
	}
	if (!strcmp(m, "epoll_wait"))
		return epoll_wait(epoll_create1(0), &ev, 1, (int)ms);
	if (!strcmp(m, "epoll_pwait")) {
		sigemptyset(&set);
		return epoll_pwait(epoll_create1(0), &ev, 1, (int)ms, &set);
	}
	if (!strcmp(m, "epoll_pwait2")) {
		sigemptyset(&set);
		return epoll_pwait2(epoll_create1(0), &ev, 1, &ts, &set);
	}
	if (!strcmp(m, "select"))
		return select(0, NULL, NULL, NULL, &tv);
	if (!strcmp(m, "pselect")) {
		sigemptyset(&set);
		return pselect(0, NULL, NULL, NULL, &ts, &set);
	}
	if (!strcmp(m, "sigtimedwait") || !strcmp(m, "sigwaitall")) {
		/* SIGUSR2 is blocked in every thread (main did it) */
		if (!strcmp(m, "sigwaitall")) {
			sigfillset(&set);
			pthread_sigmask(SIG_BLOCK, &set, NULL);
		} else {
			sigemptyset(&set);
			sigaddset(&set, SIGUSR2);
		}
		long rc = sigtimedwait(&set, NULL, &ts);
		return rc == SIGUSR2 ? 0 : rc;
	}
	if (!strcmp(m, "sigwaitinfo")) {
		sigemptyset(&set);
		sigaddset(&set, SIGUSR2);
		long rc = sigwaitinfo(&set, NULL);
		return rc == SIGUSR2 ? 0 : rc;
	}
	if (!strcmp(m, "sigwait")) {
		int sig = 0;
		sigfillset(&set);
		pthread_sigmask(SIG_BLOCK, &set, NULL);
		int rc = sigwait(&set, &sig);
		return rc ? (errno = rc, -1) : sig == SIGUSR2 ? 0 : sig;
	}
	if (!strcmp(m, "sigsuspend")) {
		/* SIGUSR2 unblocked only inside: its handler ends the wait */
		sigprocmask(SIG_SETMASK, NULL, &set);
		sigdelset(&set, SIGUSR2);
		return sigsuspend(&set);
	}
	if (!strcmp(m, "sem_wait"))
		return sem_wait(&sem);
	if (!strcmp(m, "sem_timedwait")) {
		ts = abs_in(CLOCK_REALTIME, ms);
		return sem_timedwait(&sem, &ts);
	}
	if (!strcmp(m, "sem_clockwait")) {
		ts = abs_in(CLOCK_MONOTONIC, ms);
		return sem_clockwait(&sem, CLOCK_MONOTONIC, &ts);
	}
	if (!strcmp(m, "msgrcv")) {
		struct msg mb;
		return msgrcv(msq, &mb, sizeof mb.text, 0, 0);
	}
	if (!strcmp(m, "msgsnd")) {
		/* the queue was filled: this one waits for room */
		struct msg mb = { 1, "x" };
		return msgsnd(msq, &mb, 1, 0);
	}
	if (!strcmp(m, "semop")) {
		struct sembuf op = { 0, -1, 0 };
		return semop(semid, &op, 1);
	}
	if (!strcmp(m, "semtimedop")) {
		struct sembuf op = { 0, -1, 0 };
		return semtimedop(semid, &op, 1, &ts);
	}
	if (!strcmp(m, "read"))
		return read(pfd[0], &c, 1);
	if (!strcmp(m, "recv"))
		return recv(sfd[0], &c, 1, 0);
	if (!strcmp(m, "accept")) {
		int a = accept(lfd, NULL, NULL);
		return a < 0 ? -1 : 0;
	}
	errno = ENOSYS;
	return -1;
}

static void *waiter(void *arg)
{
	struct job *j = arg;
	atomic_store(&j->tid, (int)syscall(SYS_gettid));
	long rc = call(j->mode, j->ms);
	int e = errno;
	if (rc < 0)
		snprintf(j->line, sizeof j->line, "%s %s", j->mode, ename(e));
	else
		snprintf(j->line, sizeof j->line, "%s %ld", j->mode, rc);
	if (!strcmp(j->mode, "sigsuspend")) /* whose handler ended it */
		snprintf(j->line + strlen(j->line), sizeof j->line - strlen(j->line),
			 " usr1=%d usr2=%d", atomic_load(&usr1_hits),
			 atomic_load(&usr2_hits));
	return NULL;
}

/* blocked in a system call other than futex (the semaphore-free start),
 * or in futex for the semaphore modes */
static int blocked(int t, int futex_ok)
{
	char path[64], buf[64] = "";
	snprintf(path, sizeof path, "/proc/self/task/%d/syscall", t);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	int ok = fgets(buf, sizeof buf, f) != NULL;
	fclose(f);
	long nr = ok ? strtol(buf, NULL, 10) : -1;
	return ok && strncmp(buf, "running", 7) && (futex_ok || nr != SYS_futex) &&
	       nr >= 0;
}

static void setup(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr2;
	sigaction(SIGUSR2, &sa, NULL);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* inherited */
	if (pipe(pfd) || socketpair(AF_UNIX, SOCK_STREAM, 0, sfd) ||
	    sem_init(&sem, 0, 0))
		exit(3);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) || listen(lfd, 1))
		exit(3);
	if (!strcmp(mode, "msgrcv") || !strcmp(mode, "msgsnd")) {
		msq = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
		if (msq < 0)
			exit(3);
		struct msqid_ds ds;
		msgctl(msq, IPC_STAT, &ds);
		ds.msg_qbytes = 1;
		msgctl(msq, IPC_SET, &ds);
		struct msg mb = { 1, "x" };
		if (!strcmp(mode, "msgsnd"))
			msgsnd(msq, &mb, 1, IPC_NOWAIT); /* full */
	}
	if (!strcmp(mode, "semop") || !strcmp(mode, "semtimedop"))
		if ((semid = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600)) < 0)
			exit(3);
}

static struct sockaddr_in laddr(void)
{
	struct sockaddr_in a;
	socklen_t al = sizeof a;
	getsockname(lfd, (struct sockaddr *)&a, &al);
	return a;
}

/* what ends a call without a timeout */
static void wake(const char *m)
{
	if (!strcmp(m, "sigwaitinfo") || !strcmp(m, "sigwait") ||
	    !strcmp(m, "sigsuspend"))
		pthread_kill(th, SIGUSR2);
	else if (!strcmp(m, "sem_wait"))
		sem_post(&sem);
	else if (!strcmp(m, "read"))
		(void)!write(pfd[1], "x", 1);
	else if (!strcmp(m, "recv"))
		(void)!write(sfd[1], "x", 1);
	else if (!strcmp(m, "msgrcv")) {
		struct msg mb = { 1, "x" };
		msgsnd(msq, &mb, 1, 0);
	} else if (!strcmp(m, "msgsnd")) {
		struct msg mb;
		msgrcv(msq, &mb, sizeof mb.text, 0, 0);
	} else if (!strcmp(m, "semop")) {
		struct sembuf op = { 0, 1, 0 };
		semop(semid, &op, 1);
	} else if (!strcmp(m, "accept")) {
		struct sockaddr_in a = laddr();
		int c = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(c, (struct sockaddr *)&a, sizeof a))
			exit(4);
	}
}

static int periodic(long ms)
{
	static const char *timed[] = { "nanosleep", "clock_nanosleep", "usleep",
		"poll", "ppoll", "epoll_wait", "epoll_pwait", "epoll_pwait2",
		"select", "pselect", "sigtimedwait", "sem_timedwait",
		"sem_clockwait", "semtimedop" };
	enum { N = sizeof timed / sizeof timed[0] };
	static struct job jobs[N];
	pthread_t t[N];
	if ((semid = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600)) < 0)
		return 3;
	for (size_t i = 0; i < N; i++) {
		jobs[i].mode = timed[i];
		jobs[i].ms = ms;
		pthread_create(&t[i], NULL, waiter, &jobs[i]);
	}
	for (size_t i = 0; i < N; i++) {
		pthread_join(t[i], NULL);
		printf("%s\n", jobs[i].line);
	}
	semctl(semid, 0, IPC_RMID);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	mode = argv[1];
	const char *how = argc > 2 ? argv[2] : "check";
	setup();
	if (!strcmp(mode, "periodic"))
		return periodic(argc > 2 ? atol(argv[2]) * 1000 : 1500);
	if (!strcmp(mode, "ownsig") || !strcmp(mode, "handler") ||
	    !strcmp(how, "own") || !strcmp(mode, "sigsuspend")) {
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
	static struct job j;
	j.mode = mode;
	j.ms = 400;
	int futex_ok = !strncmp(mode, "sem_", 4);
	pthread_create(&th, NULL, waiter, &j);
	while (!atomic_load(&j.tid) || !blocked(atomic_load(&j.tid), futex_ok))
		sched_yield();
	if (!strcmp(mode, "ownsig") || !strcmp(how, "own"))
		pthread_kill(th, SIGUSR1);
	else if (!strcmp(how, "check") && __lsan_do_recoverable_leak_check)
		__lsan_do_recoverable_leak_check();
	wake(mode);
	pthread_join(th, NULL);
	printf("%s\n", j.line);
	if (msq >= 0)
		msgctl(msq, IPC_RMID, NULL);
	if (semid >= 0)
		semctl(semid, 0, IPC_RMID);
	return 0;
}
