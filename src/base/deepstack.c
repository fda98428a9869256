/* deepstack.c - the library's own stack for its deep work.
 *
 * A report symbolizes through libdw, whose line tables go deep; deriving an
 * unwind rule walks CFI in libdw; the exit report runs the leak scan and
 * writes the JSON file.  Tens of KiB of stack, and the program may have
 * given the thread 16 KiB, or its signal handler an 8 KiB sigaltstack: the
 * library then died of SIGSEGV where the program alone would not (or, when
 * the overflow hit inside a report, waited for its own report lock).  So
 * that work runs here: each thread that needs it gets a stack of ours,
 * mapped at its first deep call (noreserve: a page becomes memory when
 * touched), a guard page below it, registered as ours (the leak scan never
 * reads it as a root), unmapped at the thread's exit by a key destructor.
 *
 * The switch is makecontext/swapcontext, no assembly.  swapcontext sets
 * the signal mask with a syscall each way; the deep context starts with
 * every signal blocked and the trampoline puts the caller's mask back, so
 * the work runs under the mask the caller had, whatever it was when the
 * stack was made.  The caller's context saved by swapcontext is also where
 * the leak scan finds the program's registers and stack pointer
 * (_mp_deep_caller): the unwinder and the scan must see the caller's stack,
 * never ours.  Captures (raw pcs) stay on the caller's stack: cheap,
 * bounded, and they are of that stack.
 */
#define _GNU_SOURCE
#include "deepstack.h"
#include "vm.h"

#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#define DEEP_SIZE ((size_t)1 << 20) /* the stack; the guard page comes below */
#define DEEP_PAGE ((size_t)4096)    /* the guard: one page (at least) */

struct deep {
	ucontext_t caller; /* saved by swapcontext: the program's context */
	ucontext_t self;
	void (*fn)(void *);
	void *arg;
	int active; /* fn runs on this stack now */
	uintptr_t lo, hi; /* the usable stack */
	size_t len; /* of the mapping, which starts with the guard page */
};

static __thread struct deep *deep_me __attribute__((tls_model("initial-exec")));
static pthread_key_t deep_key;
static int deep_key_ok;

static void deep_free(void *p)
{
	struct deep *d = p;
	if (!d || d != deep_me || d->active)
		return; /* never a stack in use */
	deep_me = NULL;
	_mp_unmap((char *)d->lo - DEEP_PAGE, d->len);
}

__attribute__((constructor)) static void deep_init(void)
{
	/* a key made this early has a low index: setspecific then needs no
	 * memory (glibc allocates for keys past the first 32) */
	deep_key_ok = pthread_key_create(&deep_key, deep_free) == 0;
}

static struct deep *deep_new(void)
{
	/* the mapping: guard page, stack, then struct deep on top, where an
	 * overflow of the stack reaches the guard long before it */
	size_t len = DEEP_PAGE + DEEP_SIZE + ((sizeof(struct deep) + DEEP_PAGE - 1) &
					       ~(DEEP_PAGE - 1));
	char *m = _mp_map(len, 1);
	if (!m)
		return NULL;
	mprotect(m, DEEP_PAGE, PROT_NONE); /* failing, there is just no guard */
	struct deep *d = (struct deep *)(m + DEEP_PAGE + DEEP_SIZE);
	d->lo = (uintptr_t)(m + DEEP_PAGE);
	d->hi = (uintptr_t)d;
	d->len = len;
	if (getcontext(&d->self) != 0) {
		_mp_unmap(m, len);
		return NULL;
	}
	sigfillset(&d->self.uc_sigmask);
	deep_me = d;
	if (deep_key_ok)
		pthread_setspecific(deep_key, d);
	return d;
}

static void trampoline(void)
{
	struct deep *d = deep_me;
	/* the caller's mask, saved by swapcontext (see above) */
	pthread_sigmask(SIG_SETMASK, &d->caller.uc_sigmask, NULL);
	d->fn(d->arg);
	/* returns through uc_link to the caller, its mask restored; the
	 * stack stays marked in use until then (a handler meanwhile must not
	 * make a context on it) */
}

void _mp_deep_call(void (*fn)(void *), void *arg)
{
	struct deep *d = deep_me;
	if (!d || d->active) {
		/* on it already, or a handler that interrupted deep work on it
		 * (that stack is in use: stay where we are) */
		if (d || !(d = deep_new()) || d->active) {
			fn(arg);
			return;
		}
	}
	d->fn = fn;
	d->arg = arg;
	d->self.uc_stack.ss_sp = (void *)d->lo;
	d->self.uc_stack.ss_size = d->hi - d->lo;
	d->self.uc_stack.ss_flags = 0;
	d->self.uc_link = &d->caller;
	makecontext(&d->self, trampoline, 0);
	d->active = 1;
	int rc = swapcontext(&d->caller, &d->self);
	d->active = 0;
	if (rc != 0)
		fn(arg);
}

const void *_mp_deep_caller(uintptr_t sp)
{
	struct deep *d = deep_me;
	if (!d || !d->active || sp < d->lo || sp >= d->hi)
		return NULL;
	return &d->caller;
}

int _mp_deep_active(void)
{
	struct deep *d = deep_me;
	return d && d->active;
}
