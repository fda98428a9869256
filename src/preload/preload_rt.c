/* preload_rt.c - the shims of the runtime around the allocator: fclose of
 * a FILE freed already, dlopen without RTLD_DEEPBIND, dlclose keeping its
 * module symbolizable, pthread_create through the thread registry.  The
 * allocator's own shims are in preload.c.
 */
#define _GNU_SOURCE
#include "shim.h"
#include "pool.h"
#include "reent.h"
#include "report.h"
#include "symbolize.h"
#include "threads.h"
#include "unwind.h"
#include "deepstack.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

/* fclose of a FILE closed already (mawk does it): glibc's fclose reads the
 * freed FILE, which our poison turns into wild pointers (an invalid free of
 * 0xfdfd..., then SIGSEGV in its vtable check).  The FILE is a block of
 * ours freed by the first fclose: say so as the double free it is (both
 * stacks) and fail as on a bad stream, without touching it. */
static int (*real_fclose)(FILE *);

SHIM int fclose(FILE *f)
{
	if (!real_fclose) {
		_mp_enter(); /* dlsym may allocate */
		real_fclose = (int (*)(FILE *))dlsym(RTLD_NEXT, "fclose");
		_mp_leave();
		if (!real_fclose) {
			errno = ENOSYS;
			return EOF;
		}
	}
	if (!SECURE() && !_mp_busy() && _mp_freed_block(f)) {
		struct mp_dealloc d = { .where = "fclose", .family = MP_FAM_MALLOC };
		_mp_free_as(f, CALLER, &d); /* reported: double free */
		errno = EBADF;
		return EOF;
	}
	return real_fclose(f);
}

/* RTLD_DEEPBIND makes a library look symbols up in itself and its own
 * dependencies first: its malloc and free would be glibc's, handed pool
 * blocks (PHP's extensions died of "munmap_chunk(): invalid pointer"), and
 * ours would be handed glibc's.  The flag is dropped, and the user told
 * once, as AddressSanitizer does.  The real dlopen must be reached by a
 * tail call: glibc finds the calling object (whose RUNPATH it searches)
 * from its caller's return address, which must stay the program's. */
SHIM void *dlopen(const char *file, int flags)
{
	static void *(*real_dlopen)(const char *, int);
	if (!real_dlopen)
		real_dlopen = (void *(*)(const char *, int))dlsym(RTLD_NEXT,
								   "dlopen");
	if ((flags & RTLD_DEEPBIND) && !SECURE()) {
		flags &= ~RTLD_DEEPBIND; /* glibc's malloc alone: harmless */
		_mp_report_deepbind(file);
	}
	return real_dlopen(file, flags);
}

static void before_dlclose(void *handle)
{
	_mp_symbolize_before_dlclose(handle);
}

/* Remember a module before it goes, so frames in it stay symbolizable. */
SHIM int dlclose(void *handle)
{
	static int (*real_dlclose)(void *);
	if (!real_dlclose)
		real_dlclose = (int (*)(void *))dlsym(RTLD_NEXT, "dlclose");
	if (SECURE())
		return real_dlclose ? real_dlclose(handle) : -1;
	/* libdw reads its tables: on the library's stack */
	_mp_deep_call(before_dlclose, handle);
	int rc = real_dlclose ? real_dlclose(handle) : -1;
	/* its addresses may now be reused: no cached unwind rule may outlive it */
	int saved = errno;
	_mp_enter();
	_mp_unwind_flush();
	_mp_leave();
	errno = saved;
	return rc;
}

/* Start threads through the registry so their stacks are leak roots. */
SHIM int pthread_create(pthread_t *t, const pthread_attr_t *attr,
			void *(*fn)(void *), void *arg)
{
	static int (*real_create)(pthread_t *, const pthread_attr_t *,
				  void *(*)(void *), void *);
	if (!real_create)
		real_create = (int (*)(pthread_t *, const pthread_attr_t *,
				       void *(*)(void *), void *))
			dlsym(RTLD_NEXT, "pthread_create");
	if (!real_create)
		return EAGAIN;
	/* sampled mode too: a thread's stack bounds for the fast walker */
	void *box = SECURE() && !SAMPLED() ? NULL : _mp_thread_box(fn, arg);
	if (!box)
		return real_create(t, attr, fn, arg);
	int rc = real_create(t, attr, _mp_thread_start, box);
	if (rc)
		_mp_thread_unbox(box);
	return rc;
}
