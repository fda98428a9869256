/* restart.c - the program's sleeps and waits do not see the library's
 * signals.  A leak check stops every other thread with a signal whose
 * handler parks it (leak/threads.c); a thread blocked in nanosleep, poll,
 * epoll_wait, select or pause returns EINTR when any handler has run,
 * SA_RESTART or not.  These shims call the real function again for the
 * time that is left when the EINTR came from our handlers only: this
 * thread's count of them moved, and the count of the program's handlers
 * (longrun.c runs each through a counting trampoline) did not: an EINTR
 * of the program's own signal is given back.  The same for ppoll,
 * pselect, epoll_pwait(2), sigtimedwait, sigwaitinfo, sigsuspend,
 * sem_timedwait, sem_clockwait, msgrcv, msgsnd, semop and semtimedop;
 * the signal waits also never hand the stop signal to the program.
 * read, write, recv, send, accept, connect, wait, flock, sem_wait... need
 * no shim: the kernel restarts them, as our handlers have SA_RESTART.
 *
 * What is not covered: handlers installed before the library started or
 * through the raw system call (then no EINTR is hidden), and the calls
 * not shimmed here (socket calls with SO_RCVTIMEO/SO_SNDTIMEO,
 * io_getevents, mq_timedreceive..., the same through syscall()).  The
 * full fix stops threads without a handler in them: a tracer task that
 * ptrace-attaches them, as LSan's StopTheWorld does (docs/hardening.md).
 */
#define _GNU_SOURCE
#include "longrun.h"
#include "reent.h"
#include "threads.h"

#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <semaphore.h>
#include <sys/epoll.h>
#include <sys/msg.h>
#include <sys/select.h>
#include <sys/sem.h>
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

/* ---- timespec timeouts: the time left against CLOCK_MONOTONIC ------- */

struct deadline {
	int set;
	struct timespec at;
};

static struct deadline deadline_in(const struct timespec *rel)
{
	struct deadline d = { 0, { 0, 0 } };
	if (!rel)
		return d;
	clock_gettime(CLOCK_MONOTONIC, &d.at);
	d.set = 1;
	d.at.tv_sec += rel->tv_sec;
	d.at.tv_nsec += rel->tv_nsec;
	if (d.at.tv_nsec >= 1000000000L) {
		d.at.tv_sec++;
		d.at.tv_nsec -= 1000000000L;
	}
	return d;
}

/* the time left to `d` into *out (never negative); NULL when none */
static const struct timespec *left_ts(const struct deadline *d,
				      const struct timespec *first,
				      struct timespec *out)
{
	if (!d->set)
		return NULL;
	if (first) /* the first call: the program's own value, invalid or not */
		return first;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	out->tv_sec = d->at.tv_sec - now.tv_sec;
	out->tv_nsec = d->at.tv_nsec - now.tv_nsec;
	if (out->tv_nsec < 0) {
		out->tv_sec--;
		out->tv_nsec += 1000000000L;
	}
	if (out->tv_sec < 0)
		*out = (struct timespec){ 0, 0 };
	return out;
}

/* The loop of every shim below: CALL (an expression of `tmo`, the
 * timeout left) made again while only our handlers interrupted it. */
#define RETRY_TS(rel, CALL)                                              \
	do {                                                             \
		struct deadline d_ = deadline_in(rel);                   \
		struct timespec left_;                                   \
		for (int first_ = 1;; first_ = 0) {                      \
			const struct timespec *tmo = left_ts(            \
				&d_, first_ ? (rel) : NULL, &left_);     \
			(void)tmo;                                       \
			struct hits hits_ = hits_now();                  \
			__typeof__(CALL) rc_ = (CALL);                   \
			if (rc_ >= 0 || !ours_only(hits_))               \
				return rc_;                              \
		}                                                        \
	} while (0)

SHIM int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts,
	       const sigset_t *mask)
{
	REAL(ppoll);
	RETRY_TS(ts, real_ppoll(fds, n, tmo, mask));
}

/* the sets are left alone when it fails (as select's, above) */
SHIM int pselect(int n, fd_set *r, fd_set *w, fd_set *x,
		 const struct timespec *ts, const sigset_t *mask)
{
	REAL(pselect);
	RETRY_TS(ts, real_pselect(n, r, w, x, tmo, mask));
}

SHIM int epoll_pwait(int ep, struct epoll_event *ev, int max, int timeout,
		     const sigset_t *mask)
{
	REAL(epoll_pwait);
	long long t0 = timeout > 0 ? now_ms() : 0;
	for (;;) {
		struct hits hits = hits_now();
		int rc = real_epoll_pwait(ep, ev, max, left_ms(timeout, t0), mask);
		if (rc >= 0 || !ours_only(hits))
			return rc;
	}
}

SHIM int epoll_pwait2(int ep, struct epoll_event *ev, int max,
		      const struct timespec *ts, const sigset_t *mask)
{
	REAL(epoll_pwait2);
	RETRY_TS(ts, real_epoll_pwait2(ep, ev, max, tmo, mask));
}

/* ---- the signal waits ------------------------------------------------ */

/* `set` without the stop signal (or, before the first stop, without the
 * signals it may take): a thread that waits for every signal would be
 * handed it, and the stop would wait for that thread in vain (the kernel
 * unblocks the waited set during the wait, so it looks stoppable) */
static const sigset_t *without_stop(const sigset_t *set, sigset_t *out)
{
	if (!set)
		return set;
	*out = *set;
	int sig = _mp_threads_stop_signal();
	if (sig)
		sigdelset(out, sig);
	else
		for (int s = SIGRTMIN; s <= SIGRTMAX; s++)
			if (_mp_threads_stop_candidate(s))
				sigdelset(out, s);
	return out;
}

SHIM int sigtimedwait(const sigset_t *set, siginfo_t *info,
		      const struct timespec *ts)
{
	REAL(sigtimedwait);
	sigset_t mine;
	const sigset_t *s = without_stop(set, &mine);
	RETRY_TS(ts, real_sigtimedwait(s, info, tmo));
}

SHIM int sigwaitinfo(const sigset_t *set, siginfo_t *info)
{
	return sigtimedwait(set, info, NULL);
}

/* glibc's sigwait calls its own sigtimedwait, not ours; it retries EINTR
 * and returns the error number */
SHIM int sigwait(const sigset_t *set, int *sig)
{
	int saved = errno, rc;
	do
		rc = sigtimedwait(set, NULL, NULL);
	while (rc < 0 && errno == EINTR);
	if (rc < 0) {
		rc = errno;
		errno = saved;
		return rc;
	}
	*sig = rc;
	errno = saved;
	return 0;
}

/* Always -1/EINTR once a handler ran: waits again when that handler was
 * ours only; a signal of the program's that came meanwhile is still
 * pending under its own mask and ends the next wait. */
SHIM int sigsuspend(const sigset_t *mask)
{
	REAL(sigsuspend);
	for (;;) {
		struct hits hits = hits_now();
		int rc = real_sigsuspend(mask);
		if (rc >= 0 || !ours_only(hits))
			return rc;
	}
}

/* ---- semaphores and System V IPC: absolute timeouts, or none ---------- */

/* sem_wait needs none: glibc's futex wait without a timeout is restarted
 * under SA_RESTART; with one it is not */
SHIM int sem_timedwait(sem_t *sem, const struct timespec *abs)
{
	REAL(sem_timedwait);
	for (;;) {
		struct hits hits = hits_now();
		int rc = real_sem_timedwait(sem, abs);
		if (rc >= 0 || !ours_only(hits))
			return rc;
	}
}

SHIM int sem_clockwait(sem_t *sem, clockid_t clk, const struct timespec *abs)
{
	REAL(sem_clockwait);
	for (;;) {
		struct hits hits = hits_now();
		int rc = real_sem_clockwait(sem, clk, abs);
		if (rc >= 0 || !ours_only(hits))
			return rc;
	}
}

/* an interrupted msgrcv took no message, msgsnd queued none, semop did
 * none of its operations: the same call again is the call */
SHIM ssize_t msgrcv(int q, void *msg, size_t size, long type, int flags)
{
	REAL(msgrcv);
	for (;;) {
		struct hits hits = hits_now();
		ssize_t rc = real_msgrcv(q, msg, size, type, flags);
		if (rc >= 0 || !ours_only(hits))
			return rc;
	}
}

SHIM int msgsnd(int q, const void *msg, size_t size, int flags)
{
	REAL(msgsnd);
	for (;;) {
		struct hits hits = hits_now();
		int rc = real_msgsnd(q, msg, size, flags);
		if (rc >= 0 || !ours_only(hits))
			return rc;
	}
}

SHIM int semop(int id, struct sembuf *ops, size_t n)
{
	REAL(semop);
	for (;;) {
		struct hits hits = hits_now();
		int rc = real_semop(id, ops, n);
		if (rc >= 0 || !ours_only(hits))
			return rc;
	}
}

SHIM int semtimedop(int id, struct sembuf *ops, size_t n,
		    const struct timespec *ts)
{
	REAL(semtimedop);
	RETRY_TS(ts, real_semtimedop(id, ops, n, tmo));
}
