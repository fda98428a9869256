/* threads.c - registry of the program's threads, and stopping them.
 *
 * The leak scan reads each live thread's stack from its stack pointer up and
 * its registers, taken while the thread is parked in a signal handler (as
 * conservative collectors do, without ptrace): what lies below a stack
 * pointer is dead, and a pointer held only in a register is live.  Threads
 * that have ended leave their stacks mapped (glibc caches them for reuse):
 * those are no roots.  A thread not yet started has its argument here only,
 * so the record holds it, as a root, until the thread has taken it.
 * Fixed table, no malloc: records are found by the thread-start shim.
 */
#define _GNU_SOURCE
#include "threads.h"
#include "deepstack.h"
#include "out.h"
#include "procgate.h"
#include "real.h"
#include "reent.h"
#include "unwind.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define MAX_THREADS 8192
/* x86-64 leaf functions may keep live data up to 128 bytes below the stack
 * pointer (the red zone): an interrupted thread's is part of its frame. */
#define RED_ZONE 128
/* How long a stop waits for threads to park.  A thread that blocks the
 * stop signal never will: it is not waited for, and is read whole
 * (conservatively).  Every other one is waited for this long at most: on
 * a loaded machine a runnable thread may wait many time slices for its
 * turn to run the handler, and one read without its registers could
 * hide the only pointer to a block (a verdict must not depend on load). */
#define STOP_WAIT_MS 10000

enum rec_state { R_FREE, R_PENDING, R_LIVE, R_DEAD };

struct rec {
	int state;               /* enum rec_state, under reg_lock */
	pid_t tid;
	pthread_t id;
	struct mp_range r;       /* stack (LIVE, DEAD) */
	void *(*fn)(void *);     /* PENDING: what the thread will run */
	void *arg;
	/* filled by the stop handler in the thread itself */
	_Atomic int parked;
	uintptr_t sp;
	uintptr_t regs[MP_THREAD_REGS];
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rec recs[MAX_THREADS];
static size_t hiwater; /* recs[hiwater..] never used */

static pid_t gettid_(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static struct rec *take_slot(void)
{
	struct rec *dead = NULL;
	for (size_t i = 0; i < MAX_THREADS; i++) {
		if (recs[i].state == R_FREE) {
			if (i >= hiwater)
				hiwater = i + 1;
			return &recs[i];
		}
		if (!dead && recs[i].state == R_DEAD)
			dead = &recs[i];
	}
	return dead; /* full: forget a dead stack rather than a live one */
}

void *_mp_thread_box(void *(*fn)(void *), void *arg)
{
	pthread_mutex_lock(&reg_lock);
	struct rec *r = take_slot();
	if (r) {
		r->state = R_PENDING;
		r->fn = fn;
		r->arg = arg;
	}
	pthread_mutex_unlock(&reg_lock);
	return r;
}

void _mp_thread_unbox(void *box)
{
	pthread_mutex_lock(&reg_lock);
	((struct rec *)box)->state = R_FREE;
	pthread_mutex_unlock(&reg_lock);
}

/* Make r the live record of the calling thread, whose stack is s; a dead
 * record of the same stack (glibc reused it) is dropped. */
static void go_live(struct rec *r, struct mp_range s)
{
	for (size_t i = 0; i < hiwater; i++)
		if (recs[i].state == R_DEAD && recs[i].r.lo == s.lo &&
		    recs[i].r.hi == s.hi)
			recs[i].state = R_FREE;
	r->tid = gettid_();
	r->id = pthread_self();
	r->r = s;
	r->arg = NULL;
	atomic_store(&r->parked, 0);
	r->state = R_LIVE;
}

static struct mp_range own_stack(void)
{
	struct mp_range s = { 0, 0 };
	_mp_thread_stack_of_self(&s.lo, &s.hi);
	_mp_unwind_thread_bounds(s.lo, s.hi); /* the walker never asks again */
	return s;
}

static void ended(void *recp)
{
	struct rec *r = recp;
	pthread_mutex_lock(&reg_lock);
	r->state = r->r.hi ? R_DEAD : R_FREE;
	pthread_mutex_unlock(&reg_lock);
}

void *_mp_thread_start(void *box)
{
	struct rec *r = box;
	struct mp_range s = own_stack();
	pthread_mutex_lock(&reg_lock);
	/* from here the argument is on this stack, read while we live */
	void *(*fn)(void *) = r->fn;
	void *arg = r->arg;
	go_live(r, s);
	pthread_mutex_unlock(&reg_lock);
	void *ret;
	pthread_cleanup_push(ended, r);
	ret = fn(arg);
	pthread_cleanup_pop(1);
	return ret;
}

void _mp_thread_register_self(void)
{
	struct mp_range s = own_stack();
	pthread_mutex_lock(&reg_lock);
	struct rec *r = take_slot();
	if (r)
		go_live(r, s);
	pthread_mutex_unlock(&reg_lock);
}

/* ---- stopping the other threads ------------------------------------ */

/* Real-time signals the program is unlikely to use; the first whose
 * disposition is still the default is taken for the stop. */
static const int stop_sigs[] = { 4, 5, 6 }; /* SIGRTMAX - n */
static int stop_sig;
static struct sigaction stop_old;

/* Handlers of ours that ran on this thread (the stop's, the leak check
 * signal's): a system call they interrupt returns EINTR to the program,
 * which preload/restart.c hides. */
static __thread unsigned our_hits __attribute__((tls_model("initial-exec")));

unsigned _mp_threads_our_hits(void)
{
	return __atomic_load_n(&our_hits, __ATOMIC_RELAXED);
}

void _mp_threads_note_our_signal(void)
{
	__atomic_add_fetch(&our_hits, 1, __ATOMIC_RELAXED);
}

int _mp_threads_stop_signal(void)
{
	return __atomic_load_n(&stop_sig, __ATOMIC_RELAXED);
}

int _mp_threads_stop_candidate(int sig)
{
	for (size_t i = 0; i < sizeof stop_sigs / sizeof stop_sigs[0]; i++)
		if (sig == SIGRTMAX - stop_sigs[i])
			return 1;
	return 0;
}
static _Atomic int stopping;
static _Atomic int acks;         /* futex word: threads parked */
static _Atomic int inside;       /* threads in the handler */
static _Atomic int resume_seq;   /* futex word: bumped to let them go */
static size_t nsent;

static long futex(_Atomic int *w, int op, int val, const struct timespec *ts)
{
	return syscall(SYS_futex, (int *)w, op, val, ts, NULL, 0);
}

static void stop_handler(int sig, siginfo_t *si, void *ucp)
{
	(void)sig;
	(void)si;
	int saved = errno;
	_mp_threads_note_our_signal();
	atomic_fetch_add(&inside, 1);
	int seq = atomic_load(&resume_seq);
	if (atomic_load(&stopping)) {
		pid_t me = gettid_();
		struct rec *r = NULL;
		for (size_t i = 0; i < hiwater && !r; i++) /* stable: locked */
			if (recs[i].state == R_LIVE && recs[i].tid == me)
				r = &recs[i];
		if (r && !atomic_load(&r->parked)) {
			const ucontext_t *uc = ucp;
			/* stopped on the library's stack: the program's
			 * registers and stack are those saved at the switch */
			const ucontext_t *prog = _mp_deep_caller(
				(uintptr_t)uc->uc_mcontext.gregs[REG_RSP]);
			if (prog)
				uc = prog;
			_Static_assert(NGREG == MP_THREAD_REGS, "register count");
			for (int k = 0; k < MP_THREAD_REGS; k++)
				r->regs[k] = (uintptr_t)uc->uc_mcontext.gregs[k];
			r->sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
			atomic_store(&r->parked, 1);
			atomic_fetch_add(&acks, 1);
			futex(&acks, FUTEX_WAKE_PRIVATE, 1, NULL);
			while (atomic_load(&resume_seq) == seq)
				futex(&resume_seq, FUTEX_WAIT_PRIVATE, seq, NULL);
		}
	}
	atomic_fetch_sub(&inside, 1);
	errno = saved;
}

static int install_stop_handler(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = stop_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof stop_sigs / sizeof stop_sigs[0]; i++) {
		int sig = SIGRTMAX - stop_sigs[i];
		struct sigaction cur;
		if (_mp_real_sigaction(sig, NULL, &cur) != 0)
			continue;
		int ours = (cur.sa_flags & SA_SIGINFO) &&
			   cur.sa_sigaction == stop_handler;
		if (!ours && cur.sa_handler != SIG_DFL)
			continue; /* the program's: leave it */
		if (!ours)
			stop_old = cur;
		if (ours || _mp_real_sigaction(sig, &sa, NULL) == 0) {
			__atomic_store_n(&stop_sig, sig, __ATOMIC_RELAXED);
			return 0;
		}
	}
	return -1;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Does thread tid block signal sig?  /proc/self/task/TID/status, line
 * "SigBlk:\t<hex mask>"; 0 when it cannot tell (then it is waited for). */
static int blocks_signal(pid_t tid, int sig)
{
	char path[64], buf[2048];
	_mp_snprintf(path, sizeof path, "/proc/self/task/%d/status", (int)tid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	const char *p = strstr(buf, "SigBlk:");
	if (!p)
		return 0;
	p += 7;
	while (*p == '\t' || *p == ' ')
		p++;
	unsigned long long mask = 0;
	for (; *p && *p != '\n'; p++) {
		int d = *p >= '0' && *p <= '9' ? *p - '0'
			: *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;
		if (d < 0)
			return 0;
		mask = mask << 4 | (unsigned)d;
	}
	return (int)(mask >> (sig - 1) & 1);
}

size_t _mp_threads_stop(struct mp_thread_view *out, size_t max)
{
	pthread_mutex_lock(&reg_lock);
	pid_t me = gettid_(), pid = getpid();
	size_t expect = 0;
	nsent = 0;
	atomic_store(&acks, 0);
	if (install_stop_handler() == 0) {
		atomic_store(&stopping, 1);
		for (size_t i = 0; i < hiwater; i++) {
			struct rec *r = &recs[i];
			if (r->state != R_LIVE || r->tid == me)
				continue;
			atomic_store(&r->parked, 0);
			/* asked before the signal goes out: a thread parked in
			 * the handler blocks every signal too.  One that blocks
			 * it will not come (it is read whole); it is signalled
			 * all the same, and returns at once when it unblocks. */
			int blocked = blocks_signal(r->tid, stop_sig);
			if (syscall(SYS_tgkill, pid, r->tid, stop_sig) == 0) {
				nsent++;
				expect += !blocked;
			}
		}
		struct timespec t0, slice = { 0, 10 * 1000000 };
		clock_gettime(CLOCK_MONOTONIC, &t0);
		int got;
		while ((size_t)(got = atomic_load(&acks)) < expect &&
		       ms_since(&t0) < STOP_WAIT_MS)
			futex(&acks, FUTEX_WAIT_PRIVATE, got, &slice);
	}
	size_t n = 0;
	for (size_t i = 0; i < hiwater && n < max; i++) {
		struct rec *r = &recs[i];
		if (r->state != R_LIVE || r->tid == me)
			continue;
		struct mp_thread_view *v = &out[n++];
		v->tid = r->tid;
		v->stack = r->r;
		v->nregs = 0;
		if (atomic_load(&r->parked)) {
			uintptr_t lo = r->sp - RED_ZONE;
			if (lo > v->stack.lo && lo < v->stack.hi)
				v->stack.lo = lo;
			memcpy(v->regs, r->regs, sizeof v->regs);
			v->nregs = MP_THREAD_REGS;
		}
	}
	return n;
}

void _mp_threads_resume(void)
{
	int all = (size_t)atomic_load(&acks) == nsent;
	atomic_store(&stopping, 0);
	atomic_fetch_add(&resume_seq, 1);
	futex(&resume_seq, FUTEX_WAKE_PRIVATE, 1 << 30, NULL);
	/* a thread that never parked may still take the signal later: our
	 * handler stays for it (it returns at once); else the program gets
	 * its default disposition back once every thread has left it */
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (atomic_load(&inside) && ms_since(&t0) < STOP_WAIT_MS)
		sched_yield();
	if (all && stop_sig && !atomic_load(&inside))
		_mp_real_sigaction(stop_sig, &stop_old, NULL);
	pthread_mutex_unlock(&reg_lock);
}

size_t _mp_threads_pending_args(uintptr_t *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < hiwater && n < max; i++)
		if (recs[i].state == R_PENDING)
			out[n++] = (uintptr_t)recs[i].arg;
	return n;
}

size_t _mp_threads_all_stacks(struct mp_range *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < hiwater && n < max; i++)
		if ((recs[i].state == R_LIVE || recs[i].state == R_DEAD) &&
		    recs[i].r.hi)
			out[n++] = recs[i].r;
	return n;
}

struct mp_range _mp_threads_self_stack(void)
{
	struct mp_range s = { 0, 0 };
	pid_t me = gettid_();
	pthread_mutex_lock(&reg_lock);
	for (size_t i = 0; i < hiwater; i++)
		if (recs[i].state == R_LIVE && recs[i].tid == me)
			s = recs[i].r;
	pthread_mutex_unlock(&reg_lock);
	return s;
}

/* In a child only the forking thread lives on: the others' stacks are
 * copies of dead threads', and threads not yet started never will be.
 * The lock is made new rather than held across fork, so it takes no part
 * in the fork lock order: its updates are single records, never torn in a
 * way the child could trip over. */
static void child_reg(void)
{
	pthread_mutex_init(&reg_lock, NULL);
	pthread_t self = pthread_self();
	for (size_t i = 0; i < hiwater; i++) {
		struct rec *r = &recs[i];
		if (r->state == R_PENDING)
			r->state = R_FREE;
		else if (r->state == R_LIVE && pthread_equal(r->id, self))
			r->tid = gettid_();
		else if (r->state == R_LIVE)
			r->state = R_DEAD;
	}
}


void _mp_threads_atfork(void)
{
	_mp_procgate_on_fork(MP_FORK_REGISTRY, NULL, NULL, child_reg);
}
