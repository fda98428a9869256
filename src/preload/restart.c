/* restart.c - the program's sleeps and waits do not see the library's
 * signals.  A leak check stops every other thread with a signal whose
 * handler parks it (leak/threads.c); a thread blocked in nanosleep, poll,
 * epoll_wait, select or pause returns EINTR when any handler has run,
 * SA_RESTART or not.  These shims call the real function again for the
 * time that is left when the EINTR came from our handlers only: this
 * thread's count of them moved, and the count of the program's handlers
 * (longrun.c runs each through a counting trampoline) did not: an EINTR
 * of the program's own signal is given back.
 *
 * What is not covered: handlers installed before the library started or
 * through the raw system call (then no EINTR is hidden), and the calls
 * not shimmed here (ppoll, pselect, epoll_pwait2, sigsuspend, sigtimedwait,
 * sem_wait and sem_timedwait, msgrcv, semop, read on a socket with
 * SO_RCVTIMEO, io_getevents...).  The full fix stops threads without a
 * handler in them: a tracer task that ptrace-attaches them, as LSan's
 * StopTheWorld does (see docs/hardening.md).
 */
#define _GNU_SOURCE
#include "longrun.h"
#include "reent.h"
#include "threads.h"

#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#define SHIM __attribute__((visibility("default"), noinline))

static void *next(const char *name)
{
	_mp_enter(); /* dlsym may allocate */
	void *f = dlsym(RTLD_NEXT, name);
	_mp_leave();
	return f;
}

#define REAL(name)                                              \
	static __typeof__(&name) real_##name;                   \
	if (!real_##name)                                       \
		real_##name = (__typeof__(&name))next(#name);   \
	if (!real_##name) {                                     \
		errno = ENOSYS;                                 \
		return -1;                                      \
	}

/* EINTR, and only the library's handlers ran since `hits` was read:
 * ours moved and the program's did not (those it installed before the
 * library started are not counted: then never) */
struct hits {
	unsigned ours, prog;
};

static struct hits hits_now(void)
{
	return (struct hits){ _mp_threads_our_hits(), _mp_longrun_program_hits() };
}

static int ours_only(struct hits h)
{
	return errno == EINTR && _mp_threads_our_hits() != h.ours &&
	       _mp_longrun_program_hits() == h.prog &&
	       !_mp_longrun_program_catches();
}

static long long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

SHIM int nanosleep(const struct timespec *req, struct timespec *rem)
{
	REAL(nanosleep);
	struct timespec want = req ? *req : (struct timespec){ 0, 0 }, left;
	for (;;) {
		struct hits hits = hits_now();
		int rc = real_nanosleep(req ? &want : NULL, &left);
		if (rc == 0 || !ours_only(hits)) {
			if (rc != 0 && rem && errno == EINTR)
				*rem = left;
			return rc;
		}
		want = left;
	}
}

SHIM int clock_nanosleep(clockid_t clk, int flags, const struct timespec *req,
			 struct timespec *rem)
{
	static int (*real_cn)(clockid_t, int, const struct timespec *,
			      struct timespec *);
	if (!real_cn)
		real_cn = (int (*)(clockid_t, int, const struct timespec *,
				   struct timespec *))next("clock_nanosleep");
	if (!real_cn)
		return ENOSYS;
	struct timespec want = req ? *req : (struct timespec){ 0, 0 }, left;
	for (;;) {
		struct hits hits = hits_now();
		int rc = real_cn(clk, flags, req ? &want : NULL, &left);
		errno = rc; /* ours_only reads it; clock_nanosleep keeps errno */
		if (rc == 0 || !ours_only(hits)) {
			if (rc == EINTR && rem && !(flags & TIMER_ABSTIME))
				*rem = left;
			return rc;
		}
		if (!(flags & TIMER_ABSTIME))
			want = left;
	}
}

/* glibc's usleep and sleep call its nanosleep internally, not ours */
SHIM int usleep(useconds_t us)
{
	struct timespec ts = { (time_t)(us / 1000000), (long)(us % 1000000) * 1000 };
	return nanosleep(&ts, NULL);
}

SHIM unsigned int sleep(unsigned int s)
{
	struct timespec ts = { (time_t)s, 0 }, rem;
	if (nanosleep(&ts, &rem) == 0)
		return 0;
	/* as glibc: the seconds left, rounded to the nearest */
	return (unsigned)rem.tv_sec + (rem.tv_nsec >= 500000000L);
}

/* The timeout left of `ms` since `t0`, for a call made again; -1 stays. */
static int left_ms(int ms, long long t0)
{
	if (ms <= 0)
		return ms;
	long long left = (long long)ms - (now_ms() - t0);
	return left > 0 ? (int)left : 0;
}

SHIM int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	REAL(poll);
	long long t0 = timeout > 0 ? now_ms() : 0;
	for (;;) {
		struct hits hits = hits_now();
		int rc = real_poll(fds, n, left_ms(timeout, t0));
		if (rc >= 0 || !ours_only(hits))
			return rc;
	}
}

SHIM int epoll_wait(int ep, struct epoll_event *ev, int max, int timeout)
{
	REAL(epoll_wait);
	long long t0 = timeout > 0 ? now_ms() : 0;
	for (;;) {
		struct hits hits = hits_now();
		int rc = real_epoll_wait(ep, ev, max, left_ms(timeout, t0));
		if (rc >= 0 || !ours_only(hits))
			return rc;
	}
}

/* Linux writes the time left into *tv, and leaves the sets alone when it
 * fails (EINTR): calling again with them goes on where it was */
SHIM int select(int n, fd_set *r, fd_set *w, fd_set *x, struct timeval *tv)
{
	REAL(select);
	for (;;) {
		struct hits hits = hits_now();
		int rc = real_select(n, r, w, x, tv);
		if (rc >= 0 || !ours_only(hits))
			return rc;
	}
}

SHIM int pause(void)
{
	REAL(pause);
	for (;;) {
		struct hits hits = hits_now();
		int rc = real_pause();
		if (!ours_only(hits))
			return rc;
	}
}
