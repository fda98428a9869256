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
#include <time.h>

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

int _mp_thread_stack_of_self(uintptr_t *lo, uintptr_t *hi)
{
	pthread_attr_t a;
	void *addr;
	size_t size;
	int ok = 0;
	*lo = *hi = 0;
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
