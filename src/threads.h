/* threads.h - registry of live threads' stacks (leak-scan roots). */
#ifndef MP_THREADS_H
#define MP_THREADS_H

#include <stddef.h>
#include <stdint.h>

struct mp_range {
	uintptr_t lo, hi;
};

/* Box a thread's start routine for the trampoline; NULL on failure. */
void *_mp_thread_box(void *(*fn)(void *), void *arg);
void _mp_thread_unbox(void *box);
/* pthread_create start routine: registers the thread's stack, runs the
 * boxed routine, unregisters on return, pthread_exit or cancellation. */
void *_mp_thread_start(void *box);

/* Hold the registry (threads cannot unregister, so their stacks stay
 * mapped) and copy the stacks of all registered threads but the caller. */
size_t _mp_threads_lock_snapshot(struct mp_range *out, size_t max);
void _mp_threads_unlock(void);

/* Keep the registry lock consistent across fork (once per process). */
void _mp_threads_atfork(void);

#endif
