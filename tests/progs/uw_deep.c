/* uw_deep.c - stacks for the fast unwinder (t_unwind.sh), meant to be built
 * without frame pointers too.  Allocates through function pointers at every
 * level of a 30-deep recursion whose two functions have very different
 * frames, in the main thread and in a thread with a small stack of its own;
 * from a signal handler on the thread's stack and on an alternate stack;
 * on a makecontext() stack; below a frame that realigns the stack (DRAP).
 * Leaks one 77-byte block at the bottom of the main thread's recursion; its
 * stack must read leaf_leak, small_level, big_level, small_level, ... */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include "tprog.h"

/* volatile: every call is an indirect call the compiler cannot see through */
static void *(*volatile p_malloc)(size_t) = malloc;
static void *(*volatile p_calloc)(size_t, size_t) = calloc;
static void *(*volatile p_realloc)(void *, size_t) = realloc;
static void (*volatile p_free)(void *) = free;

typedef unsigned (*level_fn)(unsigned depth, int leak);
static level_fn volatile levels[2];

TP_NOINLINE static void leaf_leak(void)
{
	char *volatile p = p_malloc(77); /* UW_LEAK_SITE */
	memset(p, 7, 77);
	p = NULL;
}

/* allocate, resize and free through every entry point */
TP_NOINLINE static unsigned churn(unsigned depth)
{
	char *a = p_calloc(1, 16 + depth);
	a = p_realloc(a, 5000 + depth); /* large: the real allocator's path */
	a[0] = (char)depth;
	unsigned r = (unsigned char)a[0];
	p_free(a);
	return r;
}

TP_NOINLINE static unsigned small_level(unsigned depth, int leak)
{
	unsigned r = churn(depth);
	if (depth == 0) {
		if (leak)
			leaf_leak(); /* UW_LEAF_CALL */
		TP_NO_TAILCALL();
		return r;
	}
	r += levels[(depth - 1) & 1](depth - 1, leak); /* UW_SMALL_CALL */
	TP_NO_TAILCALL();
	return r;
}

/* a frame of several KiB: large CFA offsets, and callee-saved registers
 * (rbp among them without frame pointers) saved far from the CFA */
TP_NOINLINE static unsigned big_level(unsigned depth, int leak)
{
	volatile unsigned char pad[6000];
	pad[depth % sizeof pad] = (unsigned char)depth;
	unsigned r = churn(depth) + pad[depth % sizeof pad];
	r += levels[(depth - 1) & 1](depth - 1, leak); /* UW_BIG_CALL */
	TP_NO_TAILCALL();
	return r + pad[(depth * 7) % sizeof pad];
}

/* levels 0, 2, 4... are small_level, odd ones big_level */
static unsigned recurse(unsigned depth, int leak)
{
	levels[0] = small_level;
	levels[1] = big_level;
	return levels[depth & 1](depth, leak);
}

/* A VLA next to an over-aligned local: gcc realigns with a DRAP register,
 * the CFA becomes a DWARF expression, and the fast walker must hand the
 * stack to libunwind. */
TP_NOINLINE static unsigned realigned(unsigned n)
{
	char aligned[64] __attribute__((aligned(64)));
	char vla[n];
	memset(aligned, 1, sizeof aligned);
	memset(vla, 2, n);
	tp_escape(aligned);
	tp_escape(vla);
	unsigned r = churn(n) + (unsigned char)vla[n / 2];
	TP_NO_TAILCALL();
	return r;
}

static void on_signal(int sig)
{
	/* not async-signal-safe in general; raised synchronously here */
	void *p = p_malloc(100 + (size_t)sig);
	tp_escape(p);
	p_free(p);
}

static void *thread_main(void *arg)
{
	(void)arg;
	unsigned r = recurse(20, 0);
	raise(SIGUSR1);
	return (void *)(size_t)r;
}

static ucontext_t main_ctx, co_ctx;

static void coroutine(void)
{
	churn(3);
	recurse(4, 0);
}

int main(void)
{
	unsigned r = 0;
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_flags = SA_ONSTACK;
	sigaction(SIGUSR2, &sa, NULL);

	r += recurse(30, 1);
	raise(SIGUSR1);

	/* a thread whose stack is much smaller than the default */
	pthread_attr_t attr;
	pthread_t t;
	void *tr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	if (pthread_create(&t, &attr, thread_main, NULL) != 0)
		return 2;
	pthread_join(t, &tr);
	r += (unsigned)(size_t)tr;

	/* a handler on an alternate signal stack (a mapping of our own) */
	stack_t ss = { .ss_size = 64 * 1024 };
	ss.ss_sp = p_malloc(ss.ss_size);
	sigaltstack(&ss, NULL);
	raise(SIGUSR2);
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
	p_free(ss.ss_sp);

	/* a coroutine on a heap stack, outside every thread's stack */
	size_t co_size = 128 * 1024;
	void *co_stack = p_malloc(co_size);
	getcontext(&co_ctx);
	co_ctx.uc_stack.ss_sp = co_stack;
	co_ctx.uc_stack.ss_size = co_size;
	co_ctx.uc_link = &main_ctx;
	makecontext(&co_ctx, coroutine, 0);
	swapcontext(&main_ctx, &co_ctx);
	p_free(co_stack);

	r += realigned(40);
	printf("uw_deep done %u\n", r & 1);
	return 0;
}
