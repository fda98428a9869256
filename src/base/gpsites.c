/* gpsites.c - targeted guard pages: the allocation sites named by the
 * option guard_page_sites get a guard page for every block they allocate,
 * on the side that was damaged, so a rerun faults at the bad access itself.
 *
 * A site is named so that it survives a rerun under ASLR: the innermost
 * MP_SITE_FRAMES frames of the allocation stack as module+offset
 * ("prog+0x11a3/prog+0x1290/libc.so.6+0x271ca"), which is also what the
 * JSON report's frames carry.  Keys are parsed without malloc, resolved to
 * addresses once the modules are loaded (again now and then while some
 * module is missing: a dlopen'd library), and matched on the allocation
 * path by comparing a few program counters (the caller passes the
 * allocation stack's; report/locate.c words a block's key).
 */
#define _GNU_SOURCE
#include "gpsites.h"
#include "loaderprobe.h"
#include "out.h"
#include "reent.h"

#include <link.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

/* Sites per run (a module name's room in a key: gpsites.h). */
#define MP_SITES_MAX 64
/* While a site's module is not loaded, look again every this many
 * allocations (a library dlopen'd later). */
#define MP_SITES_RETRY 256
#define EXE_PATH_MAX 512

struct site_frame {
	char module[MP_SITE_MODULE_MAX];
	uintptr_t offset;
	_Atomic uintptr_t pc; /* resolved: load bias + offset; 0 = not yet */
};

struct site {
	int side; /* MP_GP_OVER or MP_GP_UNDER */
	unsigned nframes;
	struct site_frame f[MP_SITE_FRAMES];
};

static struct site sites[MP_SITES_MAX];
static unsigned nsites;
static atomic_int unresolved;
static atomic_ulong tries;

static int word_is(const char *s, size_t n, const char *w)
{
	return strlen(w) == n && memcmp(s, w, n) == 0;
}

/* "NAME+0xHEX" into *f; -1 when malformed. */
static int parse_frame(const char *s, size_t n, struct site_frame *f)
{
	size_t plus = n;
	while (plus > 0 && s[plus - 1] != '+')
		plus--;
	if (plus < 2 || plus - 1 >= MP_SITE_MODULE_MAX || n - plus < 3 ||
	    s[plus] != '0' || s[plus + 1] != 'x' || n - plus > 18)
		return -1;
	uintptr_t off = 0;
	for (size_t i = plus + 2; i < n; i++) {
		char c = s[i];
		int d = c >= '0' && c <= '9' ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (d < 0)
			return -1;
		off = off << 4 | (uintptr_t)d;
	}
	for (size_t i = 0; i + 1 < plus; i++)
		if (s[i] == '/' || s[i] == ',' || s[i] == '@')
			return -1;
	memcpy(f->module, s, plus - 1);
	f->module[plus - 1] = '\0';
	f->offset = off;
	atomic_store(&f->pc, 0);
	return 0;
}

/* "[over@|under@]FRAME[/FRAME...]" */
static int parse_site(const char *s, size_t n, struct site *st)
{
	const char *at = memchr(s, '@', n);
	st->side = MP_GP_OVER;
	if (at) {
		size_t k = (size_t)(at - s);
		if (word_is(s, k, "under"))
			st->side = MP_GP_UNDER;
		else if (!word_is(s, k, "over"))
			return -1;
		n -= k + 1;
		s = at + 1;
	}
	st->nframes = 0;
	size_t i = 0;
	while (i < n) {
		size_t j = i;
		while (j < n && s[j] != '/')
			j++;
		if (st->nframes == MP_SITE_FRAMES ||
		    parse_frame(s + i, j - i, &st->f[st->nframes]) != 0)
			return -1;
		st->nframes++;
		i = j + 1;
	}
	return st->nframes ? 0 : -1;
}

/* Parse the list into out[] (NULL: only check it); the number of sites, or
 * -1 when malformed. */
static int parse_list(const char *s, size_t n, struct site *out)
{
	static struct site scratch;
	int count = 0;
	size_t i = 0;
	while (i < n) {
		size_t j = i;
		while (j < n && s[j] != ',')
			j++;
		if (count == MP_SITES_MAX ||
		    parse_site(s + i, j - i, out ? &out[count] : &scratch) != 0)
			return -1;
		count++;
		i = j + 1;
	}
	return count;
}

int _mp_gp_sites_parse(const char *s, size_t n)
{
	/* checked first: a bad value keeps the sites given before */
	if (parse_list(s, n, NULL) < 0)
		return -1;
	nsites = (unsigned)parse_list(s, n, sites);
	atomic_store(&unresolved, nsites > 0);
	return 0;
}

/* The base name of the main program, as the symbolizer names it. */
static const char *exe_name(void)
{
	static char exe[EXE_PATH_MAX];
	if (!exe[0]) {
		ssize_t r = readlink("/proc/self/exe", exe, sizeof exe - 1);
		exe[r > 0 ? r : 0] = '\0';
	}
	return _mp_base_name(exe);
}

static int resolve_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	int *first = arg;
	(void)size;
	const char *name = info->dlpi_name && info->dlpi_name[0]
				   ? _mp_base_name(info->dlpi_name)
				   : *first ? exe_name() : "";
	*first = 0;
	for (unsigned i = 0; i < nsites; i++)
		for (unsigned k = 0; k < sites[i].nframes; k++) {
			struct site_frame *f = &sites[i].f[k];
			if (!atomic_load_explicit(&f->pc, memory_order_relaxed) &&
			    strcmp(f->module, name) == 0)
				atomic_store(&f->pc, info->dlpi_addr + f->offset);
		}
	return 0;
}

void _mp_gp_sites_resolve(void)
{
	int first = 1, left = 0;
	if (!nsites || !_mp_loader_ok())
		return;
	_mp_enter();
	dl_iterate_phdr(resolve_cb, &first);
	_mp_leave();
	for (unsigned i = 0; i < nsites; i++)
		for (unsigned k = 0; k < sites[i].nframes; k++)
			left |= !atomic_load(&sites[i].f[k].pc);
	atomic_store(&unresolved, left);
}

int _mp_gp_sites_active(void)
{
	return nsites != 0;
}

int _mp_gp_site_match(const uintptr_t *pcs, unsigned n)
{
	if (!nsites)
		return 0;
	if (atomic_load_explicit(&unresolved, memory_order_relaxed) &&
	    atomic_fetch_add_explicit(&tries, 1, memory_order_relaxed) %
			    MP_SITES_RETRY == 0)
		_mp_gp_sites_resolve();
	for (unsigned i = 0; i < nsites; i++) {
		const struct site *st = &sites[i];
		unsigned k = 0;
		/* a key shorter than MP_SITE_FRAMES (cut at main, as the
		 * JSON report's stacks are) matches the stack's first frames */
		if (n < st->nframes)
			continue;
		while (k < st->nframes &&
		       atomic_load_explicit(&st->f[k].pc, memory_order_relaxed) ==
			       pcs[k])
			k++;
		if (k == st->nframes)
			return st->side;
	}
	return 0;
}
