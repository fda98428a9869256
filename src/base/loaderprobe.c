/* loaderprobe.c - is the dynamic loader usable in this process?
 *
 * glibc does not reset the loader's locks in a forked child.  When another
 * thread of the parent was inside dlopen or dlclose at the fork, the child
 * holds those locks for a thread it does not have, and dl_iterate_phdr,
 * dladdr and all that is built on them (unwinding, module roots,
 * symbolization) wait forever: the child's exit report would hang it.  So
 * such a child first tries the loader with a timer armed: if the timer
 * fires, the handler jumps out of the wait and the report is given up.
 */
#define _GNU_SOURCE
#include "loaderprobe.h"
#include "real.h"

#include <dlfcn.h>
#include <stdatomic.h>
#include <link.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PROBE_NS (300 * 1000000L) /* a free loader answers in microseconds */
#define PROBE_SIG_FROM_MAX 7      /* SIGRTMAX - 7: clear of threads.c's */

static sigjmp_buf probe_env;
static volatile sig_atomic_t probing;

static void on_timer(int sig)
{
	(void)sig;
	if (probing)
		siglongjmp(probe_env, 1);
}

static int first_only(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)info;
	(void)size;
	(void)arg;
	return 1;
}

int _mp_loader_usable(void)
{
	int sig = SIGRTMAX - PROBE_SIG_FROM_MAX;
	struct sigaction sa = { .sa_handler = on_timer }, old;
	sigemptyset(&sa.sa_mask);
	if (_mp_real_sigaction(sig, NULL, &old) != 0 || old.sa_handler != SIG_DFL ||
	    _mp_real_sigaction(sig, &sa, NULL) != 0)
		return 1; /* the program's signal: cannot tell, try anyway */
	sigset_t only, saved;
	sigemptyset(&only);
	sigaddset(&only, sig);
	pthread_sigmask(SIG_UNBLOCK, &only, &saved);
	struct sigevent ev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = sig };
	ev._sigev_un._tid = (pid_t)syscall(SYS_gettid); /* sigev_notify_thread_id */
	timer_t t;
	volatile int usable = 1; /* set across sigsetjmp */
	if (timer_create(CLOCK_MONOTONIC, &ev, &t) == 0) {
		struct itimerspec its = { .it_value = { 0, PROBE_NS } };
		usable = 0;
		probing = 1;
		if (sigsetjmp(probe_env, 1) == 0) {
			timer_settime(t, 0, &its, NULL);
			Dl_info di;
			dl_iterate_phdr(first_only, NULL);
			dladdr((void *)&_mp_loader_usable, &di);
			usable = 1;
		}
		probing = 0;
		timer_delete(t);
	}
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	_mp_real_sigaction(sig, &old, NULL);
	return usable;
}

int _mp_loader_probe_signal(void)
{
	return SIGRTMAX - PROBE_SIG_FROM_MAX;
}

static atomic_int probe_due, usable_here = 1;

void _mp_loader_forked(void)
{
	atomic_store(&probe_due, 1);
}

int _mp_loader_ok(void)
{
	/* a child starts with its forking thread alone: no race on the probe */
	if (atomic_load_explicit(&probe_due, memory_order_relaxed) &&
	    atomic_exchange(&probe_due, 0)) /* a plain read on every other call */
		atomic_store(&usable_here, _mp_loader_usable());
	return atomic_load(&usable_here);
}
