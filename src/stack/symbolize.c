/* symbolize.c - pc -> function, source file:line and module+offset.
 *
 * libdwfl over the running process (cached, re-reported when the loader's
 * dlopen/dlclose counters move), an offline libdwfl view of the file on disk
 * for modules dlclose'd since, and dladdr() when libdwfl knows nothing.
 *
 * Reports symbolize thousands of frames, often the same ones twice (text,
 * then JSON): a sorted symbol index per module replaces the whole-table scan
 * of dwfl_module_addrinfo, and a pc -> result memo answers repeats.
 */
#define _GNU_SOURCE
#include "symbolize.h"
#include "out.h"
#include "procgate.h"
#include "real.h"
#include "reent.h"
#include "symindex.h"

#include <dlfcn.h>
#include "lazylibs.h"
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MP_MAX_CLOSED 256

/* Fixed size so that recording at dlclose time never allocates. */
struct closed_mod {
	char path[PATH_MAX];
	uintptr_t bias, lo, hi; /* load bias; [lo, hi) spans its PT_LOADs */
	unsigned long seq;      /* 0: free slot; higher: closed more recently */
};

typedef char *(*demangle_fn)(const char *, char *, size_t *, int *);

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static pid_t lock_pid;                  /* see fix_after_fork */

static Dwfl *live;                      /* the running process */
static pid_t live_pid;
static unsigned long long live_adds, live_subs;
static int live_counters_ok;            /* live_adds/subs are meaningful */

static Dwfl *offline;                   /* one closed module, from disk */
static unsigned long offline_seq;       /* its closed[].seq; 0: none */
static struct closed_mod closed[MP_MAX_CLOSED];
static unsigned long closed_seq;

static demangle_fn demangler;           /* atomic: used outside the lock */
static unsigned long long demangle_miss_adds = ~0ULL;

/* dwfl_standard_find_debuginfo ends in debuginfod when nothing local is
 * found, and elfutils 0.188 then dlopens libdebuginfod + libcurl-gnutls (29
 * objects, ~30 ms) into the target even with DEBUGINFOD_URLS unset; with it
 * set, a report may wait on the network.  So unless the user opted in, only
 * the build-id tree is searched (where Debian's -dbg/-dbgsym install). */
static int find_debuginfo(Dwfl_Module *mod, void **ud, const char *modname,
			  GElf_Addr base, const char *file, const char *link,
			  GElf_Word crc, char **debugfile)
{
	const char *urls = getenv("DEBUGINFOD_URLS");
	if (urls && urls[0])
		return dwfl_standard_find_debuginfo(mod, ud, modname, base, file,
						    link, crc, debugfile);
	return dwfl_build_id_find_debuginfo(mod, ud, modname, base, file, link,
					    crc, debugfile);
}

static const Dwfl_Callbacks proc_callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = find_debuginfo,
};

static const Dwfl_Callbacks offline_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = find_debuginfo,
	.section_address = dwfl_offline_section_address,
};

/* Bounded copy that always NUL-terminates; NULL gives "". */
static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strnlen(src, cap - 1) : 0;
	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

/* A forked child has one thread but may inherit `lock` held: by our prepare
 * handler (which also guarantees no Dwfl is mid-update, so a reset in the
 * child may free it) or by a dlclose record in flight.  lock_pid (0 before
 * first use) tells whether `lock` belongs to this process; if not, renew it. */
static void fix_after_fork(void)
{
	pid_t me = getpid(), owner = 0;

	if (!__atomic_compare_exchange_n(&lock_pid, &owner, me, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) && owner != me) {
		pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
		lock = fresh;
		__atomic_store_n(&lock_pid, me, __ATOMIC_RELEASE);
	}
}

/* Loader calls (dl_iterate_phdr, dlsym, dladdr) go through the process's
 * loader gate (procgate.h), outside `lock`.  A fork takes `lock` first
 * (rank MP_FORK_SYMBOLIZE, before the gate): a thread inside the gate that
 * wants `lock` then costs the fork its bounded drain, never a wait without
 * end.  The other order hung rb_fork_report (tests/robust) once in 3 runs. */
static void at_prepare(void)
{
	pthread_mutex_lock(&lock);
}

static void at_parent(void)
{
	pthread_mutex_unlock(&lock);
}

/* The classic unlock, unless a reset from an earlier child handler renewed
 * the mutex already.  The other threads are gone: so are their counts. */
static void at_child(void)
{
	if (__atomic_load_n(&lock_pid, __ATOMIC_ACQUIRE) != getpid()) {
		pthread_mutex_unlock(&lock);
		__atomic_store_n(&lock_pid, getpid(), __ATOMIC_RELEASE);
	}
	_mp_symbolize_reset(); /* its cache describes the parent */
}

static void register_atfork(void)
{
	_mp_procgate_on_fork(MP_FORK_SYMBOLIZE, at_prepare, at_parent, at_child);
}

/* Returns the caller's cancel state for sym_unlock: libdw opens and reads
 * files (cancellation points), and a cancel acted upon in there would leave
 * our lock held; glibc's malloc, whose calls end here, is no cancellation
 * point. */
static int sym_lock(void)
{
	int cs;
	pthread_once(&once, register_atfork);
	fix_after_fork(); /* also when a child's atfork handler resets us first */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cs);
	pthread_mutex_lock(&lock);
	return cs;
}

static void sym_unlock(int cs)
{
	pthread_mutex_unlock(&lock);
	pthread_setcancelstate(cs, NULL);
}

/* ---- pc -> result memo ---------------------------------------------------
 *
 * Open addressing on the pc (0: free slot); the strings of a result sit one
 * after another, NUL-terminated, in memo_str.  Emptied when the live module
 * set is re-reported, a module is dlclose'd, or the demangler changes. */
struct pc_memo {
	uintptr_t pc, offset;
	size_t str;          /* function, file, module at memo_str + str */
	int line;
};

#define MP_MEMO_MIN 1024
#define MP_MEMO_MAX (1 << 16)          /* slots; full: start over */
#define MP_MEMO_STR_MAX (32u << 20)

/* The memo is the library's own memory: taken from the real allocator
 * (base/real.c), never through the malloc shims, so it is neither tracked
 * nor reported whether or not the caller marked itself busy. */
static struct pc_memo *memo;
static size_t memo_cap, memo_n;         /* memo_cap: 0 or a power of two */
static char *memo_str;
static size_t memo_len, memo_str_cap;
static bool memo_stale;
static demangle_fn memo_dm;             /* the demangler of the memo's names */

static struct pc_memo *memo_slot(struct pc_memo *t, size_t cap, uintptr_t pc)
{
	size_t i = (size_t)(((uint64_t)pc * 0x9e3779b97f4a7c15ull) >> 32) & (cap - 1);

	while (t[i].pc && t[i].pc != pc)
		i = (i + 1) & (cap - 1);
	return &t[i];
}

static void memo_clear(bool release)
{
	if (release) {
		_mp_real_free(memo);
		_mp_real_free(memo_str);
		memo = NULL;
		memo_str = NULL;
		memo_cap = memo_str_cap = 0;
		memo_dm = NULL;
	} else if (memo_n) {
		memset(memo, 0, memo_cap * sizeof *memo);
	}
	memo_n = memo_len = 0;
	memo_stale = false;
}

static bool memo_get(uintptr_t pc, demangle_fn dm, struct mp_symbol *out)
{
	const struct pc_memo *m;
	const char *s;

	if (memo_stale || dm != memo_dm) {
		memo_clear(false);
		memo_dm = dm;
	}
	if (!memo_n || !(m = memo_slot(memo, memo_cap, pc))->pc)
		return false;
	s = memo_str + m->str;
	copy_str(out->function, sizeof out->function, s);
	s += strlen(s) + 1;
	copy_str(out->file, sizeof out->file, s);
	s += strlen(s) + 1;
	copy_str(out->module, sizeof out->module, s);
	out->line = m->line;
	out->offset = m->offset;
	return true;
}

static bool memo_grow(void)
{
	size_t cap = memo_cap ? 2 * memo_cap : MP_MEMO_MIN;
	struct pc_memo *t = _mp_real_calloc(cap, sizeof *t);

	if (!t)
		return false;
	for (size_t i = 0; i < memo_cap; i++)
		if (memo[i].pc)
			*memo_slot(t, cap, memo[i].pc) = memo[i];
	_mp_real_free(memo);
	memo = t;
	memo_cap = cap;
	return true;
}

static void memo_put(uintptr_t pc, const struct mp_symbol *s)
{
	const char *str[3] = { s->function, s->file, s->module };
	size_t len[3], need = 0;
	struct pc_memo *m;

	for (int i = 0; i < 3; i++)
		need += len[i] = strlen(str[i]) + 1;
	if (2 * (memo_n + 1) > MP_MEMO_MAX || memo_len + need > MP_MEMO_STR_MAX)
		memo_clear(false);
	if (2 * (memo_n + 1) > memo_cap && !memo_grow())
		return;
	if (memo_len + need > memo_str_cap) {
		size_t cap = memo_str_cap ? 2 * memo_str_cap : 64 * 1024;
		char *p = _mp_real_realloc(memo_str, cap);

		if (!p)
			return;
		memo_str = p;
		memo_str_cap = cap;
	}
	m = memo_slot(memo, memo_cap, pc);
	*m = (struct pc_memo){ .pc = pc, .offset = s->offset, .str = memo_len, .line = s->line };
	for (int i = 0; i < 3; i++) {
		memcpy(memo_str + memo_len, str[i], len[i]);
		memo_len += len[i];
	}
	memo_n++;
}


/* Without this re-report a module dlopen'd after the last one would be
 * missing, and one dlclose'd would shadow whatever reuses its addresses.
 * Re-reporting keeps unchanged modules along with their parsed DWARF. */
static Dwfl *live_dwfl(const unsigned long long *c)
{
	if (live && live_pid != getpid()) { /* forked without a reset */
		_mp_symindex_end_dwfl(live);
		live = NULL;
	}
	if (live && c && live_counters_ok && c[0] == live_adds && c[1] == live_subs)
		return live;
	memo_stale = true; /* the memo's results came from the old module set */
	if (!live && (live = dwfl_begin(&proc_callbacks)) == NULL)
		return NULL;
	live_pid = getpid();
	dwfl_report_begin(live);
	/* A partial report (e.g. one unreadable mapping) is still useful. */
	dwfl_linux_proc_report(live, live_pid);
	if (dwfl_report_end(live, _mp_symindex_removed, NULL) != 0) {
		_mp_symindex_end_dwfl(live);
		live = NULL;
		return NULL;
	}
	live_counters_ok = c != NULL;
	live_adds = c ? c[0] : 0;
	live_subs = c ? c[1] : 0;
	return live;
}

/* __cxa_demangle when libstdc++ is loaded (we must not depend on it).
 * A failed dlsym is retried only once something new was loaded. */
static demangle_fn get_demangler(const unsigned long long *c)
{
	demangle_fn d = __atomic_load_n(&demangler, __ATOMIC_ACQUIRE);

	if (!d && (!c || c[0] != __atomic_load_n(&demangle_miss_adds, __ATOMIC_RELAXED))) {
		d = (demangle_fn)dlsym(RTLD_DEFAULT, "__cxa_demangle");
		if (d)
			__atomic_store_n(&demangler, d, __ATOMIC_RELEASE);
		else if (c)
			__atomic_store_n(&demangle_miss_adds, c[0], __ATOMIC_RELAXED);
	}
	return d;
}

static void set_function(struct mp_symbol *out, const char *name, demangle_fn dm)
{
	char *d = NULL;
	int status = -1;
	if (dm && name[0] == '_' && name[1] == 'Z')
		d = dm(name, NULL, NULL, &status);
	copy_str(out->function, sizeof out->function, d && status == 0 ? d : name);
	free(d);
}

/* libdw 0.188 finds an address's CU only through .debug_aranges, which
 * clang does not emit without -gdwarf-aranges: scan the CUs' ranges then. */
static void line_by_cu_scan(Dwfl_Module *mod, Dwarf_Addr addr, struct mp_symbol *out)
{
	Dwarf_Die *cu = NULL;
	Dwarf_Addr bias = 0;
	Dwarf_Line *l = NULL;
	const char *file = NULL;
	int line = 0;

	while ((cu = dwfl_module_nextcu(mod, cu, &bias)) && dwarf_haspc(cu, addr - bias) <= 0)
		;
	if (cu && (l = dwarf_getsrc_die(cu, addr - bias)) != NULL)
		file = dwarf_linesrc(l, NULL, NULL);
	if (file && file[0] && dwarf_lineno(l, &line) == 0) {
		copy_str(out->file, sizeof out->file, file);
		out->line = line;
	}
}

/* The C runtime's entry frames, below main (or below a stripped program's
 * first frame): every report's stack ends there (report.c), so their
 * file:line is never printed.  Asking libdw for it would open libc's DWARF,
 * and a separate debug file with compressed sections (Debian's libc6-dbg)
 * is decompressed whole at open: 17 MiB resident at exit for `git commit`,
 * whose leaks have no other libc frame (peak RSS 5.1x glibc with
 * quarantine_mb=0, 1.5x without it).  The name alone is enough for the
 * report to stop at them. */
static bool crt_entry(const char *name)
{
	return name && (strncmp(name, "__libc_start_", 13) == 0 ||
			strcmp(name, "_start") == 0);
}

/* Function and file:line of `addr` (= pc - 1) within `mod`. */
static void fill_names(Dwfl_Module *mod, Dwarf_Addr addr, struct mp_symbol *out,
		       demangle_fn dm)
{
	const char *name = _mp_symindex_name(mod, addr);
	const char *file = NULL;
	int line = 0;

	if (name && name[0])
		set_function(out, name, dm);
	if (crt_entry(name))
		return;
	Dwfl_Line *ln = dwfl_module_getsrc(mod, addr);
	if (ln)
		file = dwfl_lineinfo(ln, NULL, &line, NULL, NULL, NULL);
	if (file && file[0]) {
		copy_str(out->file, sizeof out->file, file);
		out->line = line;
	} else {
		line_by_cu_scan(mod, addr, out);
	}
}

/* libdwfl 0.188's dwfl_addrmodule also answers the highest module for any
 * address above it (stack, vsyscall, ~0), so check the range ourselves. */
static Dwfl_Module *addr_module(Dwfl *d, Dwarf_Addr addr)
{
	Dwfl_Module *mod = d ? dwfl_addrmodule(d, addr) : NULL;
	Dwarf_Addr lo = 0, hi = 0;
	if (mod)
		dwfl_module_info(mod, NULL, &lo, &hi, NULL, NULL, NULL, NULL);
	return mod && addr >= lo && addr < hi ? mod : NULL;
}

static int from_live(Dwfl *d, uintptr_t pc, struct mp_symbol *out, demangle_fn dm)
{
	Dwfl_Module *mod = addr_module(d, pc - 1);
	const char *name, *mainfile = NULL;
	Dwarf_Addr bias = 0;

	if (!mod)
		return 0;
	/* getelf first: the bias and mainfile are unknown until it ran. */
	if (dwfl_module_getelf(mod, &bias))
		out->offset = pc - (uintptr_t)bias;
	name = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, &mainfile, NULL);
	copy_str(out->module, sizeof out->module, mainfile ? mainfile : name);
	fill_names(mod, pc - 1, out, dm);
	return 1;
}

/* The closed module that held pc: the newest record (later loads may have
 * reused the range), or with as_of, the first closed after generation gen,
 * i.e. the one loaded there when a stack of that generation was taken. */
static struct closed_mod *closed_at(uintptr_t pc, unsigned long gen, int as_of)
{
	struct closed_mod *c = NULL;
	for (int i = 0; i < MP_MAX_CLOSED; i++) {
		struct closed_mod *r = &closed[i];
		if (!r->seq || pc - 1 < r->lo || pc - 1 >= r->hi ||
		    (as_of && r->seq <= gen))
			continue;
		if (!c || (as_of ? r->seq < c->seq : r->seq > c->seq))
			c = r;
	}
	return c;
}

static int from_closed_mod(struct closed_mod *c, uintptr_t pc,
			   struct mp_symbol *out, demangle_fn dm)
{
	Dwfl_Module *mod;
	if (!c)
		return 0;
	copy_str(out->module, sizeof out->module, c->path);
	out->offset = pc - c->bias;
	if (offline_seq != c->seq) { /* a failed open stays cached as NULL */
		_mp_symindex_end_dwfl(offline);
		offline_seq = c->seq;
		if ((offline = dwfl_begin(&offline_callbacks)) != NULL) {
			dwfl_report_begin(offline);
			mod = dwfl_report_elf(offline, c->path, c->path, -1, c->bias, false);
			if (dwfl_report_end(offline, NULL, NULL) != 0 || !mod) {
				_mp_symindex_end_dwfl(offline);
				offline = NULL;
			}
		}
	}
	if ((mod = addr_module(offline, pc - 1)) != NULL)
		fill_names(mod, pc - 1, out, dm);
	return 1;
}

static void from_dladdr(uintptr_t pc, struct mp_symbol *out, demangle_fn dm)
{
	Dl_info info;
	struct link_map *lm = NULL;
	if (!dladdr1((void *)(pc - 1), &info, (void **)&lm, RTLD_DL_LINKMAP))
		return;
	copy_str(out->module, sizeof out->module, info.dli_fname);
	if (lm)
		out->offset = pc - (uintptr_t)lm->l_addr;
	if (info.dli_sname && info.dli_sname[0])
		set_function(out, info.dli_sname, dm);
}

int _mp_symbolize_crt_frame(uintptr_t pc, uintptr_t outer)
{
	Dl_info in, out;
	if (pc < 2 || outer < 2)
		return 0;
	_mp_loader_gate_enter();
	int crt = dladdr((void *)(outer - 1), &out) && out.dli_sname &&
		  strcmp(out.dli_sname, "__libc_start_main") == 0 &&
		  dladdr((void *)(pc - 1), &in) && in.dli_fbase == out.dli_fbase;
	_mp_loader_gate_leave();
	return crt;
}

static int symbolize_pc(uintptr_t pc, struct mp_symbol *out)
{
	unsigned long long c[2];
	const unsigned long long *cp;
	demangle_fn dm;
	Dwfl *d;
	int found;

	if (!out)
		return 0;
	memset(out, 0, sizeof *out);
	if (pc < 2) /* pc - 1 must still be a plausible code address */
		return 0;
	/* Loader calls (dl_iterate_phdr, dlsym, dladdr) stay outside our lock:
	 * dlopen runs constructors under the loader lock, and an allocation
	 * report from one of them would come here and wait for us. */
	pthread_once(&once, register_atfork); /* at_prepare guards what follows */
	/* libdw before our lock, and before the counters: its load moves
	 * them (a re-report later would see more than the program did);
	 * missing: dladdr only */
	bool dw = _mp_lazylibs_need(MP_LZ_DW);
	_mp_loader_gate_enter();
	cp = _mp_loader_counters(c);
	dm = get_demangler(cp);
	_mp_loader_gate_leave();
	int cs = sym_lock();
	d = dw ? live_dwfl(cp) : NULL; /* first: a re-report empties the memo */
	found = memo_get(pc, dm, out);
	if (!found && dw && (from_live(d, pc, out, dm) || from_closed_mod(closed_at(pc, 0, 0), pc, out, dm))) {
		memo_put(pc, out);
		found = 1;
	}
	sym_unlock(cs);
	if (!found) {
		_mp_loader_gate_enter();
		from_dladdr(pc, out, dm);
		_mp_loader_gate_leave();
	}
	return out->module[0] || out->function[0];
}

int _mp_symbolize(uintptr_t pc, struct mp_symbol *out)
{
	/* libdw opens module files and keeps them open: never on a standard
	 * descriptor the program closed (its next open() would get another
	 * number, and a report written "to stderr" would land in libdw's) */
	unsigned held = _mp_lowfd_hold();
	int found = symbolize_pc(pc, out);
	_mp_lowfd_release(held);
	return found;
}

static int range_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct closed_mod *q = data;
	(void)size;
	if (info->dlpi_addr != q->bias || !info->dlpi_name ||
	    strcmp(info->dlpi_name, q->path) != 0)
		return 0;
	q->lo = UINTPTR_MAX;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = q->bias + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && start < q->lo)
			q->lo = start;
		if (ph->p_type == PT_LOAD && start + ph->p_memsz > q->hi)
			q->hi = start + ph->p_memsz;
	}
	return 1;
}

void _mp_symbolize_before_dlclose(void *handle)
{
	struct link_map *lm = NULL;
	struct closed_mod q = { .seq = 0 }, *slot = NULL;

	/* Loader calls first, outside our lock (see _mp_symbolize). */
	if (!handle || dlinfo(handle, RTLD_DI_LINKMAP, &lm) != 0 || !lm ||
	    !lm->l_name || !lm->l_name[0])
		return;
	copy_str(q.path, sizeof q.path, lm->l_name);
	q.bias = (uintptr_t)lm->l_addr;
	dl_iterate_phdr(range_cb, &q);
	if (q.lo >= q.hi)
		return;
	/* Never in practice (libstdc++'s unique symbols make it NODELETE). */
	if ((uintptr_t)__atomic_load_n(&demangler, __ATOMIC_ACQUIRE) - q.lo < q.hi - q.lo)
		__atomic_store_n(&demangler, NULL, __ATOMIC_RELEASE);

	int cs = sym_lock();
	for (int i = 0; i < MP_MAX_CLOSED; i++) {
		struct closed_mod *c = &closed[i];
		if (c->seq && c->bias == q.bias && c->lo == q.lo && c->hi == q.hi &&
		    strcmp(c->path, q.path) == 0) {
			slot = c; /* known already: it just becomes the newest */
			break;
		}
		if (!slot || (slot->seq && c->seq < slot->seq))
			slot = c; /* a free slot, else the oldest record */
	}
	*slot = q;
	slot->seq = ++closed_seq;
	memo_stale = true; /* no malloc here: the next lookup empties it */
	sym_unlock(cs);
}

unsigned long _mp_symbolize_generation(void)
{
	return __atomic_load_n(&closed_seq, __ATOMIC_ACQUIRE);
}

int _mp_symbolize_at(uintptr_t pc, unsigned long gen, struct mp_symbol *out)
{
	if (gen < _mp_symbolize_generation() && pc >= 2 &&
	    _mp_lazylibs_need(MP_LZ_DW)) {
		/* a module unloaded since the capture may have held pc: the
		 * memo and the live modules speak of what is there now */
		memset(out, 0, sizeof *out);
		demangle_fn dm = __atomic_load_n(&demangler, __ATOMIC_ACQUIRE);
		unsigned held = _mp_lowfd_hold();
		int cs = sym_lock();
		int found = from_closed_mod(closed_at(pc, gen, 1), pc, out, dm);
		sym_unlock(cs);
		_mp_lowfd_release(held);
		if (found)
			return out->module[0] || out->function[0];
	}
	return _mp_symbolize(pc, out);
}

void _mp_symbolize_reset(void)
{
	int cs = sym_lock();
	_mp_symindex_end_dwfl(live); /* NULL-safe */
	_mp_symindex_end_dwfl(offline);
	live = offline = NULL;
	offline_seq = 0;
	memo_clear(true);
	sym_unlock(cs);
}
