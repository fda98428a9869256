/* real.c - the real allocator, found with dlsym(RTLD_NEXT), and the static
 * bootstrap arena that serves calls made while dlsym itself runs (glibc's
 * dlsym may calloc a dlerror buffer before malloc is known).  Also home of
 * the per-thread reentrancy guard.
 */
#define _GNU_SOURCE
#include "real.h"
#include "reent.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>

__thread struct mp_tls _mp_tls __attribute__((tls_model("initial-exec")));

void _mp_nocancel_enter(void)
{
	if (_mp_tls.nocancel++ == 0)
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &_mp_tls.cancel_state);
}

/* libmpwrap.so registers what runs when a termination signal that came
 * while this thread was inside the pool or a report can be reported
 * (longrun.c); see reent.h. */
static void (*_Atomic deferred_hook)(void *ret);

void _mp_reent_on_deferred(void (*hook)(void *ret))
{
	atomic_store(&deferred_hook, hook);
}

void _mp_reent_run_deferred(void *ret)
{
	void (*hook)(void *) = atomic_load(&deferred_hook);
	if (hook)
		hook(ret);
}

void _mp_nocancel_leave(void)
{
	if (--_mp_tls.nocancel == 0) {
		pthread_setcancelstate(_mp_tls.cancel_state, NULL);
		if (__builtin_expect(_mp_tls.deferred_sig != 0, 0))
			_mp_reent_run_deferred(NULL);
	}
}

void *(*_mp_real_malloc_fn)(size_t);
void *(*_mp_real_calloc_fn)(size_t, size_t);
#define real_malloc _mp_real_malloc_fn
#define real_calloc _mp_real_calloc_fn
static void *(*real_realloc)(void *, size_t);
static void *(*real_memalign)(size_t, size_t);
static void (*real_free)(void *);
static size_t (*real_usable)(void *);

/* glibc exports sigaction under this name too (the one its own code calls);
 * a preloaded shim named sigaction does not interpose on it. */
extern int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);

int _mp_real_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	return __sigaction(sig, act, old);
}

int _mp_secure(void)
{
	static int secure = -1; /* getauxval: no malloc, safe at any time */
	if (secure < 0)
		secure = getauxval(AT_SECURE) != 0;
	return secure;
}

size_t _mp_real_usable_size(void *p)
{
	return real_usable && !_mp_boot_owns(p) ? real_usable(p)
		: _mp_boot_owns(p) ? _mp_boot_size(p) : 0;
}

#define BOOT_BYTES (256 * 1024)
static _Alignas(64) char boot[BOOT_BYTES];
static atomic_size_t boot_used;

void *_mp_boot_alloc(size_t n, size_t align)
{
	/* block = [size_t size][pad][user]; align is a power of two >= 16 */
	if (align < 16)
		align = 16;
	size_t cur = atomic_load(&boot_used), start, end;
	do {
		start = (cur + sizeof(size_t) + align - 1) & ~(align - 1);
		end = start + (n ? n : 1);
		if (end > BOOT_BYTES) {
			errno = ENOMEM;
			return NULL;
		}
	} while (!atomic_compare_exchange_weak(&boot_used, &cur, end));
	memcpy(boot + start - sizeof(size_t), &n, sizeof n);
	return boot + start; /* static storage: already zero */
}

int _mp_boot_owns(const void *p)
{
	return (const char *)p >= boot && (const char *)p < boot + BOOT_BYTES;
}

size_t _mp_boot_size(const void *p)
{
	size_t n;
	memcpy(&n, (const char *)p - sizeof n, sizeof n);
	return n;
}

int _mp_real_resolve(void)
{
	if (real_free)
		return 0;
	_mp_enter();
	void *m = dlsym(RTLD_NEXT, "malloc");
	void *c = dlsym(RTLD_NEXT, "calloc");
	void *r = dlsym(RTLD_NEXT, "realloc");
	void *a = dlsym(RTLD_NEXT, "memalign");
	void *f = dlsym(RTLD_NEXT, "free");
	void *u = dlsym(RTLD_NEXT, "malloc_usable_size");
	_mp_leave();
	if (!m || !c || !r || !a || !f)
		return -1;
	real_malloc = (void *(*)(size_t))m;
	real_calloc = (void *(*)(size_t, size_t))c;
	real_realloc = (void *(*)(void *, size_t))r;
	real_memalign = (void *(*)(size_t, size_t))a;
	real_usable = (size_t (*)(void *))u;
	__atomic_store_n(&real_free, (void (*)(void *))f, __ATOMIC_RELEASE);
	return 0;
}

void *_mp_real_malloc(size_t n)
{
	return real_free ? real_malloc(n) : _mp_boot_alloc(n, 16);
}

void *_mp_real_calloc(size_t nmemb, size_t size)
{
	if (real_free)
		return real_calloc(nmemb, size);
	size_t n;
	if (__builtin_mul_overflow(nmemb, size, &n)) {
		errno = ENOMEM;
		return NULL;
	}
	return _mp_boot_alloc(n, 16);
}

void *_mp_real_realloc(void *p, size_t n)
{
	return real_free ? real_realloc(p, n) : NULL;
}

void *_mp_real_memalign(size_t align, size_t n)
{
	return real_free ? real_memalign(align, n) : _mp_boot_alloc(n, align);
}

void _mp_real_free(void *p)
{
	if (real_free && !_mp_boot_owns(p))
		real_free(p);
}
