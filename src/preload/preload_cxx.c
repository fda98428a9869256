/* preload_cxx.c - the replaceable C++ allocation functions of libmpwrap.so.
 *
 * Every operator new and delete of the Itanium C++ ABI, by mangled name, so
 * each block remembers its family (new, new[], aligned) and a deallocation
 * by another one is reported.  Nothing here needs a C++ runtime: throwing
 * std::bad_alloc and the new-handler are looked up lazily, on failure only.
 */
#define _GNU_SOURCE
#include "block.h"
#include "pool.h"
#include "passthru.h"
#include "shim.h"
#include "real.h"
#include "report.h"
#include "sampled.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>


/* Exported by libstdc++ and libc++ alike. */
#define THROW_BAD_ALLOC_SYM "_ZSt17__throw_bad_allocv"
#define GET_NEW_HANDLER_SYM "_ZSt15get_new_handlerv"

static const char *const new_names[MP_FAM_COUNT] = {
	[MP_FAM_NEW] = "operator new",
	[MP_FAM_NEW_ARRAY] = "operator new[]",
	[MP_FAM_NEW_ALIGNED] = "aligned operator new",
	[MP_FAM_NEW_ARRAY_ALIGNED] = "aligned operator new[]",
};

typedef void (*handler_fn)(void);

/* The program's own operator new / delete (plain and aligned), when it
 * replaces them: the forms it left to the library forward to them, as the
 * default ones of libstdc++ do (new[] calls new, sized delete calls delete,
 * ...).  NULL: ours are in use.  Set once, by the constructor. */
static void *(*own_new)(size_t);
static void *(*own_anew)(size_t, size_t);
static void (*own_delete)(void *);
static void (*own_adelete)(void *, size_t);

/* The C++ runtime's function `sym`, or NULL.  Only reached when an
 * allocation failed, so a process without C++ never asks. */
static void *runtime_fn(const char *sym)
{
	return dlsym(RTLD_DEFAULT, sym);
}

static __attribute__((noreturn)) void throw_bad_alloc(void)
{
	void (*thrower)(void) = (void (*)(void))runtime_fn(THROW_BAD_ALLOC_SYM);
	if (thrower)
		thrower();
	abort(); /* operator new called with no C++ runtime loaded */
}

/* The installed new-handler, NULL when none (or no runtime). */
static handler_fn new_handler(void)
{
	handler_fn (*get)(void) =
		(handler_fn (*)(void))runtime_fn(GET_NEW_HANDLER_SYM);
	return get ? get() : NULL;
}

static int pow2(size_t a)
{
	return a && !(a & (a - 1));
}

/* the families whose operators take a std::align_val_t (0 is invalid) */
static int aligned_family(unsigned family)
{
	return family == MP_FAM_NEW_ALIGNED || family == MP_FAM_NEW_ARRAY_ALIGNED;
}

/* operator new of `family`: allocate, or call the new-handler and retry
 * until it gives up; then throw std::bad_alloc, or return NULL (nothrow).
 * A handler that throws propagates, through this frame, to the caller;
 * the nothrow forms cannot catch it in C (documented in the README). */
static void *cxx_new(size_t n, size_t align, unsigned family, int nothrow,
		     uintptr_t caller)
{
	const char *where = new_names[family];
	int aligned = aligned_family(family);
	/* sampled mode, unsampled: as preload.c's malloc fast path */
	if (__builtin_expect(_mp_passthrough_sampled_fast(), 1) && !aligned &&
	    !own_new && --_mp_slots_countdown > 0) {
		void *p = _mp_real_malloc(n ? n : 1);
		if (p)
			return p;
	}
	if (!aligned && own_new) /* a nothrow form cannot catch what it throws */
		return own_new(n);
	if (aligned && own_anew)
		return own_anew(n, align);
	int saved = errno;
	int secure = _mp_passthrough();
	if (aligned && !pow2(align)) {
		/* as libstdc++: fails at once (0 too), the new-handler is not
		 * called; memcheck 3.22 reports alignment 0 as invalid */
		if (!secure)
			_mp_call_error(MP_E_INVALID_ALIGNMENT, where, align, n, caller);
		errno = saved;
		goto fail;
	}
	/* reported once; the new-handler loop below still runs, as it would
	 * when malloc failed */
	int too_big = !secure && _mp_too_big(n, where, caller);
	for (;;) {
		void *p = NULL;
		if (too_big) {
			/* no attempt: such a size can never be had */
		} else if (secure) {
			/* sampled mode: one in sample_rate to a slot */
			if (_mp_slots_tick())
				p = _mp_sampled_alloc(n, align ? align : MP_ALIGN,
						      family, caller);
			if (!p) {
				_mp_real_resolve();
				p = align > MP_ALIGN ? _mp_real_memalign(align, n)
						     : _mp_real_malloc(n ? n : 1);
			}
		} else {
			p = _mp_alloc_as(n, align, family, caller);
		}
		errno = saved;
		if (p)
			return p;
		handler_fn h = new_handler();
		if (!h)
			break;
		h();
	}
fail:
	if (nothrow)
		return NULL;
	throw_bad_alloc();
}

/* operator delete of `family`; size/align are those a sized or aligned
 * delete was given (sized: whether there was a size). */
static void cxx_delete(void *p, unsigned family, const char *where, int sized,
		       size_t size, size_t align, uintptr_t caller)
{
	int aligned = aligned_family(family);
	if (aligned && own_adelete) {
		if (p)
			own_adelete(p, align);
		return;
	}
	if (!aligned && own_delete) {
		if (p)
			own_delete(p);
		return;
	}
	if (__builtin_expect(_mp_passthrough_sampled_fast(), 1) && !aligned &&
	    !_mp_slots_owns(p)) { /* sampled mode, a glibc block (or NULL) */
		_mp_real_free(p);
		return;
	}
	int saved = errno;
	/* memcheck 3.22: an aligned delete's alignment must be a power of two,
	 * reported even for NULL; a block's alignment differs from it too, so
	 * the free below reports the mismatch as well (as memcheck does) */
	if (aligned && !pow2(align) && !_mp_passthrough())
		_mp_call_error(MP_E_INVALID_ALIGNMENT, where, align,
			       sized ? size : 0, caller);
	if (!p) {
		errno = saved;
		return;
	}
	if (_mp_passthrough()) {
		if (__builtin_expect(_mp_slots_owns(p), 0))
			_mp_sampled_free(p, family, caller, where);
		else
			_mp_real_free(p);
	} else {
		struct mp_dealloc d = { .where = where, .family = family,
					.sized = sized, .size = size,
					.align = align };
		_mp_free_as(p, caller, &d);
	}
	errno = saved;
}

#define NEW_PLAIN(sym, fam)                                                    \
	SHIM void *sym(size_t n) { return cxx_new(n, 0, fam, 0, CALLER); }
#define NEW_NOTHROW(sym, fam)                                                  \
	SHIM void *sym(size_t n, const void *nt)                               \
	{                                                                      \
		(void)nt;                                                      \
		return cxx_new(n, 0, fam, 1, CALLER);                          \
	}
#define NEW_ALIGNED(sym, fam)                                                  \
	SHIM void *sym(size_t n, size_t al)                                    \
	{                                                                      \
		return cxx_new(n, al, fam, 0, CALLER);                         \
	}
#define NEW_ALIGNED_NOTHROW(sym, fam)                                          \
	SHIM void *sym(size_t n, size_t al, const void *nt)                    \
	{                                                                      \
		(void)nt;                                                      \
		return cxx_new(n, al, fam, 1, CALLER);                         \
	}

NEW_PLAIN(_Znwm, MP_FAM_NEW)
NEW_PLAIN(_Znam, MP_FAM_NEW_ARRAY)
NEW_NOTHROW(_ZnwmRKSt9nothrow_t, MP_FAM_NEW)
NEW_NOTHROW(_ZnamRKSt9nothrow_t, MP_FAM_NEW_ARRAY)
NEW_ALIGNED(_ZnwmSt11align_val_t, MP_FAM_NEW_ALIGNED)
NEW_ALIGNED(_ZnamSt11align_val_t, MP_FAM_NEW_ARRAY_ALIGNED)
NEW_ALIGNED_NOTHROW(_ZnwmSt11align_val_tRKSt9nothrow_t, MP_FAM_NEW_ALIGNED)
NEW_ALIGNED_NOTHROW(_ZnamSt11align_val_tRKSt9nothrow_t,
		    MP_FAM_NEW_ARRAY_ALIGNED)

#define DEL_NAME "operator delete"
#define DELA_NAME "operator delete[]"
#define ADEL_NAME "aligned operator delete"
#define ADELA_NAME "aligned operator delete[]"

/* plain and nothrow */
SHIM void _ZdlPv(void *p)
{
	cxx_delete(p, MP_FAM_NEW, DEL_NAME, 0, 0, 0, CALLER);
}
SHIM void _ZdaPv(void *p)
{
	cxx_delete(p, MP_FAM_NEW_ARRAY, DELA_NAME, 0, 0, 0, CALLER);
}
SHIM void _ZdlPvRKSt9nothrow_t(void *p, const void *nt)
{
	(void)nt;
	cxx_delete(p, MP_FAM_NEW, DEL_NAME, 0, 0, 0, CALLER);
}
SHIM void _ZdaPvRKSt9nothrow_t(void *p, const void *nt)
{
	(void)nt;
	cxx_delete(p, MP_FAM_NEW_ARRAY, DELA_NAME, 0, 0, 0, CALLER);
}
/* sized */
SHIM void _ZdlPvm(void *p, size_t n)
{
	cxx_delete(p, MP_FAM_NEW, DEL_NAME, 1, n, 0, CALLER);
}
SHIM void _ZdaPvm(void *p, size_t n)
{
	cxx_delete(p, MP_FAM_NEW_ARRAY, DELA_NAME, 1, n, 0, CALLER);
}
/* aligned, aligned nothrow, sized aligned */
SHIM void _ZdlPvSt11align_val_t(void *p, size_t al)
{
	cxx_delete(p, MP_FAM_NEW_ALIGNED, ADEL_NAME, 0, 0, al, CALLER);
}
SHIM void _ZdaPvSt11align_val_t(void *p, size_t al)
{
	cxx_delete(p, MP_FAM_NEW_ARRAY_ALIGNED, ADELA_NAME, 0, 0, al, CALLER);
}
SHIM void _ZdlPvSt11align_val_tRKSt9nothrow_t(void *p, size_t al,
					      const void *nt)
{
	(void)nt;
	cxx_delete(p, MP_FAM_NEW_ALIGNED, ADEL_NAME, 0, 0, al, CALLER);
}
SHIM void _ZdaPvSt11align_val_tRKSt9nothrow_t(void *p, size_t al,
					      const void *nt)
{
	(void)nt;
	cxx_delete(p, MP_FAM_NEW_ARRAY_ALIGNED, ADELA_NAME, 0, 0, al, CALLER);
}
SHIM void _ZdlPvmSt11align_val_t(void *p, size_t n, size_t al)
{
	cxx_delete(p, MP_FAM_NEW_ALIGNED, ADEL_NAME, 1, n, al, CALLER);
}
SHIM void _ZdaPvmSt11align_val_t(void *p, size_t n, size_t al)
{
	cxx_delete(p, MP_FAM_NEW_ARRAY_ALIGNED, ADELA_NAME, 1, n, al, CALLER);
}

/* The winning definition of sym when it is not ours, else NULL. */
static void *theirs(const char *sym, const Dl_info *mine)
{
	Dl_info info;
	void *f = dlsym(RTLD_DEFAULT, sym);
	if (f && dladdr(f, &info) && info.dli_fbase != mine->dli_fbase)
		return f;
	return NULL;
}

/* A program that replaces some of these functions (an executable comes
 * before the preload in symbol lookup) pairs its own with ours: a block of
 * its operator new then meets our delete, or ours its delete (which calls
 * free).  Families mean nothing then, and are not checked; the forms it
 * left to us forward to its own, as the library's defaults would. */
__attribute__((constructor)) static void cxx_start(void)
{
	static const char *const syms[] = {
		"_Znwm", "_Znam", "_ZnwmRKSt9nothrow_t", "_ZnamRKSt9nothrow_t",
		"_ZnwmSt11align_val_t", "_ZnamSt11align_val_t",
		"_ZnwmSt11align_val_tRKSt9nothrow_t",
		"_ZnamSt11align_val_tRKSt9nothrow_t",
		"_ZdlPv", "_ZdaPv", "_ZdlPvRKSt9nothrow_t", "_ZdaPvRKSt9nothrow_t",
		"_ZdlPvm", "_ZdaPvm", "_ZdlPvSt11align_val_t",
		"_ZdaPvSt11align_val_t", "_ZdlPvSt11align_val_tRKSt9nothrow_t",
		"_ZdaPvSt11align_val_tRKSt9nothrow_t", "_ZdlPvmSt11align_val_t",
		"_ZdaPvmSt11align_val_t",
	};
	Dl_info mine;
	if (_mp_passthrough() || !dladdr((void *)&cxx_start, &mine))
		return;
	/* by module, not address: &_Znwm here would be the winner's too */
	for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++)
		if (theirs(syms[i], &mine))
			_mp_set_foreign_new(1);
	own_new = (void *(*)(size_t))theirs("_Znwm", &mine);
	own_anew = (void *(*)(size_t, size_t))theirs("_ZnwmSt11align_val_t", &mine);
	own_delete = (void (*)(void *))theirs("_ZdlPv", &mine);
	own_adelete = (void (*)(void *, size_t))theirs("_ZdlPvSt11align_val_t",
							&mine);
}
