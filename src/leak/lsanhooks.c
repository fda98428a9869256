/* lsanhooks.c - the program's own LeakSanitizer hooks, as LSan honours
 * them: __lsan_is_turned_off() (no leak check at all),
 * __lsan_default_suppressions() (`leak:PATTERN` lines that drop lost
 * groups) and __lsan_default_options() (with LSAN_OPTIONS: the LSan flags
 * that are options of ours).  Below the reports and the exit path, which
 * both ask. */
#define _GNU_SOURCE
#include "lsanhooks.h"
#include "depot.h"
#include "leaks.h"
#include "loaderprobe.h"
#include "options.h"
#include "reent.h"
#include "symbolize.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

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
	_mp_lsan_options_load();
	int (*off)(void) = (int (*)(void))program_hook("__lsan_is_turned_off");
	return off && off() != 0;
}

/* ---- LSan's flags: __lsan_default_options, then LSAN_OPTIONS ---------- */

static pthread_once_t options_once = PTHREAD_ONCE_INIT;

/* LSan's precedence: the program's compiled-in defaults, then LSAN_OPTIONS;
 * MPWRAP_OPTIONS (parsed at start-up) wins over both.  Read once, when a
 * leak check or the exit report first needs them (the program's hook can
 * only be looked up once the loader is ready). */
static void load_options(void)
{
	const char *(*fn)(void) =
		(const char *(*)(void))program_hook("__lsan_default_options");
	if (fn)
		_mp_options_parse_lsan(fn(), 2, "__lsan_default_options");
	_mp_enter(); /* getenv needs no malloc, but keep it out of the pool */
	const char *env = secure_getenv("LSAN_OPTIONS");
	_mp_leave();
	_mp_options_parse_lsan(env, 2, "LSAN_OPTIONS");
}

void _mp_lsan_options_load(void)
{
	pthread_once(&options_once, load_options);
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
