/* locate.c - where a bad address points, in words: beside or inside a heap
 * block, in a freed block, on a thread's stack (and in which frame), in a
 * module's data (and at which symbol), or nowhere we know of.
 *
 * Report-time only: it symbolizes and reads the thread registry, so no pool
 * lock may be held; nothing here allocates from the pool.
 */
#define _GNU_SOURCE
#include "locate.h"
#include "deepstack.h"
#include "gpsites.h"
#include "loaderprobe.h"
#include "depot.h"
#include "out.h"
#include "reent.h"
#include "procgate.h"
#include "stack.h"
#include "symbolize.h"
#include "unwind.h"

#define UNW_LOCAL_ONLY
#include <dlfcn.h>
#include <fcntl.h>
#include "lazylibs.h"
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Bytes of /proc/self/maps read at a time (one line is far shorter). */
#define MAPS_CHUNK 4096
/* Frames walked to name the frame of a stack address. */
#define MAX_FRAMES 256

enum { LOC_NONE, LOC_HEAP, LOC_FREED, LOC_STACK, LOC_DATA, LOC_MODULE,
       LOC_UNKNOWN, LOC_KINDS };

const char *_mp_loc_kind_name(int kind)
{
	static const char *const names[LOC_KINDS] = {
		[LOC_HEAP] = "heap", [LOC_FREED] = "freed", [LOC_STACK] = "stack",
		[LOC_DATA] = "data", [LOC_MODULE] = "module",
		[LOC_UNKNOWN] = "unknown",
	};
	return kind > LOC_NONE && kind < LOC_KINDS ? names[kind] : NULL;
}

/* ", allocated at F (FILE:LINE)": the first frame of the block's
 * allocation stack, appended to t when it is symbolized. */
static void append_site(char *t, size_t cap, uint32_t stack)
{
	const uintptr_t *pcs;
	struct mp_symbol sym;
	if (_mp_depot_get(stack, &pcs) == 0)
		return;
	sym.function[0] = sym.file[0] = '\0';
	sym.line = 0;
	_mp_enter();
	_mp_symbolize(pcs[0], &sym);
	_mp_leave();
	if (!sym.function[0])
		return;
	size_t n = __builtin_strlen(t);
	if (sym.file[0])
		_mp_snprintf(t + n, cap - n, ", allocated at %s (%s:%d)",
			     sym.function, _mp_base_name(sym.file), sym.line);
	else
		_mp_snprintf(t + n, cap - n, ", allocated at %s", sym.function);
}

/* Relative to the block: N bytes before / inside / after the end of it,
 * and where it was allocated. */
static void heap_text(struct mp_verdict *v)
{
	const struct mp_block *b = &v->blk;
	int freed = b->state == MP_ST_QUAR || b->state == MP_ST_FREED;
	const char *fr = freed ? "freed " : "";
	long off = v->offset, size = (long)b->size;
	char *t = v->loc;
	size_t cap = sizeof v->loc;
	v->loc_kind = freed ? LOC_FREED : LOC_HEAP;
	if (off < 0)
		_mp_snprintf(t, cap, "%p is %ld byte%s before the start of the %s"
			     "%zu-byte block at %p", (void *)v->addr, -off,
			     off == -1 ? "" : "s", fr, b->size, (void *)b->user);
	else if (off >= size && !(off == 0 && size == 0))
		_mp_snprintf(t, cap, "%p is %ld byte%s after the end of the %s"
			     "%zu-byte block at %p", (void *)v->addr, off - size,
			     off - size == 1 ? "" : "s", fr, b->size,
			     (void *)b->user);
	else
		_mp_snprintf(t, cap, "%p is %ld byte%s inside the %s%zu-byte "
			     "block at %p", (void *)v->addr, off,
			     off == 1 ? "" : "s", fr, b->size, (void *)b->user);
	append_site(t, cap, b->alloc_stack);
}

/* The function whose frame holds addr: libunwind walks this thread's
 * stack (the pool's own frames keep no frame-pointer chain) and a frame
 * owns [its sp, its caller's sp).  On the library's stack (deepstack.c)
 * the walk starts from the context saved at the switch: the program's
 * frames are above that one, not above ours. */
static int frame_pc(uintptr_t addr, uintptr_t *pc)
{
	unw_context_t ctx;
	unw_cursor_t cur;
	unw_word_t sp, ip, prev_sp = 0, prev_ip = 0;
	int found = 0;
	if (!_mp_lazylibs_need(MP_LZ_UNWIND))
		return 0;
	_mp_loader_gate_enter();
	const void *caller = _mp_deep_caller((uintptr_t)&ctx);
	if (caller)
		memcpy(&ctx, caller, sizeof ctx);
	if ((caller || unw_getcontext(&ctx) == 0) && unw_init_local(&cur, &ctx) == 0) {
		for (int i = 0; i < MAX_FRAMES; i++) {
			if (unw_get_reg(&cur, UNW_REG_SP, &sp) != 0 ||
			    unw_get_reg(&cur, UNW_REG_IP, &ip) != 0)
				break;
			if (i > 0 && addr >= prev_sp && addr < sp) {
				*pc = prev_ip;
				found = 1;
				break;
			}
			prev_sp = sp;
			prev_ip = ip;
			if (unw_step(&cur) <= 0)
				break;
		}
	}
	_mp_loader_gate_leave();
	return found;
}

static int on_my_stack(struct mp_verdict *v)
{
	uintptr_t lo, hi, pc;
	if (!_mp_unwind_known_bounds(&lo, &hi) || v->addr < lo || v->addr >= hi)
		return 0;
	int tid = (int)syscall(SYS_gettid);
	char who[48];
	if (tid == (int)getpid())
		_mp_snprintf(who, sizeof who, "the main thread");
	else
		_mp_snprintf(who, sizeof who, "thread %d (this thread)", tid);
	struct mp_symbol sym;
	sym.function[0] = '\0';
	_mp_enter(); /* libunwind and libdw may allocate */
	if (frame_pc(v->addr, &pc))
		_mp_symbolize(pc, &sym);
	_mp_leave();
	v->loc_kind = LOC_STACK;
	if (sym.function[0])
		_mp_snprintf(v->loc, sizeof v->loc, "%p is on the stack of %s, in "
			     "the frame of %s", (void *)v->addr, who, sym.function);
	else
		_mp_snprintf(v->loc, sizeof v->loc, "%p is on the stack of %s",
			     (void *)v->addr, who);
	return 1;
}

/* One line of /proc/self/maps: range, whether it is a PROT_NONE guard,
 * and whether it is the main thread's "[stack]". */
struct map_line {
	uintptr_t lo, hi;
	int guard, main_stack, anon;
};

static int parse_map(const char *l, struct map_line *m)
{
	char *e;
	m->lo = (uintptr_t)strtoul(l, &e, 16);
	if (*e != '-')
		return 0;
	m->hi = (uintptr_t)strtoul(e + 1, &e, 16);
	if (*e != ' ')
		return 0;
	m->guard = strncmp(e + 1, "---p", 4) == 0;
	const char *path = strchr(e + 1, '/');
	m->main_stack = strstr(e, "[stack]") != NULL;
	m->anon = !path && !strchr(e + 1, '[');
	return 1;
}

/* Another thread's stack, as glibc lays them out: an anonymous mapping
 * right above its PROT_NONE guard; or the main thread's "[stack]" seen
 * from another thread.  The maps file, not the thread registry: it also
 * knows threads started before us or not through pthread_create. */
static int on_other_stack(struct mp_verdict *v)
{
	char buf[MAPS_CHUNK + 1];
	size_t len = 0;
	ssize_t r;
	struct map_line prev = { 0 }, cur;
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC), found = 0;
	if (fd < 0)
		return 0;
	while (!found && (r = read(fd, buf + len, MAPS_CHUNK - len)) > 0) {
		len += (size_t)r;
		buf[len] = '\0';
		char *line = buf, *nl;
		while ((nl = strchr(line, '\n'))) {
			*nl = '\0';
			if (parse_map(line, &cur) && v->addr >= cur.lo &&
			    v->addr < cur.hi) {
				found = cur.main_stack ? 1
					: cur.anon && prev.guard && prev.hi == cur.lo
					? 2 : -1;
				break;
			}
			if (parse_map(line, &cur))
				prev = cur;
			line = nl + 1;
		}
		len -= (size_t)(line - buf);
		memmove(buf, line, len);
	}
	close(fd);
	if (found <= 0)
		return 0;
	v->loc_kind = LOC_STACK;
	_mp_snprintf(v->loc, sizeof v->loc, "%p is on the stack of %s",
		     (void *)v->addr, found == 1 ? "the main thread"
						 : "another thread");
	return 1;
}

struct seg_find {
	uintptr_t addr;
	int found, writable;
};

static int seg_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct seg_find *f = arg;
	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && f->addr >= lo &&
		    f->addr < lo + ph->p_memsz) {
			f->found = 1;
			f->writable = (ph->p_flags & PF_W) != 0;
			return 1;
		}
	}
	return 0;
}

static int in_module(struct mp_verdict *v)
{
	struct seg_find f = { .addr = v->addr };
	Dl_info di;
	_mp_enter();
	dl_iterate_phdr(seg_cb, &f);
	int named = f.found && dladdr((void *)v->addr, &di) && di.dli_fname;
	struct mp_symbol sym;
	sym.function[0] = '\0';
	if (named) /* symbolize looks up pc - 1: ask for the byte itself */
		_mp_symbolize(v->addr + 1, &sym);
	_mp_leave();
	if (!named)
		return 0;
	v->loc_kind = f.writable ? LOC_DATA : LOC_MODULE;
	const char *mod = _mp_base_name(di.dli_fname);
	const char *seg = f.writable ? "the data segment" : "the read-only part";
	if (sym.function[0])
		_mp_snprintf(v->loc, sizeof v->loc, "%p is in %s of %s (symbol %s)",
			     (void *)v->addr, seg, mod, sym.function);
	else
		_mp_snprintf(v->loc, sizeof v->loc, "%p is in %s of %s",
			     (void *)v->addr, seg, mod);
	return 1;
}

void _mp_locate(struct mp_verdict *v)
{
	v->loc[0] = '\0';
	v->loc_kind = LOC_NONE;
	if (!_mp_loader_ok())
		return; /* a forked child's loader is locked for good */
	switch (v->kind) {
	case MP_E_INVALID_FREE:
	case MP_E_OVERFLOW:
	case MP_E_UNDERFLOW:
	case MP_E_USE_AFTER_FREE:
		break;
	default:
		return;
	}
	if (v->has_block) {
		heap_text(v);
		return;
	}
	if (on_my_stack(v) || on_other_stack(v) || in_module(v))
		return;
	v->loc_kind = LOC_UNKNOWN;
	_mp_snprintf(v->loc, sizeof v->loc, "%p is not a heap address (no heap "
		     "block, thread stack or module holds it)", (void *)v->addr);
}

int _mp_gp_site_key(uint32_t stack, int side, char *buf, size_t cap)
{
	const uintptr_t *pcs;
	unsigned n = _mp_depot_get(stack, &pcs);
	size_t len = 0;
	struct mp_symbol sym;
	if (!n || !cap || !_mp_loader_ok())
		return -1;
	buf[0] = '\0';
	if (side == MP_GP_UNDER)
		len = _mp_snprintf(buf, cap, "under@");
	for (unsigned i = 0; i < n && i < MP_SITE_FRAMES; i++) {
		sym.function[0] = sym.module[0] = '\0';
		_mp_enter();
		int known = _mp_symbolize_at(pcs[i], _mp_depot_gen(stack), &sym);
		_mp_leave();
		const char *mod = _mp_base_name(sym.module);
		/* a name the option could not carry: stop the key here */
		if (!known || !mod[0] || strpbrk(mod, ":/,@ \t\n=") ||
		    strlen(mod) >= MP_SITE_MODULE_MAX)
			break;
		len += _mp_snprintf(buf + len, len < cap ? cap - len : 0, "%s%s+0x%lx",
				    i ? "/" : "", mod, (unsigned long)sym.offset);
		if (strcmp(sym.function, "main") == 0)
			break; /* the JSON report's stacks end there too */
	}
	if (len + 1 >= cap || !buf[0] || buf[len - 1] == '@') {
		buf[0] = '\0';
		return -1;
	}
	return 0;
}
