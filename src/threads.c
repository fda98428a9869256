/* threads.c - registry of the stacks of threads created with pthread_create.
 *
 * The leak scan treats live threads' stacks (which hold their static TLS and
 * thread descriptor in glibc) as roots.  The preload shim starts every thread
 * through _mp_thread_start, which records the stack range here and removes
 * it when the thread ends.  Fixed table, no malloc under the lock.
 */
#define _GNU_SOURCE
#include "threads.h"
#include "real.h"
#include "reent.h"
#include "unwind.h"

#include <pthread.h>

#define MAX_THREADS 8192

struct rec {
	pthread_t id;
	struct mp_range r;
	int used;
};

struct box {
	void *(*fn)(void *);
	void *arg;
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rec recs[MAX_THREADS];
static size_t hiwater; /* recs[hiwater..] never used */

void *_mp_thread_box(void *(*fn)(void *), void *arg)
{
	_mp_enter();
	struct box *b = _mp_real_malloc(sizeof *b);
	_mp_leave();
	if (b) {
		b->fn = fn;
		b->arg = arg;
	}
	return b;
}

void _mp_thread_unbox(void *box)
{
	_mp_enter();
	_mp_real_free(box);
	_mp_leave();
}

static int reg(struct mp_range r)
{
	pthread_mutex_lock(&reg_lock);
	int slot = -1;
	for (size_t i = 0; i < MAX_THREADS; i++)
		if (!recs[i].used) {
			recs[i] = (struct rec){ pthread_self(), r, 1 };
			if (i >= hiwater)
				hiwater = i + 1;
			slot = (int)i;
			break;
		}
	pthread_mutex_unlock(&reg_lock);
	return slot;
}

static void unreg(void *slot)
{
	int i = (int)(intptr_t)slot;
	if (i < 0)
		return;
	pthread_mutex_lock(&reg_lock);
	recs[i].used = 0;
	pthread_mutex_unlock(&reg_lock);
}

void *_mp_thread_start(void *boxp)
{
	struct box b = *(struct box *)boxp;
	_mp_thread_unbox(boxp);
	struct mp_range r = { 0, 0 };
	pthread_attr_t attr;
	_mp_enter(); /* pthread_getattr_np may allocate */
	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		void *addr;
		size_t size;
		if (pthread_attr_getstack(&attr, &addr, &size) == 0)
			r = (struct mp_range){ (uintptr_t)addr,
					       (uintptr_t)addr + size };
		pthread_attr_destroy(&attr);
	}
	_mp_unwind_thread_bounds(r.lo, r.hi); /* the walker never asks again */
	_mp_leave();
	int slot = r.hi ? reg(r) : -1;
	void *ret;
	pthread_cleanup_push(unreg, (void *)(intptr_t)slot);
	ret = b.fn(b.arg);
	pthread_cleanup_pop(1);
	return ret;
}

size_t _mp_threads_lock_snapshot(struct mp_range *out, size_t max)
{
	size_t n = 0;
	pthread_t self = pthread_self();
	pthread_mutex_lock(&reg_lock);
	for (size_t i = 0; i < hiwater && n < max; i++)
		if (recs[i].used && !pthread_equal(recs[i].id, self))
			out[n++] = recs[i].r;
	return n;
}

void _mp_threads_unlock(void)
{
	pthread_mutex_unlock(&reg_lock);
}

static void lock_reg(void) { pthread_mutex_lock(&reg_lock); }
static void unlock_reg(void) { pthread_mutex_unlock(&reg_lock); }

static void child_reg(void)
{
	/* only the forking thread lives on in the child */
	for (size_t i = 0; i < hiwater; i++)
		if (recs[i].used && !pthread_equal(recs[i].id, pthread_self()))
			recs[i].used = 0;
	pthread_mutex_unlock(&reg_lock);
}

void _mp_threads_atfork(void)
{
	static int done;
	if (!done) {
		done = 1;
		_mp_enter();
		pthread_atfork(lock_reg, unlock_reg, child_reg);
		_mp_leave();
	}
}
