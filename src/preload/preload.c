/* preload.c - the malloc-family shims of libmpwrap.so.
 *
 * With preload_cxx.c (operator new/delete), the only files that define
 * allocation symbols.  Each shim passes
 * its return address down (so stacks start in the program), keeps errno
 * untouched on success and follows glibc's documented semantics, then the
 * exit hook prints the leak report after every other destructor.
 */
#define _GNU_SOURCE
#include "exit.h"
#include "shim.h"
#include "deepstack.h"
#include "options.h"
#include "gpsites.h"
#include "json.h"
#include "longrun.h"
#include "options.h"
#include "passthru.h"
#include "pool.h"
#include "procgate.h"
#include "real.h"
#include "reent.h"
#include "sampled.h"
#include "report.h"
#include "symbolize.h"
#include "signals.h"
#include "threads.h"
#include "unwind.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <link.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>


static size_t page_size(void)
{
	static size_t ps;
	if (!ps)
		ps = (size_t)sysconf(_SC_PAGESIZE);
	return ps;
}


static inline __attribute__((always_inline)) void *
secure_alloc(size_t n, size_t align, uintptr_t caller)
{
	if (_mp_slots_tick()) {
		void *p = _mp_sampled_alloc(n, align, MP_FAM_MALLOC, caller);
		if (p)
			return p;
	}
	_mp_real_resolve();
	return align > 16 ? _mp_real_memalign(align, n) : _mp_real_malloc(n);
}

/* An argument error of call `where`: reported (errno kept), the call then
 * fails or goes on exactly as glibc's would. */
static void call_error(enum mp_err kind, const char *where, size_t a, size_t b,
		       uintptr_t caller)
{
	int saved = errno;
	if (!SECURE())
		_mp_call_error(kind, where, a, b, caller);
	errno = saved;
}

/* n is a size no allocation can have (reported): the call fails. */
static inline int too_big(size_t n, const char *where, uintptr_t caller)
{
	/* no max_allocation_size and a size that fits ptrdiff_t: nothing to
	 * report, decided inline (_mp_too_big would say the same) */
	if (__builtin_expect(n <= (size_t)PTRDIFF_MAX && !_mp_opt.max_allocation_size, 1))
		return 0;
	int saved = errno;
	int bad = !SECURE() && _mp_too_big(n, where, caller);
	errno = saved;
	return bad;
}

/* Allocate keeping errno when it works and setting ENOMEM when not. */
static void *alloc_keep_errno(size_t n, size_t align, uintptr_t caller,
			      const char *where)
{
	if (too_big(n, where, caller)) {
		errno = ENOMEM;
		return NULL;
	}
	int saved = errno;
	void *p = SECURE() ? secure_alloc(n, align, caller)
			   : _mp_alloc(n, align, caller);
	if (p)
		errno = saved;
	else
		errno = ENOMEM;
	return p;
}

/* Sampled mode's unsampled calls, the fast path: one load of the mode,
 * one thread-local decrement (malloc) or one range check (free), then the
 * C library's own function, which keeps errno as it always does.  The
 * countdown is 0 in a thread that never allocated, so its first call
 * takes the slow path, which resolves the real allocator. */
#define SAMPLED_FAST() __builtin_expect(_mp_passthrough_sampled_fast(), 1)

SHIM void *malloc(size_t n)
{
	void *(*real)(size_t) = _mp_real_malloc_fn;
	if (SAMPLED_FAST() && real && --_mp_slots_countdown > 0)
		return real(n);
	return alloc_keep_errno(n, 16, CALLER, "malloc");
}

/* free's slow path, out of line: the fast one then needs no frame */
static __attribute__((noinline)) void free_slow(void *p, uintptr_t caller)
{
	int saved = errno;
	if (SECURE()) {
		if (__builtin_expect(_mp_slots_owns(p), 0))
			_mp_sampled_free(p, MP_FAM_MALLOC, caller, "free");
		else
			_mp_real_free(p);
	} else {
		_mp_free(p, caller, "free");
	}
	errno = saved;
}

SHIM void free(void *p)
{
	if (SAMPLED_FAST() && !_mp_slots_owns(p)) {
		_mp_real_free(p);
		return;
	}
	free_slow(p, CALLER);
}

SHIM void *calloc(size_t nmemb, size_t size)
{
	/* glibc's calloc: its own overflow check, and no memset of memory
	 * fresh from the kernel */
	void *(*real)(size_t, size_t) = _mp_real_calloc_fn;
	if (SAMPLED_FAST() && real && --_mp_slots_countdown > 0)
		return real(nmemb, size);
	size_t n;
	if (__builtin_mul_overflow(nmemb, size, &n)) {
		call_error(MP_E_CALLOC_OVERFLOW, "calloc", nmemb, size, CALLER);
		errno = ENOMEM;
		return NULL;
	}
	if (n == 0 && (ptrdiff_t)(nmemb | size) < 0) /* calloc(0, -1) */
		call_error(MP_E_FISHY_VALUE, "calloc", nmemb, size, CALLER);
	if (!SECURE()) { /* zeroed by the pool (see MP_ALLOC_ZERO) */
		if (too_big(n, "calloc", CALLER)) {
			errno = ENOMEM;
			return NULL;
		}
		int saved = errno;
		void *p = _mp_alloc_as(n, 16, MP_FAM_MALLOC | MP_ALLOC_ZERO, CALLER);
		errno = p ? saved : ENOMEM;
		return p;
	}
	void *p = alloc_keep_errno(n, 16, CALLER, "calloc");
	if (p && !_mp_boot_owns(p)) /* the bootstrap arena is zero already */
		memset(p, 0, n);
	return p;
}

static void *secure_realloc(void *p, size_t n, uintptr_t caller)
{
	if (__builtin_expect(_mp_slots_owns(p), 0))
		return _mp_sampled_realloc(p, n, caller);
	_mp_real_resolve();
	if (!p || !_mp_boot_owns(p))
		return _mp_real_realloc(p, n);
	void *q = _mp_real_malloc(n); /* out of the bootstrap arena */
	size_t old = _mp_boot_size(p);
	if (q)
		memcpy(q, p, old < n ? old : n);
	return q;
}

/* realloc and reallocarray: glibc's errno (kept unless the call fails;
 * p is left alone by a failed one).  caller: the shim's return address. */
static inline __attribute__((always_inline)) void *
realloc_as(void *p, size_t n, const char *where, uintptr_t caller)
{
	if (too_big(n, where, caller)) {
		errno = ENOMEM;
		return NULL;
	}
	int saved = errno;
	void *q = SECURE() ? secure_realloc(p, n, caller)
			   : _mp_realloc(p, n, caller);
	if (q || (p && n == 0))
		errno = saved;
	return q;
}

SHIM void *realloc(void *p, size_t n)
{
	/* a realloc of a glibc block is never sampled; secure_realloc keeps
	 * the C library's errno (no report here can change it) */
	if (SAMPLED_FAST())
		return secure_realloc(p, n, CALLER);
	return realloc_as(p, n, "realloc", CALLER);
}

SHIM void *reallocarray(void *p, size_t nmemb, size_t size)
{
	size_t n;
	if (__builtin_mul_overflow(nmemb, size, &n)) {
		call_error(MP_E_CALLOC_OVERFLOW, "reallocarray", nmemb, size,
			   CALLER);
		errno = ENOMEM;
		return NULL;
	}
	return realloc_as(p, n, "reallocarray", CALLER);
}

static int pow2(size_t a)
{
	return a && !(a & (a - 1));
}

/* The alignment glibc uses for one that is not a power of two: the next
 * power of two, at least 16; 0 where it fails (EINVAL). */
static size_t glibc_align(size_t align)
{
	if (align > ((size_t)1 << 62))
		return 0;
	size_t a = 16;
	while (a < align)
		a <<= 1;
	return a;
}

SHIM void *memalign(size_t align, size_t n)
{
	/* glibc rounds a non-power-of-two alignment up */
	if (!pow2(align)) {
		call_error(MP_E_INVALID_ALIGNMENT, "memalign", align, n, CALLER);
		if (!(align = glibc_align(align))) {
			errno = EINVAL;
			return NULL;
		}
	}
	if (n == 0)
		call_error(MP_E_ALLOC_SIZE_ZERO, "memalign", align, 0, CALLER);
	return alloc_keep_errno(n, align, CALLER, "memalign");
}

SHIM int posix_memalign(void **out, size_t align, size_t n)
{
	if (!pow2(align) || align % sizeof(void *)) {
		call_error(MP_E_INVALID_ALIGNMENT, "posix_memalign", align, n,
			   CALLER);
		return EINVAL;
	}
	if (n == 0)
		call_error(MP_E_ALLOC_SIZE_ZERO, "posix_memalign", align, 0, CALLER);
	if (too_big(n, "posix_memalign", CALLER))
		return ENOMEM;
	int saved = errno;
	void *p = SECURE() ? secure_alloc(n, align, CALLER)
			   : _mp_alloc(n, align, CALLER);
	errno = saved;
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

/* glibc before 2.38 serves aligned_alloc as memalign (an alignment that is
 * not a power of two, or 0, is rounded up and memory returned); 2.38 and
 * later fail a non-power-of-two (not 0) with EINVAL.  Reported either way,
 * answered as the running glibc would. */
static int aligned_alloc_strict(void)
{
	static int strict = -1;
	if (strict < 0) {
		const char *v = gnu_get_libc_version();
		unsigned major = 0, minor = 0;
		while (*v >= '0' && *v <= '9')
			major = major * 10 + (unsigned)(*v++ - '0');
		if (*v == '.')
			v++;
		while (*v >= '0' && *v <= '9')
			minor = minor * 10 + (unsigned)(*v++ - '0');
		strict = major > 2 || (major == 2 && minor >= 38);
	}
	return strict;
}

SHIM void *aligned_alloc(size_t align, size_t n)
{
	if (!pow2(align)) { /* one error for it, not a second below */
		if (align && aligned_alloc_strict()) {
			call_error(MP_E_INVALID_ALIGNMENT, "aligned_alloc",
				   align, n, CALLER);
			errno = EINVAL;
			return NULL;
		}
		call_error(MP_E_INVALID_ALIGNMENT, "aligned_alloc", align, n,
			   CALLER);
		if (!(align = glibc_align(align))) {
			errno = EINVAL;
			return NULL;
		}
	} else if (n % align) { /* memcheck 3.22's; glibc allocates all the same */
		call_error(MP_E_INVALID_ALIGNMENT, "aligned_alloc", align, n,
			   CALLER);
	} else if (n == 0) {
		call_error(MP_E_ALLOC_SIZE_ZERO, "aligned_alloc", align, 0, CALLER);
	}
	return alloc_keep_errno(n, align, CALLER, "aligned_alloc");
}

SHIM void *valloc(size_t n)
{
	return alloc_keep_errno(n, page_size(), CALLER, "valloc");
}

SHIM void *pvalloc(size_t n)
{
	size_t ps = page_size(), r;
	if (__builtin_add_overflow(n, ps - 1, &r)) {
		too_big(n, "pvalloc", CALLER);
		errno = ENOMEM;
		return NULL;
	}
	r &= ~(ps - 1);
	return alloc_keep_errno(r ? r : ps, ps, CALLER, "pvalloc");
}

/* glibc also exports its allocator as __libc_malloc and the like (old
 * programs, some runtimes and debugging allocators call them): the same
 * shims under those names, or a block from glibc's heap would reach our
 * free as an invalid pointer.  (__libc_reallocarray is GLIBC_PRIVATE.) */
#define LIBC_ALIAS(name, of) \
	extern __typeof(of) name __attribute__((alias(#of), visibility("default")))
/* (the aliases need not repeat <stdlib.h>'s optimisation attributes) */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wunknown-warning-option"
#pragma GCC diagnostic ignored "-Wmissing-attributes"
LIBC_ALIAS(__libc_malloc, malloc);
LIBC_ALIAS(__libc_free, free);
LIBC_ALIAS(__libc_calloc, calloc);
LIBC_ALIAS(__libc_realloc, realloc);
LIBC_ALIAS(__libc_memalign, memalign);
LIBC_ALIAS(__libc_valloc, valloc);
LIBC_ALIAS(__libc_pvalloc, pvalloc);
#pragma GCC diagnostic pop

/* The requested size: writing up to it never touches a guard. */
SHIM size_t malloc_usable_size(void *p)
{
	if (SECURE())
		return _mp_slots_owns(p) ? _mp_sampled_usable_size(p)
					 : _mp_real_usable_size(p);
	return _mp_usable_size(p);
}

/* The process the report is for: a vfork child shares our memory and must
 * not write the parent's report (no fork handler tells us it exists). */
static pid_t report_pid;

static void child_pid(void)
{
	report_pid = getpid();
	_mp_json_start_marker(1);
}

/* _exit skips destructors, yet memcheck still checks the heap: report as at
 * exit (errors, leaks, JSON, exitcode), then leave the same way. */
static __attribute__((noreturn)) void exit_now(int status)
{
	if ((!SECURE() || SAMPLED()) && getpid() == report_pid)
		_mp_exit_report();
	for (;;)
		syscall(SYS_exit_group, status);
}

SHIM void _exit(int status)
{
	exit_now(status);
}

SHIM void _Exit(int status)
{
	exit_now(status);
}

/* A system program passed through says so, cheaply: one line, its
 * executable's path, appended to passthrough_path (mpcheck counts them and
 * names them; an exec under the same pid appends another line), and drops
 * the start marker a checked image of this pid made before its exec (a
 * perl or make child forked, then exec'd /bin/sh). */
static void passthrough_trace(void)
{
	size_t len = 0;
	const char *v = _mp_options_peek(getenv("MPWRAP_OPTIONS"),
					 "passthrough_path", &len);
	char tmpl[MP_PATH_MAX], path[MP_PATH_MAX + 32], line[4096 + 2];
	if (!v || !len || len >= sizeof tmpl)
		return;
	memcpy(tmpl, v, len);
	tmpl[len] = '\0';
	_mp_expand_path(path, sizeof path, tmpl);
	size_t n = strlen(_mp_passthrough_exe());
	if (n > sizeof line - 2)
		n = sizeof line - 2;
	memcpy(line, _mp_passthrough_exe(), n);
	line[n++] = '\n';
	int saved = errno;
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW |
			    O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0600);
	if (fd >= 0) {
		if (write(fd, line, n) < 0) {
			/* nothing to do: the trace is a courtesy */
		}
		close(fd);
	}
	v = _mp_options_peek(getenv("MPWRAP_OPTIONS"), "start_path", &len);
	if (v && len && len < sizeof tmpl) {
		memcpy(tmpl, v, len);
		tmpl[len] = '\0';
		_mp_expand_path(path, sizeof path, tmpl);
		_mp_json_drop_marker(path);
	}
	errno = saved;
}

/* Which of two modules comes first in the global scope (the link map's
 * order, which dl_iterate_phdr walks): that one's malloc is the program's. */
struct scope_order {
	uintptr_t a, b;
	int first; /* 1: a, 2: b, 0: not seen yet */
};

static int scope_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	struct scope_order *so = arg;
	if (!so->first && info->dlpi_addr == so->a)
		so->first = 1;
	else if (!so->first && info->dlpi_addr == so->b)
		so->first = 2;
	return so->first != 0;
}

/* Where a canonical PLT stub of malloc leads.  A non-PIE executable that
 * takes malloc's address in its code (Debian's python3) gets an undefined
 * dynamic symbol with a value, the stub's address, so that the address is
 * the same everywhere; dlsym finds it first (the executable leads the
 * scope), but it is no allocator: it jumps to whatever malloc binds.  That
 * is the first definition after the executable in the scope's order, so
 * the modules loaded before ours (the preloads before it) are asked, each
 * through a handle of its own; a handle's look-up also searches the
 * module's dependencies, so only a definition in the module itself counts. */
struct stub_walk {
	uintptr_t mine, libc;
	const char *ver;
	int index;
	void *found;
	Dl_info *theirs;
};

static int stub_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	struct stub_walk *w = arg;
	if (w->index++ == 0 || !info->dlpi_name || !info->dlpi_name[0])
		return 0; /* the executable (the stub's), the vDSO */
	if (info->dlpi_addr == w->mine || info->dlpi_addr == w->libc)
		return 1; /* ours (or libc's) binds first */
	void *h = dlopen(info->dlpi_name, RTLD_NOLOAD | RTLD_LAZY);
	if (!h)
		return 0;
	void *m = w->ver ? dlvsym(h, "malloc", w->ver) : dlsym(h, "malloc");
	if (m && dladdr(m, w->theirs) &&
	    (uintptr_t)w->theirs->dli_fbase == info->dlpi_addr)
		w->found = m;
	dlclose(h);
	return w->found != NULL;
}

/* The malloc the program's calls bind to, when it is not ours (NULL when
 * ours).  Programs ask for libc's version of it (malloc@GLIBC_2.2.5 on
 * x86-64): glibc's libc_malloc_debug.so defines it as a non-default version
 * only, which an unversioned look-up misses, and a versioned one finds
 * libc's own even when ours (unversioned) is what binds.  So: a versioned
 * definition that is neither ours nor libc's, in a module before ours. */
static void *foreign_malloc(Dl_info *mine, Dl_info *theirs)
{
	static const char *const vers[] = { "GLIBC_2.2.5", "GLIBC_2.17",
					    "GLIBC_2.0", "GLIBC_2.2" };
	Dl_info libc;
	if (!dladdr((void *)&foreign_malloc, mine))
		return NULL;
	if (!dladdr((void *)&getpid, &libc))
		libc.dli_fbase = NULL;
	for (size_t i = 0; i <= sizeof vers / sizeof vers[0]; i++) {
		void *m = i ? dlvsym(RTLD_DEFAULT, "malloc", vers[i - 1])
			    : dlsym(RTLD_DEFAULT, "malloc");
		const ElfW(Sym) *sym = NULL;
		if (m && dladdr1(m, theirs, (void **)&sym, RTLD_DL_SYMENT) && sym &&
		    sym->st_shndx == SHN_UNDEF) { /* a canonical PLT stub */
			struct stub_walk w = { (uintptr_t)mine->dli_fbase,
					       (uintptr_t)libc.dli_fbase,
					       i ? vers[i - 1] : NULL, 0, NULL,
					       theirs };
			dl_iterate_phdr(stub_cb, &w);
			if (w.found)
				return w.found;
			continue;
		}
		if (!m || !dladdr(m, theirs) || theirs->dli_fbase == mine->dli_fbase ||
		    (i && theirs->dli_fbase == libc.dli_fbase))
			continue;
		struct scope_order so = { (uintptr_t)theirs->dli_fbase,
					  (uintptr_t)mine->dli_fbase, 0 };
		if (!i)
			return m; /* the unversioned look-up found it first */
		/* dlpi_addr is the load bias; dli_fbase the mapping's start:
		 * equal for shared objects (linked at 0) */
		dl_iterate_phdr(scope_cb, &so);
		if (so.first == 1)
			return m;
	}
	return NULL;
}

/* Sampled mode's start: the slots, stacks, the fatal-signal report and
 * the exit report; glibc keeps its arenas (no pool to feed). */
static void sampled_start(void)
{
	report_pid = getpid();
	if (_mp_sampled_start() != 0)
		return; /* no slots: a plain pass-through */
	_mp_procgate_on_fork(MP_FORK_PROCESS, NULL, NULL, child_pid);
	_mp_unwind_no_lazy_bounds();
	/* the registry's record also gives the walker the main thread's
	 * stack bounds: one read of /proc/self/maps, not two
	 * (pthread_getattr_np allocates: never a sampled block) */
	_mp_enter();
	_mp_thread_register_self();
	_mp_leave();
	if (_mp_opt.json_path[0]) /* the marker and test name serve the JSON
				   * report only: none, no /proc reads */
		_mp_json_start_marker(1);
	_mp_threads_atfork();
	_mp_longrun_install(); /* fatal signals, SIGTERM & co., leak checks on demand */
}

__attribute__((constructor)) static void mpwrap_start(void)
{
	if (SAMPLED()) {
		sampled_start();
		return;
	}
	if (SECURE()) {
		if (_mp_passthrough_system())
			passthrough_trace();
		return;
	}
	report_pid = getpid();
	/* Every block of the program's is ours; glibc's heap holds only large
	 * blocks' chunks and our own helpers' data.  One arena keeps all of
	 * it in [heap], which the leak scan never reads: a thread arena is
	 * anonymous memory, where a freed chunk's stale pointers would act
	 * as roots. */
	mallopt(M_ARENA_MAX, 1);
	_mp_ensure_init();
	_mp_enter();
	_mp_unwind_prepare_thread(); /* the main thread's stack bounds */
	_mp_leave();
	_mp_procgate_on_fork(MP_FORK_PROCESS, NULL, NULL, child_pid);
	_mp_unwind_no_lazy_bounds();
	_mp_thread_register_self(); /* stopped and read like any other */
	_mp_json_start_marker(1);
	_mp_gp_sites_resolve(); /* every module loaded so far is mapped */
	_mp_threads_atfork();
	_mp_longrun_install(); /* fatal signals, SIGTERM & co., leak checks while running */
	Dl_info mine, theirs;
	/* a failed dlvsym keeps its error text in memory of the real
	 * malloc: taken while busy, and given back here (the second dlerror
	 * frees what the first returned), not by the program's next dl call */
	_mp_enter();
	void *m = foreign_malloc(&mine, &theirs);
	dlerror();
	dlerror();
	_mp_leave();
	if (m) {
		/* An allocator that only wraps glibc's (libc_malloc_debug.so
		 * calls __libc_malloc, which is ours too) still hands out our
		 * blocks: a probe block tells.  One of its own (jemalloc,
		 * tcmalloc) keeps the probe, 24 bytes of its heap. */
		_mp_enter();
		void *probe = ((void *(*)(size_t))m)(24);
		_mp_leave();
		if (probe && _mp_usable_size(probe) == 24) {
			_mp_free(probe, CALLER, "free");
			m = NULL;
		}
	}
	if (m) {
		/* the program's malloc calls bind to another allocator (one
		 * preloaded first, or the program's own): nothing is checked */
		char why[MP_PATH_MAX + 128];
		_mp_set_foreign_malloc(1);
		_mp_snprintf(why, sizeof why, "malloc in this process is %s's, "
			     "not libmpwrap.so's (preloaded before it, or the "
			     "program's own): nothing is checked",
			     theirs.dli_fname && theirs.dli_fname[0]
				     ? theirs.dli_fname : "the program");
		_mp_report_set_unchecked("the checker is inactive", why);
	}
}

/* Runs from _dl_fini: after the program's atexit handlers and the
 * destructors of every object loaded after us. */
__attribute__((destructor)) static void mpwrap_exit(void)
{
	if (!SECURE() || SAMPLED())
		_mp_exit_report();
}
