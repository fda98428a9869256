/* threads.h - registry of the program's threads (leak-scan roots), and
 * stopping them for a consistent scan. */
#ifndef MP_THREADS_H
#define MP_THREADS_H

#include <stddef.h>
#include <stdint.h>

struct mp_range {
	uintptr_t lo, hi;
};

/* Reserve a registry record for a thread about to be created; its start
 * argument stays a leak root there until the thread has taken it.  Returns
 * the box for _mp_thread_start, NULL when the registry is full. */
void *_mp_thread_box(void *(*fn)(void *), void *arg);
void _mp_thread_unbox(void *box);
/* pthread_create start routine: registers the thread's stack, runs the
 * boxed routine, marks the stack dead on return, pthread_exit or
 * cancellation (glibc keeps it mapped for reuse: it is no root then). */
void *_mp_thread_start(void *box);
/* The calling thread (the main thread, from the constructor) is live. */
void _mp_thread_register_self(void);

/* What the leak scan reads of the other threads, taken with every one of
 * them stopped (_mp_threads_stop) or, for one that could not be stopped,
 * its whole stack. */
#define MP_THREAD_REGS 23 /* general registers of a stopped thread */
struct mp_thread_view {
	int tid;                      /* the kernel's thread id */
	struct mp_range stack;        /* [sp - red zone, top) when stopped */
	uintptr_t regs[MP_THREAD_REGS];
	int nregs;
};

/* Hold the registry (no thread can start or end), signal every other live
 * thread and wait until each is parked in the handler with its registers
 * saved.  Fills out[] (at most max), returns how many.  Pool locks must be
 * held already, so no thread is parked inside the allocator; no loader,
 * stdio or malloc call may be made until _mp_threads_resume. */
size_t _mp_threads_stop(struct mp_thread_view *out, size_t max);
void _mp_threads_resume(void);
/* One of the real-time signals the stop may take: the termination
 * handlers leave them alone (a stop handler installed over ours could not
 * give the program its default back). */
int _mp_threads_stop_candidate(int sig);
/* The signal the stop took, 0 before the first stop. */
int _mp_threads_stop_signal(void);
/* How many of the library's own signal handlers (the stop's, the leak
 * check signal's) ran on the calling thread; note one. */
unsigned _mp_threads_our_hits(void);
void _mp_threads_note_our_signal(void);

/* While stopped: the pending start arguments (roots) and every known
 * thread stack, live or dead (never anonymous roots: live ones are read
 * from their stack pointer, dead ones not at all). */
size_t _mp_threads_pending_args(uintptr_t *out, size_t max);
size_t _mp_threads_all_stacks(struct mp_range *out, size_t max);
/* The calling thread's stack, {0, 0} when unknown. */
struct mp_range _mp_threads_self_stack(void);

/* Keep the registry lock consistent across fork (once per process). */
void _mp_threads_atfork(void);

#endif
