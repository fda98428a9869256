/* lsan.c - LeakSanitizer's interface, exported by libmpwrap.so, so that a
 * program written for LSan (sanitizer/lsan_interface.h, or mpwrap's own
 * include/mpwrap/lsan_interface.h) works unchanged under the preload:
 * ignored objects, disabled regions, root regions, leak checks on demand,
 * and the program's own __lsan_is_turned_off and
 * __lsan_default_suppressions hooks.  Semantics follow LSan's documentation;
 * what differs is said in README ("LeakSanitizer's interface").
 */
#define _GNU_SOURCE
#include "lsan.h"
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

/* ---- the program's hooks ------------------------------------------- */

/* Looked up in the global scope (the program must export them: -rdynamic,
 * as for any hook a preloaded runtime calls), never in ourselves: we
 * define neither. */
static void *program_hook(const char *name)
{
	_mp_enter(); /* dlsym may allocate */
	void *p = _mp_loader_ok() ? dlsym(RTLD_DEFAULT, name) : NULL;
	_mp_leave();
	return p;
}

int _mp_lsan_turned_off(void)
{
	int (*off)(void) = (int (*)(void))program_hook("__lsan_is_turned_off");
	return off && off() != 0;
}

/* ---- suppressions: `leak:PATTERN`, LSan's templates ------------------ */

#define MAX_SUPP 64
#define MAX_PAT 256

static char pats[MAX_SUPP][MAX_PAT];
static size_t npats;
static int supp_loaded;

/* The program's text, once: lines of `leak:PATTERN` ('#' comments; other
 * kinds are LSan's own business and ignored). */
static void load_suppressions(void)
{
	if (supp_loaded)
		return;
	supp_loaded = 1;
	const char *(*fn)(void) =
		(const char *(*)(void))program_hook("__lsan_default_suppressions");
	const char *t = fn ? fn() : NULL;
	while (t && *t && npats < MAX_SUPP) {
		const char *end = strchr(t, '\n');
		size_t n = end ? (size_t)(end - t) : strlen(t);
		while (n && (*t == ' ' || *t == '\t')) {
			t++;
			n--;
		}
		while (n && (t[n - 1] == ' ' || t[n - 1] == '\t' || t[n - 1] == '\r'))
			n--;
		if (n > 5 && memcmp(t, "leak:", 5) == 0 && n - 5 < MAX_PAT) {
			memcpy(pats[npats], t + 5, n - 5);
			pats[npats][n - 5] = '\0';
			npats++;
		}
		t = end ? end + 1 : NULL;
	}
}

/* LSan's template: a substring match where '*' is any run of characters,
 * a leading '^' and a '$' anchor (text after '$' ignored).  Parts are
 * found left to right, each as early as it can be: linear, no
 * backtracking (mpcheck's Wildcard does the same). */
static int wildcard(const char *pat, const char *s)
{
	int anchored = pat[0] == '^';
	const char *p = pat + anchored;
	const char *dollar = strchr(p, '$');
	size_t plen = dollar ? (size_t)(dollar - p) : strlen(p);
	size_t slen = strlen(s), pos = 0;
	int first = 1;
	while (1) {
		const char *star = memchr(p, '*', plen);
		size_t n = star ? (size_t)(star - p) : plen;
		int last = !star;
		if (last && dollar) { /* must end the name, after pos */
			if (n > slen - pos || memcmp(s + slen - n, p, n) != 0)
				return 0;
			return !(first && anchored) || slen == n;
		}
		if (first && anchored) {
			if (n > slen || memcmp(s, p, n) != 0)
				return 0;
			pos = n;
		} else if (n) {
			const char *hit = memmem(s + pos, slen - pos, p, n);
			if (!hit)
				return 0;
			pos = (size_t)(hit - s) + n;
		}
		if (last)
			return 1;
		first = 0;
		plen -= n + 1;
		p = star + 1;
	}
}

static int stack_suppressed(uint32_t id)
{
	const uintptr_t *pcs;
	unsigned n = _mp_depot_get(id, &pcs);
	struct mp_symbol s;
	for (size_t k = 0; k < npats; k++)
		if (!pats[k][strspn(pats[k], "*")])
			return 1; /* '' or '*': everything */
	for (unsigned i = 0; i < n; i++) {
		memset(&s, 0, sizeof s);
		_mp_enter();
		if (_mp_loader_ok())
			_mp_symbolize_at(pcs[i], _mp_depot_gen(id), &s);
		_mp_leave();
		for (size_t k = 0; k < npats; k++)
			if ((s.function[0] && wildcard(pats[k], s.function)) ||
			    (s.module[0] && wildcard(pats[k], s.module)) ||
			    (s.file[0] && wildcard(pats[k], s.file)))
				return 1;
	}
	return 0;
}

void _mp_lsan_suppress(struct mp_leak_set *ls)
{
	load_suppressions();
	if (!npats)
		return;
	size_t n = 0;
	for (size_t i = 0; i < ls->n; i++) {
		struct mp_leak_group g = ls->g[i];
		if (g.kind != MP_K_REACHABLE && stack_suppressed(g.stack)) {
			ls->bytes[g.kind] -= g.bytes;
			ls->blocks[g.kind] -= g.blocks;
			ls->total_bytes -= g.bytes;
			ls->total_blocks -= g.blocks;
			ls->supp_bytes += g.bytes;
			ls->supp_blocks += g.blocks;
			continue;
		}
		ls->g[n++] = g;
	}
	ls->n = n;
}

/* ---- root regions ---------------------------------------------------- */

#define MAX_REGIONS 256
static pthread_mutex_t region_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mp_range regions[MAX_REGIONS];
static size_t nregions;

size_t _mp_lsan_root_regions(struct mp_range *out, size_t max)
{
	pthread_mutex_lock(&region_lock);
	size_t n = nregions < max ? nregions : max;
	memcpy(out, regions, n * sizeof *out);
	pthread_mutex_unlock(&region_lock);
	return n;
}

static void misuse(const char *what, const void *p)
{
	struct mp_out o;
	_mp_report_begin(&o);
	_mp_report_prefix(&o);
	if (p)
		_mp_out_printf(&o, "mpwrap: warning: %s (%p): ignored\n", what, p);
	else
		_mp_out_printf(&o, "mpwrap: warning: %s: ignored\n", what);
	_mp_report_end(&o);
}

API void __lsan_register_root_region(const void *p, size_t size)
{
	uintptr_t lo = (uintptr_t)p;
	pthread_mutex_lock(&region_lock);
	int full = nregions == MAX_REGIONS || lo + size < lo;
	if (!full)
		regions[nregions++] = (struct mp_range){ lo, lo + size };
	pthread_mutex_unlock(&region_lock);
	if (full)
		misuse("__lsan_register_root_region: table full", p);
}

/* As in LSan: only a region registered with the same start and size. */
API void __lsan_unregister_root_region(const void *p, size_t size)
{
	uintptr_t lo = (uintptr_t)p;
	int found = 0;
	pthread_mutex_lock(&region_lock);
	for (size_t i = nregions; i-- > 0 && !found;)
		if (regions[i].lo == lo && regions[i].hi == lo + size) {
			regions[i] = regions[--nregions];
			found = 1;
		}
	pthread_mutex_unlock(&region_lock);
	if (!found)
		misuse("__lsan_unregister_root_region: no such region registered",
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
		misuse("__lsan_ignore_object: not a live heap block", p);
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
		misuse("__lsan_enable without __lsan_disable", NULL);
}

/* ---- checks ---------------------------------------------------------- */

/* LSan: the end-of-process check, now, once; it exits with exitcode when
 * leaks are found, and the exit check does not run again.  Here: the exit
 * report itself (errors, leaks, JSON), which runs once per process. */
API void __lsan_do_leak_check(void)
{
	if (_mp_lsan_turned_off())
		return;
	_mp_exit_report();
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
