/* lsan.c - LeakSanitizer's interface, exported by libmpwrap.so, so that a
 * program written for LSan (sanitizer/lsan_interface.h, or mpwrap's own
 * include/mpwrap/lsan_interface.h) works unchanged under the preload:
 * ignored objects, disabled regions, root regions, leak checks on demand
 * (the program's own __lsan_is_turned_off and __lsan_default_suppressions
 * hooks are read in leak/lsanhooks.c).  Semantics follow LSan's documentation;
 * what differs is said in README ("LeakSanitizer's interface").
 */
#define _GNU_SOURCE
#include "lsanhooks.h"
#include "roots.h"
#include "block.h"
#include "depot.h"
#include "exit.h"
#include "large.h"
#include "leaks.h"
#include "longrun.h"
#include "loaderprobe.h"
#include "options.h"
#include "pool.h"
#include "reent.h"
#include "report.h"
#include "slab.h"
#include "symbolize.h"

#include <dlfcn.h>
#include <pthread.h>
#include <string.h>

#define API __attribute__((visibility("default"), noinline))

/* ---- root regions ---------------------------------------------------- */

API void __lsan_register_root_region(const void *p, size_t size)
{
	uintptr_t lo = (uintptr_t)p;
	if (lo + size < lo || _mp_roots_region_add(lo, lo + size) != 0)
		_mp_report_misuse("__lsan_register_root_region: table full", p);
}

/* As in LSan: only a region registered with the same start and size. */
API void __lsan_unregister_root_region(const void *p, size_t size)
{
	uintptr_t lo = (uintptr_t)p;
	if (_mp_roots_region_remove(lo, lo + size) != 0)
		_mp_report_misuse("__lsan_unregister_root_region: no such region registered",
		       p);
}

/* ---- ignored objects and disabled regions --------------------------- */

/* The block p points into (start or interior), marked ignored: 0, or -1
 * when p is in no live block of ours. */
static int ignore(uintptr_t p)
{
	if (_mp_ensure_init() != 0)
		return -1;
	struct mp_slab *s = _mp_slab_of(p);
	int rc = -1;
	if (s) {
		struct mp_class *cl = _mp_slab_class(s);
		long off;
		pthread_mutex_lock(&cl->lock);
		uint32_t i = _mp_slab_locate(s, p, &off);
		if (i < s->bump && s->meta[i].state == MP_ST_LIVE && off >= 0 &&
		    (off == 0 || (size_t)off < s->meta[i].size)) {
			s->meta[i].aux |= MP_AUX_IGNORED;
			rc = 0;
		}
		pthread_mutex_unlock(&cl->lock);
		return rc;
	}
	_mp_large_lock();
	struct mp_large *e = _mp_large_find_locked(p);
	if (!e)
		e = _mp_large_find_interior_locked(p);
	if (e && e->state == MP_ST_LIVE && p >= e->user &&
	    (p == e->user || p < e->user + e->size)) {
		e->aux |= MP_AUX_IGNORED;
		rc = 0;
	}
	_mp_large_unlock();
	return rc;
}

API void __lsan_ignore_object(const void *p)
{
	if (p && ignore((uintptr_t)p) != 0)
		_mp_report_misuse("__lsan_ignore_object: not a live heap block", p);
}

API void __lsan_disable(void)
{
	_mp_tls.lsan_off++;
}

API void __lsan_enable(void)
{
	if (_mp_tls.lsan_off > 0)
		_mp_tls.lsan_off--;
	else
		_mp_report_misuse("__lsan_enable without __lsan_disable", NULL);
}

/* ---- checks ---------------------------------------------------------- */

/* LSan: the end-of-process check, now, once; it exits with exitcode when
 * leaks are found, and the exit check does not run again.  Here: the exit
 * report itself (errors, leaks, JSON), which runs once per process. */
API void __lsan_do_leak_check(void)
{
	/* as LSan: nothing at all with detect_leaks=0 (no report claiming
	 * "no leaks" without a scan); leak_check_at_exit=0 does not stop it */
	if (_mp_ensure_init() != 0 || _mp_lsan_turned_off() ||
	    !_mp_opt.detect_leaks)
		return;
	_mp_exit_report_lsan();
}

/* A check now (the report says which); nonzero when lost blocks of the
 * kinds leak_kinds gates on were found.  The program continues. */
API int __lsan_do_recoverable_leak_check(void)
{
	struct mp_leak_counts c;
	if (_mp_lsan_turned_off() ||
	    _mp_longrun_check("__lsan_do_recoverable_leak_check", 0, &c) != 0)
		return 0;
	return c.gated_blocks != 0;
}
