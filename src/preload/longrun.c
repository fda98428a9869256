/* longrun.c - servers and daemons rarely return from main: they are killed,
 * or run for weeks.  Here: the full exit report when SIGTERM, SIGINT,
 * SIGHUP, SIGQUIT, SIGPIPE or any other signal whose default action ends
 * the process kills the program (then it dies of that signal), and
 * classified leak checks while it runs: on leak_check_signal, every
 * leak_check_interval seconds, from mp_leak_check and LSan's interface,
 * with leak_check_mode=new and the sites whose reachable bytes keep growing.
 *
 * Checks asked by a signal or the timer run on a checker thread of ours,
 * started at process start when an option asks for one, with every signal
 * blocked: the signal handler only wakes it (a futex, async-signal-safe),
 * because the interrupted thread may hold any lock.  Its stack is our own
 * mapping and it is in no thread registry: no root, never stopped.  A scan
 * takes the pool locks in block.h's order and then stops the program's
 * threads, so none is parked inside the allocator.  A termination signal is
 * reported by the thread it hit, as a fatal one is (signals.c), unless that
 * thread is inside the allocator or a check: then as soon as it leaves.
 */
#define _GNU_SOURCE
#include "longrun.h"
#include "deepstack.h"
#include "api.h"
#include "depot.h"
#include "exit.h"
#include "growth.h"
#include "shim.h"
#include "handoff.h"
#include "leaks.h"
#include "leakscan.h"
#include "loaderprobe.h"
#include "lsanhooks.h"
#include "options.h"
#include "passthru.h"
#include "samplescan.h"
#include "pool.h"
#include "procgate.h"
#include "reent.h"
#include "report.h"
#include "scopelog.h"
#include "lazylibs.h"
#include "signals.h"
#include "threads.h"
#include "vm.h"

#include <dlfcn.h>
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* The checker's stack: reserved, not committed.  The scan keeps its state
 * in static memory; symbolizing (libdw) wants the room. */
#define CHECKER_STACK ((size_t)4 << 20)
#define NSIGS 65            /* signal numbers 1..64 */

/* ---- one check at a time (leakscan.c's scan gate) ------------------- */

static unsigned long seq;  /* checks run by this process */

/* ---- the check -------------------------------------------------------- */

static void counts(const struct mp_leak_set *ls, const struct mp_check_info *ci,
		   struct mp_leak_counts *c)
{
	c->check = ci->seq;
	c->classified = 1;
	c->definite_bytes = ls->bytes[MP_K_DEFINITE];
	c->definite_blocks = ls->blocks[MP_K_DEFINITE];
	c->indirect_bytes = ls->bytes[MP_K_INDIRECT];
	c->indirect_blocks = ls->blocks[MP_K_INDIRECT];
	c->possible_bytes = ls->bytes[MP_K_POSSIBLE];
	c->possible_blocks = ls->blocks[MP_K_POSSIBLE];
	c->reachable_bytes = ls->bytes[MP_K_REACHABLE];
	c->reachable_blocks = ls->blocks[MP_K_REACHABLE];
	for (int k = 0; k < MP_K_NKINDS; k++)
		if (_mp_opt.leak_kinds & (1L << k))
			c->gated_blocks += ls->blocks[k];
	c->growing_sites = ci->grow_total;
}

static int check_body(const char *trigger, int checker,
		      struct mp_leak_counts *out, const char *scope);

struct check_args {
	const char *trigger;
	int checker, rc;
	struct mp_leak_counts *out;
};

static void check_deep(void *a)
{
	struct check_args *ca = a;
	ca->rc = check_body(ca->trigger, ca->checker, ca->out, NULL);
}

static struct mp_frames scope_frames; /* the open scope's (api.c's lock) */

/* mp_scope_end (api.c, already on the library's stack): the check of the
 * scope's own blocks; its lost blocks of the gated kinds, 0 under
 * scope_budget, -1 when no check ran. */
static long scope_check(const char *name)
{
	struct mp_leak_counts c;
	_mp_handoff_set_scope(&scope_frames);
	int rc = check_body("mp_scope_end", 0, &c, name);
	_mp_handoff_set_scope(NULL);
	return rc != 0 ? -1 : (long)c.gated_blocks;
}

/* mp_scope_begin (api.c, under its scope lock): the program's frames where
 * it began the scope; its check's scan of this thread starts in the one of
 * them that spans the scope (handoff.h). */
static void scope_begun(void)
{
	_mp_handoff_frames(&scope_frames);
}

/* The scan and its report go deep: on the library's stack (a program's
 * thread may call mp_leak_check with little of its own left). */
int _mp_longrun_check(const char *trigger, int checker,
		      struct mp_leak_counts *out)
{
	struct check_args ca = { trigger, checker, -1, out };
	_mp_deep_call(check_deep, &ca);
	return ca.rc;
}

static size_t gated_bytes(const struct mp_leak_set *ls)
{
	size_t n = 0;
	for (int k = 0; k < MP_K_NKINDS; k++)
		if (_mp_opt.leak_kinds & (1L << k))
			n += ls->bytes[k];
	return n;
}

static int check_body(const char *trigger, int checker,
		      struct mp_leak_counts *out, const char *scope)
{
	struct mp_leak_counts c;
	memset(&c, 0, sizeof c);
	if (out)
		*out = c;
	if (_mp_scan_gate_inside() || _mp_busy() || _mp_ensure_init() != 0 ||
	    !_mp_loader_ok())
		return -1;
	_mp_lsan_options_load(); /* LSAN_OPTIONS may say detect_leaks=0 */
	if (!_mp_opt.detect_leaks || _mp_lsan_turned_off())
		return -1;
	int rc = -1;
	if (_mp_scan_gate_enter() == 0) {
		struct mp_check_info ci = { .trigger = trigger, .scope = scope,
					    .mode_new = !scope &&
							_mp_opt.leak_check_new != 0 };
		struct mp_leak_set ls;
		_mp_handoff_set_checker(checker);
		if (_mp_passthrough_sampled()) { /* the sampled blocks only */
			rc = _mp_samplescan_collect(&ls);
			ci.mode_new = 0;
		} else {
			rc = _mp_leakscan_classify();
		}
		_mp_handoff_set_checker(0);
		if (rc == 0 && !_mp_passthrough_sampled())
			rc = _mp_leaks_collect(&ls, 1 | (ci.mode_new ? MP_COLLECT_FRESH
								 : 0) |
						     (scope ? MP_COLLECT_SCOPE : 0));
		if (rc == 0) {
			_mp_lsan_suppress(&ls);
			/* a scope reports only lost bytes of the gated kinds at
			 * or above its budget: none, or under it, is silent */
			size_t lost = gated_bytes(&ls);
			if (!scope || (lost && lost >= (size_t)_mp_opt.scope_budget)) {
				ci.seq = ++seq;
				_mp_leakscan_heuristics(ls.heur_bytes, ls.heur_blocks);
				for (size_t i = 0; i < ls.n; i++)
					_mp_leakscan_keeper(ls.g[i].stack, ls.g[i].kind,
							    &ls.g[i].keeper);
				if (!scope) /* a scope's blocks are no site's total */
					_mp_growth(&ls, &ci);
				_mp_exit_check_report(&ci, &ls);
				counts(&ls, &ci, &c);
				if (scope) {
					_mp_scopelog_add(scope, &ls);
					_mp_leaks_scope_mark(MP_SCOPE_CLAIM, 1);
				}
			}
			_mp_leaks_release(&ls);
		}
		_mp_scan_gate_leave();
	}
	if (out)
		*out = c;
	if (_mp_tls.deferred_sig) /* SIGTERM came meanwhile */
		_mp_longrun_deferred(NULL);
	return rc;
}

/* ---- signals: which are ours, and the program's view of them -------- */

/* Every signal whose default action ends the process without a fault
 * (signals.c has those): the real-time ones too (SIGRTMIN..SIGRTMAX, less
 * the three the thread stop may take and the loader probe's timer signal).
 * SIGTRAP is left to debuggers. */
static const int term_sigs[] = {
	SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGALRM, SIGUSR1, SIGUSR2,
	SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF, SIGIO, SIGPWR, SIGSYS, SIGSTKFLT
};
#define NTERM (sizeof term_sigs / sizeof term_sigs[0])

static int is_term_sig(int sig)
{
	for (size_t i = 0; i < NTERM; i++)
		if (term_sigs[i] == sig)
			return 1;
	return sig >= SIGRTMIN && sig <= SIGRTMAX &&
	       !_mp_threads_stop_candidate(sig) &&
	       sig != _mp_loader_probe_signal();
}

/* Our handler is installed for the signal in place of the default: the
 * program is shown SIG_DFL, and its own handler replaces ours. */
static _Atomic int owned[NSIGS];
static int (*real_sigaction)(int, const struct sigaction *, struct sigaction *);
static atomic_int installed; /* the termination handlers are in place */
static atomic_int catches;   /* a handler we did not see installed */

static void tramp(int sig, siginfo_t *si, void *uc);
static int catching(const struct sigaction *sa);
static int resolve(void);

/* A handler of the program's that does not run through tramp (one
 * installed before us, by a library's constructor, or past our sigaction
 * shim): its signals cannot be counted.  Asked only when an EINTR follows
 * a signal of ours (restart.c), so read then, not at every start (62
 * rt_sigaction calls); once seen, it stays (glibc's own handlers,
 * SIGCANCEL and SIGSETXID, are below SIGRTMIN). */
int _mp_longrun_program_catches(void)
{
	if (atomic_load(&catches) || !resolve())
		return atomic_load(&catches);
	for (int s = 1; s < NSIGS && s <= SIGRTMAX; s++) {
		struct sigaction cur;
		if ((s < 32 || s >= SIGRTMIN) && real_sigaction(s, NULL, &cur) == 0 &&
		    catching(&cur)) {
			atomic_store(&catches, 1);
			break;
		}
	}
	return atomic_load(&catches);
}

/* A handler of the program's (not one of ours: signals.c's, threads.c's,
 * tramp) */
static int catching(const struct sigaction *sa)
{
	static Dl_info self;
	Dl_info h;
	if (!(sa->sa_flags & SA_SIGINFO) &&
	    (sa->sa_handler == SIG_DFL || sa->sa_handler == SIG_IGN))
		return 0;
	if (!self.dli_fbase && !dladdr((void *)&catching, &self))
		return 1;
	return !dladdr((void *)sa->sa_sigaction, &h) ||
	       h.dli_fbase != self.dli_fbase;
}
static void term_handler(int sig, siginfo_t *si, void *uc);
static void install(int sig, void (*fn)(int, siginfo_t *, void *));

static int resolve(void)
{
	if (!real_sigaction) {
		_mp_enter(); /* dlsym may allocate */
		real_sigaction = (int (*)(int, const struct sigaction *,
					  struct sigaction *))dlsym(RTLD_NEXT,
								    "sigaction");
		_mp_leave();
	}
	return real_sigaction != NULL;
}

static int ours(int sig)
{
	return sig > 0 && sig < NSIGS && atomic_load(&owned[sig]);
}

/* ---- the program's handlers, counted --------------------------------
 * A handler the program installs runs through tramp(), which counts it on
 * the thread it runs on: restart.c then knows whether an EINTR was the
 * program's signal (given back) or only the library's (the call goes on).
 * The program is shown its own handler and flags. */
struct prog_handler {
	void *_Atomic fn;
	_Atomic int flags; /* the program's sa_flags */
};
static struct prog_handler prog[NSIGS];
static __thread unsigned prog_hits __attribute__((tls_model("initial-exec")));

unsigned _mp_longrun_program_hits(void)
{
	return __atomic_load_n(&prog_hits, __ATOMIC_RELAXED);
}

static void tramp(int sig, siginfo_t *si, void *uc)
{
	__atomic_add_fetch(&prog_hits, 1, __ATOMIC_RELAXED);
	if (sig <= 0 || sig >= NSIGS)
		return;
	void *fn = atomic_load(&prog[sig].fn);
	int flags = atomic_load(&prog[sig].flags);
	if (flags & SA_RESETHAND) /* the kernel put SIG_DFL back already */
		atomic_store(&prog[sig].fn, NULL);
	if (!fn)
		return;
	if (flags & SA_SIGINFO)
		((void (*)(int, siginfo_t *, void *))fn)(sig, si, uc);
	else
		((void (*)(int))fn)(sig);
}

/* real_sigaction, with a catching handler of the program's run through
 * tramp and the program's own shown in *old where tramp is installed */
static int wrapped_sigaction(int sig, const struct sigaction *act,
			     struct sigaction *old)
{
	struct sigaction w, prev;
	int wrap = act && sig > 0 && sig < NSIGS && catching(act);
	void *prev_fn = sig > 0 && sig < NSIGS ? atomic_load(&prog[sig].fn) : NULL;
	int prev_flags = sig > 0 && sig < NSIGS ? atomic_load(&prog[sig].flags) : 0;
	if (wrap) {
		w = *act;
		w.sa_sigaction = tramp;
		w.sa_flags |= SA_SIGINFO;
		atomic_store(&prog[sig].flags, act->sa_flags);
		atomic_store(&prog[sig].fn, (void *)act->sa_sigaction);
	}
	int rc = real_sigaction(sig, wrap ? &w : act, &prev);
	if (rc != 0) {
		if (wrap) {
			atomic_store(&prog[sig].fn, prev_fn);
			atomic_store(&prog[sig].flags, prev_flags);
		}
		return rc;
	}
	if ((prev.sa_flags & SA_SIGINFO) && prev.sa_sigaction == tramp) {
		prev.sa_flags = prev_flags;
		prev.sa_sigaction = (void (*)(int, siginfo_t *, void *))prev_fn;
	}
	if (old)
		*old = prev;
	return 0;
}

SHIM int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (!resolve()) {
		errno = ENOSYS;
		return -1;
	}
	if (!ours(sig)) {
		int rc = wrapped_sigaction(sig, act, old);
		/* the default given back: ours again (the report with it) */
		if (rc == 0 && act && !(act->sa_flags & SA_SIGINFO) &&
		    act->sa_handler == SIG_DFL && atomic_load(&installed) &&
		    sig != (int)_mp_opt.leak_check_signal && is_term_sig(sig))
			install(sig, term_handler);
		return rc;
	}
	if (old) { /* what the program would see without us */
		memset(old, 0, sizeof *old);
		old->sa_handler = SIG_DFL;
	}
	/* the default asked for: ours is the default, plus a report */
	if (!act || (!(act->sa_flags & SA_SIGINFO) && act->sa_handler == SIG_DFL))
		return 0;
	atomic_store(&owned[sig], 0);
	return wrapped_sigaction(sig, act, NULL);
}

/* glibc's signal() calls its internal sigaction, not ours: the same with
 * BSD semantics (SA_RESTART, the signal blocked in its handler). */
SHIM sighandler_t signal(int sig, sighandler_t handler)
{
	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sig > 0 && sig < NSIGS)
		sigaddset(&sa.sa_mask, sig);
	if (sigaction(sig, &sa, &old) != 0)
		return SIG_ERR;
	return old.sa_handler;
}

/* ---- termination ------------------------------------------------------ */

static atomic_int term_tid;    /* the thread writing the report */
static siginfo_t deferred_si;

static void terminate(int sig, const siginfo_t *si, const void *uc)
{
	int me = (int)syscall(SYS_gettid), none = 0;
	if (_mp_exit_defer_term(sig, si))
		return; /* the exit report runs: it dies of sig when written */
	if (!atomic_compare_exchange_strong(&term_tid, &none, me)) {
		if (none == me)
			return; /* our own report runs: it ends the process */
		for (;;)    /* another thread's report will end it */
			pause();
	}
	_mp_exit_dying(); /* errors met from here on: no abort_on_error */
	_mp_report_dying(sig, NULL, si->si_code <= 0 ? (int)si->si_pid : 0, 0, 0);
	/* the leak scan starts where the signal stopped the program, or at
	 * the program's frame that called into the pool */
	if (uc)
		_mp_handoff_set_context(uc);
	else
		_mp_handoff_set_checker(0);
	_mp_fatal_report(1);
	atomic_store(&owned[sig], 0); /* die_of's SIG_DFL must be the real one */
	_mp_signals_die_of(sig, si);
}

/* A termination signal the exit report held: it is written, die of it
 * with SIG_DFL really in place (ours is the program's view of the default) */
static void term_die_of(int sig, const siginfo_t *si)
{
	if (sig > 0 && sig < NSIGS)
		atomic_store(&owned[sig], 0);
	_mp_signals_die_of(sig, si);
}

static void term_handler(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;
	if (_mp_exit_defer_term(sig, si)) {
		errno = saved; /* the exit report runs: it acts on sig */
		return;
	}
	if (sig == SIGPIPE && (_mp_busy() || _mp_tls.nocancel)) {
		/* the kernel sends SIGPIPE to the thread whose write met a
		 * closed pipe: here one of the library's report writes, which
		 * fails with EPIPE; the program's pipes are the program's */
		errno = saved;
		return;
	}
	if (_mp_tls.in_pool || _mp_busy() || _mp_scan_gate_inside() || _mp_tls.nocancel) {
		/* pool locks, the check lock or the report lock may be ours:
		 * report when this thread has left (_mp_longrun_deferred) */
		if (!_mp_tls.deferred_sig) {
			deferred_si = *si;
			_mp_tls.deferred_sig = sig;
		}
		errno = saved;
		return;
	}
	_mp_lazylibs_no_load_here(); /* as signals.c's handler: dying */
	terminate(sig, si, uc);
}

void _mp_longrun_deferred(void *ret)
{
	int sig = _mp_tls.deferred_sig;
	if (!sig || _mp_tls.in_pool || _mp_busy() || _mp_scan_gate_inside() || _mp_tls.nocancel)
		return;
	_mp_tls.deferred_sig = 0;
	_mp_handoff_keep((uintptr_t)ret);
	terminate(sig, &deferred_si, NULL);
}

/* ---- the checker thread ------------------------------------------------ */

static _Atomic int wake;         /* futex word, bumped by each request */
static _Atomic int sig_requests; /* leak_check_signal deliveries not served */
static char sig_trigger[48], timer_trigger[48];

static long futex(_Atomic int *w, int op, int val, const struct timespec *ts)
{
	return syscall(SYS_futex, (int *)w, op, val, ts, NULL, 0);
}

static void check_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	int saved = errno;
	_mp_threads_note_our_signal();
	atomic_fetch_add(&sig_requests, 1);
	atomic_fetch_add(&wake, 1);
	futex(&wake, FUTEX_WAKE_PRIVATE, 1, NULL);
	errno = saved;
}

static void *checker_main(void *arg)
{
	(void)arg;
	long every = _mp_opt.leak_check_interval;
	struct timespec next, now;
	clock_gettime(CLOCK_MONOTONIC, &next);
	next.tv_sec += every;
	for (;;) {
		int w = atomic_load(&wake);
		if (atomic_exchange(&sig_requests, 0) > 0) {
			_mp_longrun_check(sig_trigger, 1, NULL);
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (every && (now.tv_sec > next.tv_sec ||
			      (now.tv_sec == next.tv_sec &&
			       now.tv_nsec >= next.tv_nsec))) {
			_mp_longrun_check(timer_trigger, 1, NULL);
			clock_gettime(CLOCK_MONOTONIC, &next);
			next.tv_sec += every;
			continue;
		}
		struct timespec left = { next.tv_sec - now.tv_sec,
					 next.tv_nsec - now.tv_nsec };
		if (left.tv_nsec < 0) {
			left.tv_sec--;
			left.tv_nsec += 1000000000L;
		}
		futex(&wake, FUTEX_WAIT_PRIVATE, w, every ? &left : NULL);
	}
	return NULL;
}

/* Not through our pthread_create shim: the checker is no program thread
 * (no registry record, never stopped, its stack no root).  The stack is a
 * mapping of ours, which the scan never reads as the program's memory. */
static void start_checker(void)
{
	int (*create)(pthread_t *, const pthread_attr_t *, void *(*)(void *),
		      void *);
	_mp_enter();
	create = (int (*)(pthread_t *, const pthread_attr_t *,
			  void *(*)(void *), void *))dlsym(RTLD_NEXT,
							   "pthread_create");
	_mp_leave();
	void *stack = _mp_map(CHECKER_STACK, 1);
	if (!create || !stack)
		return;
	pthread_attr_t attr;
	pthread_t t;
	sigset_t all, old;
	pthread_attr_init(&attr);
	pthread_attr_setstack(&attr, stack, CHECKER_STACK);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old); /* inherited: none for it */
	_mp_enter();
	int rc = create(&t, &attr, checker_main, NULL);
	_mp_leave();
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		_mp_unmap(stack, CHECKER_STACK);
}

/* A forked child: no checker thread, and a check lock that may have been
 * held by one; its checks and growth history start anew. */
static void child(void)
{
	_mp_scan_gate_child();
	_mp_scopelog_child();
	seq = 0;
	_mp_growth_child();
	atomic_store(&term_tid, 0);
	if (_mp_opt.leak_check_signal || _mp_opt.leak_check_interval)
		start_checker();
}

/* Every termination signal, computed once (install's handler mask: it
 * was recomputed for each of ~46 signals, 3000 calls at every start) */
static sigset_t term_mask;

/* fn in place of the default, in one call that also returns what was
 * there (read, then install, was 2 calls for each of ~45 signals at every
 * start); the program's handler or SIG_IGN is put back at once.  At start
 * the signals are blocked meanwhile (_mp_longrun_install): one that comes
 * is delivered, or discarded as ignored, with the disposition put back. */
static void install(int sig, void (*fn)(int, siginfo_t *, void *))
{
	struct sigaction sa, cur;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (fn == term_handler) /* one termination report at a time */
		sa.sa_mask = term_mask;
	if (real_sigaction(sig, &sa, &cur) != 0)
		return;
	if (cur.sa_handler != SIG_DFL || (cur.sa_flags & SA_SIGINFO)) {
		real_sigaction(sig, &cur, NULL); /* the program's, or ignored */
		return;
	}
	atomic_store(&owned[sig], 1);
}

void _mp_longrun_install(void)
{
	_mp_reent_on_deferred(_mp_longrun_deferred);
	_mp_exit_on_term(term_die_of);
	_mp_api_on_leak_check(_mp_longrun_check);
	_mp_api_on_scope_end(scope_check);
	_mp_api_on_scope_begin(scope_begun);
	char name[32];
	int csig = (int)_mp_opt.leak_check_signal;
	if (!resolve())
		return;
	sigemptyset(&term_mask);
	for (int s = 1; s < NSIGS; s++)
		if (is_term_sig(s))
			sigaddset(&term_mask, s);
	/* every signal we install for, blocked while install() may have ours
	 * in place of the program's handler or SIG_IGN for a moment */
	sigset_t block, was;
	block = term_mask;
	_mp_signals_add_fatal(&block);
	if (csig)
		sigaddset(&block, csig);
	pthread_sigmask(SIG_BLOCK, &block, &was);
	_mp_signals_install(real_sigaction);
	for (int s = 1; s < NSIGS && s <= SIGRTMAX; s++)
		if (s != csig && sigismember(&term_mask, s) == 1)
			install(s, term_handler);
	atomic_store(&installed, 1);
	if (csig)
		install(csig, check_handler);
	pthread_sigmask(SIG_SETMASK, &was, NULL);
	if (csig && !ours(csig))
		_mp_report_check_signal_taken(csig);
	_mp_snprintf(sig_trigger, sizeof sig_trigger, "on %s",
		     _mp_options_signal_name(csig, name, sizeof name));
	_mp_snprintf(timer_trigger, sizeof timer_trigger, "periodic, every %ld s",
		     _mp_opt.leak_check_interval);
	_mp_enter();
	_mp_procgate_on_fork(MP_FORK_CHECKS, NULL, NULL, child);
	_mp_leave();
	if (csig || _mp_opt.leak_check_interval)
		start_checker();
}
