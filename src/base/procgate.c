/* procgate.c - one pthread_atfork for the whole process, running every
 * layer's fork handlers in the documented lock order (procgate.h), and the
 * one gate around the dynamic loader that fork waits on.  Layers register
 * their handlers here, so this file calls nothing above base. */
#define _GNU_SOURCE
#include "procgate.h"
#include "loaderprobe.h"
#include "reent.h"

#include <link.h>
#include <pthread.h>
#include <stddef.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* How long a fork waits for the loader gate to empty: one of the threads
 * inside may wait for a loader lock held by a thread that waits for
 * something the forking thread holds, so the wait is bounded. */
#define MP_LOADER_DRAIN_NS 100000000L

struct fork_hooks {
	void (*_Atomic prepare)(void);
	void (*_Atomic parent)(void);
	void (*_Atomic child)(void);
};

static struct fork_hooks hooks[MP_FORK_RANKS];
static atomic_int users, forks_pending; /* the loader gate */

void _mp_procgate_on_fork(enum mp_fork_rank rank, void (*prepare)(void),
			  void (*parent)(void), void (*child)(void))
{
	if ((unsigned)rank >= MP_FORK_RANKS)
		return;
	atomic_store(&hooks[rank].prepare, prepare);
	atomic_store(&hooks[rank].parent, parent);
	atomic_store(&hooks[rank].child, child);
	/* whoever registers first makes the one pthread_atfork: a user of
	 * one layer alone (the symbolizer in its unit test) is covered too */
	_mp_procgate_init();
}

static void loader_prepare(void)
{
	struct timespec t0, t;
	atomic_fetch_add(&forks_pending, 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (atomic_load(&users) && clock_gettime(CLOCK_MONOTONIC, &t) == 0 &&
	       (t.tv_sec - t0.tv_sec) * 1000000000L + t.tv_nsec - t0.tv_nsec <
		       MP_LOADER_DRAIN_NS)
		sched_yield();
}

static void loader_parent(void) { atomic_fetch_sub(&forks_pending, 1); }

/* The other threads are gone, and so are their counts. */
static void loader_child(void)
{
	atomic_store(&forks_pending, 0);
	atomic_store(&users, 0);
}

void _mp_loader_gate_enter(void)
{
	_mp_nocancel_enter(); /* libdw and libunwind open and read files */
	for (;;) {
		atomic_fetch_add(&users, 1);
		if (!atomic_load(&forks_pending))
			return;
		atomic_fetch_sub(&users, 1);
		while (atomic_load(&forks_pending))
			sched_yield();
	}
}

void _mp_loader_gate_leave(void)
{
	atomic_fetch_sub(&users, 1);
	_mp_nocancel_leave();
}

static void on_prepare(void)
{
	for (int r = 0; r < MP_FORK_RANKS; r++) {
		void (*f)(void) = atomic_load(&hooks[r].prepare);
		if (f)
			f();
	}
}

static void on_parent(void)
{
	for (int r = MP_FORK_RANKS - 1; r >= 0; r--) {
		void (*f)(void) = atomic_load(&hooks[r].parent);
		if (f)
			f();
	}
}

static void on_child(void)
{
	_mp_loader_forked(); /* first: later handlers may ask _mp_loader_ok */
	for (int r = MP_FORK_RANKS - 1; r >= 0; r--) {
		void (*f)(void) = atomic_load(&hooks[r].child);
		if (f)
			f();
	}
}

void _mp_procgate_init(void)
{
	static atomic_int registered;
	if (atomic_load(&registered) || atomic_exchange(&registered, 1))
		return;
	_mp_procgate_on_fork(MP_FORK_LOADER, loader_prepare, loader_parent,
			     loader_child);
	_mp_enter(); /* pthread_atfork may allocate: never from the pool */
	pthread_atfork(on_prepare, on_parent, on_child);
	_mp_leave();
}

/* The main thread's stack as glibc's pthread_getattr_np computes it,
 * without its fopen and read of /proc/self/maps (a malloc'd FILE, a
 * page of text formatted by the kernel: most of a sampled start's cost
 * after the loader's).  glibc's: top = the page above __libc_stack_end;
 * size = RLIMIT_STACK less what lies between that and the end of the
 * stack's mapping, page-aligned, cut at the end of the mapping below.
 * The mapping's end: the kernel puts the executable's name (AT_EXECFN)
 * at the very top of the stack, under one null word (fs/exec.c), so it
 * ends there, page-aligned; anything else (an emulator's layout) falls
 * back to glibc.  No cut: mmap_base lies RLIMIT_STACK + the stack guard
 * gap (+ the stack's random offset) below the stack's top, and nothing
 * maps in between at start (limits above MAIN_STACK_MAX fall back). */
extern void *__libc_stack_end;
#define MAIN_STACK_MAX ((rlim_t)4 << 30)

static int main_stack_of_self(uintptr_t *lo, uintptr_t *hi)
{
	/* the main thread only: a thread's stack may lie within a limit the
	 * program raised after start (its frame would then pass the test
	 * below) */
	if (syscall(SYS_gettid) != getpid())
		return 0;
	uintptr_t ps = (uintptr_t)getpagesize();
	uintptr_t end = (uintptr_t)__libc_stack_end;
	uintptr_t top = (end & -ps) + ps;
	const char *fn = (const char *)getauxval(AT_EXECFN);
	struct rlimit rl;
	if (!end || !fn || (uintptr_t)fn < end)
		return 0;
	uintptr_t to = (uintptr_t)fn + strlen(fn) + 1 + sizeof(void *);
	if (to % ps || to < top || getrlimit(RLIMIT_STACK, &rl) != 0 ||
	    rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > MAIN_STACK_MAX ||
	    rl.rlim_cur <= to - top)
		return 0;
	uintptr_t size = ((uintptr_t)rl.rlim_cur - (to - top)) & -ps;
	/* our own frame on it: the main thread (a thread's stack is a
	 * mapping of its own, never within the main one's limit) */
	uintptr_t here = (uintptr_t)__builtin_frame_address(0);
	if (!size || size > top || here < top - size || here >= top)
		return 0;
	*lo = top - size;
	*hi = top;
	return 1;
}

int _mp_thread_stack_of_self(uintptr_t *lo, uintptr_t *hi)
{
	pthread_attr_t a;
	void *addr;
	size_t size;
	int ok = 0;
	*lo = *hi = 0;
	if (main_stack_of_self(lo, hi))
		return 1;
	_mp_enter(); /* pthread_getattr_np may allocate */
	if (pthread_getattr_np(pthread_self(), &a) == 0) {
		if (pthread_attr_getstack(&a, &addr, &size) == 0 && size) {
			*lo = (uintptr_t)addr;
			*hi = (uintptr_t)addr + size;
			ok = 1;
		}
		pthread_attr_destroy(&a);
	}
	_mp_leave();
	return ok;
}

/* The counters are global: the first object visited is enough. */
static int counters_cb(struct dl_phdr_info *info, size_t size, void *c)
{
	if (size < offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs)
		return -1;
	((unsigned long long *)c)[0] = info->dlpi_adds;
	((unsigned long long *)c)[1] = info->dlpi_subs;
	return 1;
}

const unsigned long long *_mp_loader_counters(unsigned long long c[2])
{
	return dl_iterate_phdr(counters_cb, c) == 1 ? c : NULL;
}
