/* lazylibs.c - dlopen libunwind and libdw (with libelf) on first need.
 *
 * The full mode needs them at once (it takes a stack on every malloc):
 * _mp_init loads them before it returns.  Sampled mode loads them at its
 * first stack (the first sampled block), pass-through never, and a report
 * that finds them missing loads them then; most short processes of a
 * sampled or gated run therefore never map them (lazylibs.h says why).
 *
 * Safe where the first need may come:
 * - inside malloc: the load runs under the reentrancy guard, so dlopen's
 *   own allocations (and the libraries' constructors') go to the C
 *   library untracked, as libdw's always did (reent.h);
 * - with threads racing: one thread wins a compare-and-swap and loads,
 *   the others wait for it, bounded (the winner may be waiting for a
 *   loader lock the waiter holds: a constructor's malloc inside dlopen),
 *   then go without for that call; no lock of ours is held across dlopen;
 * - after fork: the load runs inside the loader gate, which a fork drains
 *   first; a child that still sees a load in flight (by its parent's pid)
 *   tries again itself if its loader is usable;
 * - in a fatal-signal handler: never (_mp_lazylibs_no_load_here).
 */
#define _GNU_SOURCE
#define UNW_LOCAL_ONLY
#define MP_LAZYLIBS_NO_MACROS
#include "lazylibs.h"
#include "loaderprobe.h"
#include "out.h"
#include "procgate.h"
#include "reent.h"

#include <dlfcn.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#define WAIT_NS 2000000000LL /* another thread's load: wait at most this */

/* The sonames the build's headers go with (stable since libunwind 1.0 and
 * elfutils' first release). */
static const char *const sonames[] = { "libunwind.so.8", "libdw.so.1" };

struct mp_lazylibs _mp_lazy;
struct mp_lazyunw _mp_lazy_unw;

/* 0: never tried; > 0: the pid of the process whose thread is loading;
 * -1: done, `have` final */
atomic_int _mp_lazylibs_state;
static atomic_int have;
static __thread int no_load __attribute__((tls_model("initial-exec")));

#define STR2(x) #x
#define STR(x) STR2(x) /* the real symbol a libunwind macro stands for */

struct lz_sym {
	int group;
	const char *name;
	void **slot;
};

static const struct lz_sym syms[] = {
#define MP_LAZY_SYM(g, name) { g, STR(name), (void **)&_mp_lazy.lz_##name },
	MP_LAZY_DW_FUNCS(MP_LAZY_SYM)
#undef MP_LAZY_SYM
#define MP_LAZY_SYM(g, name) { g, STR(name), (void **)&_mp_lazy_unw.lz_##name },
	MP_LAZY_UNW_FUNCS(MP_LAZY_SYM)
#undef MP_LAZY_SYM
	{ MP_LZ_UNWIND, STR(unw_local_addr_space),
	  (void **)&_mp_lazy_unw.lz_unw_local_addr_space },
	{ MP_LZ_UNWIND, STR(unw_tdep_getcontext),
	  (void **)&_mp_lazy_unw.lz_unw_getcontext },
};

#define NSYMS (sizeof syms / sizeof syms[0])

static void say_missing(const char *soname, const char *why, int group)
{
	struct mp_out o;
	_mp_out_init(&o, STDERR_FILENO);
	_mp_out_printf(&o, "mpwrap: warning: cannot load %s (%s): %s\n", soname,
		       why ? why : "unknown error",
		       group == MP_LZ_DW
			       ? "stacks are reported as module+offset, without file:line"
			       : "stacks the fast walker declines keep their first frame only");
	_mp_out_flush(&o);
}

/* One group: its library and every symbol, or nothing (NULL pointers). */
static int load_group(int group)
{
	const char *soname = sonames[group == MP_LZ_DW];
	/* the C library's dlopen, not preload's shim of it (a layer above) */
	void *(*real_dlopen)(const char *, int) =
		(void *(*)(const char *, int))dlsym(RTLD_NEXT, "dlopen");
	void *h = real_dlopen ? real_dlopen(soname, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE)
			      : NULL;
	if (!h) {
		say_missing(soname, dlerror(), group);
		return 0;
	}
	for (size_t i = 0; i < NSYMS; i++) {
		if (syms[i].group != group)
			continue;
		/* dlsym on libdw's handle also finds libelf, its dependency */
		if ((*syms[i].slot = dlsym(h, syms[i].name)) != NULL)
			continue;
		say_missing(soname, dlerror(), group);
		for (size_t k = 0; k < NSYMS; k++)
			if (syms[k].group == group)
				*syms[k].slot = NULL;
		return 0;
	}
	return group;
}

static void load(void)
{
	_mp_enter(); /* dlopen and the constructors allocate */
	_mp_loader_gate_enter();
	int got = load_group(MP_LZ_UNWIND);
	if (got)
		_mp_lazy_unw.lz_unw_set_caching_policy(*_mp_lazy_unw.lz_unw_local_addr_space,
						       UNW_CACHE_PER_THREAD);
	got |= load_group(MP_LZ_DW);
	_mp_loader_gate_leave();
	_mp_leave();
	atomic_store_explicit(&have, got, memory_order_relaxed);
	atomic_store_explicit(&_mp_lazylibs_state, -1, memory_order_release);
}

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int _mp_lazylibs_ready(int groups)
{
	return atomic_load_explicit(&_mp_lazylibs_state, memory_order_acquire) == -1 &&
	       (atomic_load_explicit(&have, memory_order_relaxed) & groups) == groups;
}

int _mp_lazylibs_need(int groups)
{
	int s = atomic_load_explicit(&_mp_lazylibs_state, memory_order_acquire);
	if (__builtin_expect(s == -1, 1))
		return _mp_lazylibs_ready(groups);
	if (no_load)
		return 0;
	int me = (int)getpid();
	if (s > 0 && s != me && _mp_loader_ok()) {
		/* a forked child of a loading parent: that thread is gone */
		atomic_compare_exchange_strong(&_mp_lazylibs_state, &s, 0);
		s = atomic_load(&_mp_lazylibs_state);
	}
	if (s == 0 && atomic_compare_exchange_strong(&_mp_lazylibs_state, &s, me)) {
		load();
		return _mp_lazylibs_ready(groups);
	}
	long long until = now_ns() + WAIT_NS;
	while (atomic_load_explicit(&_mp_lazylibs_state, memory_order_acquire) == me &&
	       now_ns() < until)
		sched_yield();
	return _mp_lazylibs_ready(groups);
}

void _mp_lazylibs_no_load_here(void)
{
	no_load = 1;
}

int _mp_lz_proc_find_elf(Dwfl_Module *m, void **ud, const char *name,
			 Dwarf_Addr base, char **file, Elf **elfp)
{
	return _mp_lazy.lz_dwfl_linux_proc_find_elf(m, ud, name, base, file, elfp);
}

int _mp_lz_build_id_find_elf(Dwfl_Module *m, void **ud, const char *name,
			     Dwarf_Addr base, char **file, Elf **elfp)
{
	return _mp_lazy.lz_dwfl_build_id_find_elf(m, ud, name, base, file, elfp);
}

int _mp_lz_section_address(Dwfl_Module *m, void **ud, const char *name,
			   Dwarf_Addr base, const char *sec, GElf_Word shndx,
			   const GElf_Shdr *sh, Dwarf_Addr *addr)
{
	return _mp_lazy.lz_dwfl_offline_section_address(m, ud, name, base, sec,
							  shndx, sh, addr);
}

int _mp_lz_build_id_find_debuginfo(Dwfl_Module *m, void **ud, const char *name,
				   Dwarf_Addr base, const char *file,
				   const char *link, GElf_Word crc, char **out)
{
	return _mp_lazy.lz_dwfl_build_id_find_debuginfo(m, ud, name, base, file,
							 link, crc, out);
}
