/* init.c - the pool's initialisation, once per process: the real
 * allocator, the options, stack capture, the report sink, and the fork
 * handlers of every pool lock, registered with procgate in its order.
 * Every entry point below the API calls _mp_ensure_init first. */
#define _GNU_SOURCE
#include "pool.h"
#include "depot.h"
#include "large.h"
#include "lazylibs.h"
#include "options.h"
#include "procgate.h"
#include "quarantine.h"
#include "real.h"
#include "reent.h"
#include "report.h"
#include "slab.h"
#include "tcache.h"
#include "stack.h"
#include "vm.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

atomic_int _mp_init_done;
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

/* The pool's locks around fork, each at its rank (procgate.h); the child
 * releases them like the parent: it is the only thread left. */
static void register_fork_handlers(void)
{
	_mp_procgate_on_fork(MP_FORK_REPORT, NULL, NULL, _mp_report_fork_child);
	_mp_procgate_on_fork(MP_FORK_QUARANTINE, _mp_quarantine_lock,
			     _mp_quarantine_unlock, _mp_quarantine_fork_child);
	_mp_procgate_on_fork(MP_FORK_DEPOT, _mp_depot_lock, _mp_depot_unlock,
			     _mp_depot_unlock);
	_mp_procgate_on_fork(MP_FORK_CLASSES, _mp_tc_fork_prepare,
			     _mp_tc_fork_parent, _mp_tc_fork_child);
	_mp_procgate_on_fork(MP_FORK_LARGE, _mp_large_lock, _mp_large_unlock,
			     _mp_large_unlock);
	_mp_procgate_on_fork(MP_FORK_VM, _mp_vm_lock, _mp_vm_unlock, _mp_vm_unlock);
}

int _mp_initialized(void)
{
	return atomic_load_explicit(&_mp_init_done, memory_order_acquire);
}

int _mp_init(void)
{
	if (atomic_load_explicit(&_mp_init_done, memory_order_acquire))
		return 0;
	_mp_enter(); /* dlsym, getenv, pthread_atfork may allocate */
	pthread_mutex_lock(&init_lock);
	int rc = 0;
	if (!atomic_load(&_mp_init_done)) {
		if (_mp_real_resolve() != 0) {
			rc = -1;
		} else {
			_mp_options_parse(secure_getenv("MPWRAP_OPTIONS"),
					  STDERR_FILENO);
			_mp_stack_init();
			_mp_stack_on_mismatch(_mp_report_unwind_mismatch);
			_mp_depot_on_full(_mp_report_depot_full);
			_mp_report_init();
			register_fork_handlers();
			_mp_tc_init();
			_mp_procgate_init();
			atomic_store_explicit(&_mp_init_done, 1, memory_order_release);
		}
	}
	pthread_mutex_unlock(&init_lock);
	/* the full mode takes a stack on every malloc: its libraries now,
	 * outside init_lock (a dlopen'd constructor's malloc may want it);
	 * sampled mode's wait for its first stack (lazylibs.c) */
	if (!rc && !_mp_opt.sample_rate)
		_mp_lazylibs_need(MP_LZ_ALL);
	_mp_leave();
	if (rc)
		errno = ENOMEM;
	return rc;
}

void _mp_init_forget(void)
{
	atomic_store(&_mp_init_done, 0);
}
