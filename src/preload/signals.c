/* signals.c - the program is dying of SIGSEGV, SIGBUS, SIGFPE, SIGILL or
 * SIGABRT: say so with the faulting stack, write the error summary, leak
 * report and JSON file, then let the signal do what it would have done.
 *
 * The handler never swallows the signal: it restores the previous
 * disposition and returns (a fault re-executes and kills the process the
 * same way), or sends the signal again (abort, kill, and a fault whose
 * address the report's own mappings made valid).  If the crash happened inside the
 * allocator, pool locks may be held: the leak scan is skipped then.
 * Symbolization allocates, through the real allocator; a crash inside
 * glibc's malloc itself could still hang here, which is why the report is
 * produced only once and handlers are installed only where none was.
 */
#define _GNU_SOURCE
#include "signals.h"
#include "exit.h"
#include "deepstack.h"
#include "guardpage.h"
#include "sampleslots.h"
#include "handoff.h"
#include "options.h"
#include "reent.h"
#include "report.h"
#include "stack.h"
#include "depot.h"
#include "lazylibs.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

static const int fatal[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
#define NFATAL (sizeof fatal / sizeof fatal[0])
static struct sigaction old[NFATAL];

static atomic_int once; /* the death of this process is being reported */

/* Is the page of addr mapped at all (whatever its protection)? */
static int page_mapped(uintptr_t addr)
{
	unsigned char vec;
	uintptr_t ps = (uintptr_t)sysconf(_SC_PAGESIZE);
	return mincore((void *)(addr & ~(ps - 1)), ps, &vec) == 0 || errno != ENOMEM;
}

/* Die of sig now, as a sent signal is delivered: the default action,
 * unblocked, with the original siginfo (a core shows the same si_code and
 * address).  Never returns. */
void _mp_signals_die_of(int sig, const siginfo_t *si)
{
	struct sigaction dfl;
	sigset_t set;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigaction(sig, &dfl, NULL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	siginfo_t info = *si;
	syscall(SYS_rt_tgsigqueueinfo, getpid(), syscall(SYS_gettid), sig, &info);
	raise(sig); /* a kernel that refused the siginfo */
	for (;;)    /* cannot happen: the default action of sig is to die */
		syscall(SYS_exit_group, 128 + sig);
}

/* Read or write?  The page-fault error code the kernel leaves in the
 * context says so on x86-64 (bit 1: the access was a write). */
#define PF_WRITE_BIT 2
static int fault_access(const void *uc)
{
#if defined(__x86_64__)
	const ucontext_t *u = uc;
	return u && (u->uc_mcontext.gregs[REG_ERR] & PF_WRITE_BIT)
		       ? MP_ACCESS_WRITE : MP_ACCESS_READ;
#else
	(void)uc;
	return 0;
#endif
}

/* What the report of a fatal signal needs, on the library's stack. */
struct fatal_args {
	int sig, fault, in_pool;
	siginfo_t *si;
	void *uc;
	uintptr_t *pcs;
	unsigned n;
};

static void fatal_deep(void *a)
{
	struct fatal_args *fa = a;
	int sig = fa->sig, fault = fa->fault, in_pool = fa->in_pool;
	siginfo_t *si = fa->si;
	unsigned n = fa->n;
	uint32_t id = n ? _mp_depot_put(fa->pcs, n) : 0;
	struct mp_verdict v;
	if (sig == SIGSEGV &&
	    (_mp_gp_fault((uintptr_t)si->si_addr, id, fault_access(fa->uc), &v) ||
	     _mp_slots_fault((uintptr_t)si->si_addr, id, fault_access(fa->uc),
			     &v))) {
		/* a guard page caught it: this is the real report */
		_mp_report_error(&v);
		n = 0; /* the stack was in it */
	}
	_mp_report_dying(sig, fault ? si->si_addr : NULL,
			 si->si_code <= 0 && sig != SIGABRT ? (int)si->si_pid : 0,
			 in_pool, n ? id : 0);
	/* the leak scan starts where the signal stopped the program */
	_mp_handoff_set_context(fa->uc);
	_mp_fatal_report(!in_pool);
}

static void handler(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;
	size_t k = 0;
	/* never dlopen here (the signal may have stopped this thread inside
	 * the loader or glibc's malloc): a sampled process loaded the
	 * libraries at its first sample; one that took none reports its
	 * death by module+offset */
	_mp_lazylibs_no_load_here();
	while (k < NFATAL && fatal[k] != sig)
		k++;
	/* a fault is retried when the handler returns: remember whether its
	 * address was mapped, before the report maps memory of its own */
	int fault = si->si_code > 0 && sig != SIGABRT;
	int was_mapped = fault && sig == SIGSEGV ? page_mapped((uintptr_t)si->si_addr) : 1;
	if (!_mp_exit_aborting() && !atomic_exchange(&once, 1)) {
		uintptr_t pcs[MP_MAX_DEPTH];
		unsigned n = 0;
		/* inside the pool, pool locks may be held; inside a report of
		 * this thread's, the symbolizer's may, and the report's half
		 * written: say what can be said without them */
		int in_pool = _mp_report_inside() ? 2 : _mp_tls.in_pool != 0;
		_mp_exit_dying(); /* errors met from here on: no abort_on_error */
		_mp_tls.raw_stacks = in_pool; /* symbolizing would take locks */
		if (!in_pool && _mp_opt.stack_depth) {
			_mp_enter();
			/* start at the signal trampoline our handler returns
			 * to, then drop it: frame #0 is where the signal hit */
			n = _mp_stack_capture(pcs, (unsigned)_mp_opt.stack_depth + 1,
					      (uintptr_t)__builtin_return_address(0));
			_mp_leave();
			if (n > 1)
				memmove(pcs, pcs + 1, --n * sizeof *pcs);
			else if (!_mp_lazylibs_ready(MP_LZ_ALL) && uc) {
				/* no unwinder (not loaded in here): the
				 * interrupted pc, not the trampoline's */
				pcs[0] = (uintptr_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP];
				n = 1;
			}
			/* frame #0 is the faulting instruction itself, not a
			 * return address: the symbolizer looks up pc - 1 (the
			 * call), which at -O2 can be the line before.  Stored
			 * one byte on (still inside the instruction). */
			if (n && fault)
				pcs[0]++;
		}
		/* the stack was captured here, on the program's stack; the
		 * report runs on the library's (the program's may be nearly
		 * used up: a handler on a small sigaltstack, an overflow) */
		struct fatal_args fa = { sig, fault, in_pool, si, uc, pcs, n };
		_mp_deep_call(fatal_deep, &fa);
	}
	/* The report said "dying": make it so.  A sent signal (or abort) is
	 * sent again.  A fault is retried with the old disposition, which
	 * gives the core the faulting instruction itself, unless the retry
	 * could now succeed: the report's own mappings (the symbolizer's,
	 * the real allocator's) may have landed on an address that was
	 * unmapped.  Then it is sent too, with its siginfo. */
	if (!fault || (!was_mapped && page_mapped((uintptr_t)si->si_addr)))
		_mp_signals_die_of(sig, si);
	sigaction(sig, &old[k], NULL);
	errno = saved;
}

void _mp_signals_install(int (*real)(int, const struct sigaction *,
				     struct sigaction *))
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = handler;
	/* SA_ONSTACK: where the program set a sigaltstack, a stack overflow
	 * is reported too (the handler needs little: the report runs on the
	 * library's stack); without one, the flag changes nothing */
	sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	/* one call each, which returns what was there; the program's own
	 * handler (or SIG_IGN) is put back at once */
	for (size_t i = 0; i < NFATAL; i++) {
		if (real(fatal[i], &sa, &old[i]) != 0)
			continue;
		if (old[i].sa_handler != SIG_DFL)
			real(fatal[i], &old[i], NULL);
	}
}

void _mp_signals_add_fatal(sigset_t *set)
{
	for (size_t i = 0; i < NFATAL; i++)
		sigaddset(set, fatal[i]);
}
