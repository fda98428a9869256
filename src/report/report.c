/* report.c - the wording of every error report, in one place.
 *
 * Every report has one shape: a title line naming the kind, a locating line
 * (address, block, size, offset), then the stacks: where it was detected,
 * where the block was allocated, where it was freed.  Text is built in a
 * fixed buffer and written with write(2), under the report lock only, so
 * reports from threads never interleave and work on a corrupted heap.
 */
#define _GNU_SOURCE
#include "report.h"
#include "mempool.h"
#include "deepstack.h"
#include "depot.h"
#include "gpsites.h"
#include "loaderprobe.h"
#include "locate.h"
#include "options.h"
#include "reent.h"
#include "symbolize.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ERRLOG_MAX 1024

static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mp_verdict errlog[ERRLOG_MAX];
static size_t errlog_len;
static atomic_size_t nerrors;

static const char *const names[MP_E_KINDS] = {
	[MP_E_NONE] = "none",
	[MP_E_OVERFLOW] = "heap-buffer-overflow",
	[MP_E_UNDERFLOW] = "heap-buffer-underflow",
	[MP_E_DOUBLE_FREE] = "double-free",
	[MP_E_INVALID_FREE] = "invalid-free",
	[MP_E_USE_AFTER_FREE] = "use-after-free",
	[MP_E_ALLOC_DEALLOC_MISMATCH] = "alloc-dealloc-mismatch",
	[MP_E_NEW_DELETE_TYPE_MISMATCH] = "new-delete-type-mismatch",
	[MP_E_INVALID_ALIGNMENT] = "invalid-alignment",
	[MP_E_SIZE_TOO_BIG] = "allocation-size-too-big",
	[MP_E_CALLOC_OVERFLOW] = "calloc-overflow",
	[MP_E_REALLOC_SIZE_ZERO] = "realloc-size-zero",
	[MP_E_ALLOC_SIZE_ZERO] = "alloc-size-zero",
	[MP_E_FISHY_VALUE] = "fishy-value",
};

const char *_mp_err_name(enum mp_err k)
{
	return k < MP_E_KINDS ? names[k] : "unknown";
}

static const char *const family_names[MP_FAM_COUNT] = {
	[MP_FAM_MALLOC] = "malloc",
	[MP_FAM_NEW] = "operator new",
	[MP_FAM_NEW_ARRAY] = "operator new[]",
	[MP_FAM_NEW_ALIGNED] = "aligned operator new",
	[MP_FAM_NEW_ARRAY_ALIGNED] = "aligned operator new[]",
};

const char *_mp_family_name(unsigned family)
{
	return family < MP_FAM_COUNT ? family_names[family] : "unknown";
}

/* How deep this thread is in report_lock: a fatal signal that hits while
 * this thread writes a report reports on it without waiting for the lock
 * it holds itself (a double free on a 128 KiB thread hung so: the stack
 * overflow's SIGSEGV came inside the report); its lines may land inside
 * the interrupted report's, which is better than no report and a hang. */
static __thread int report_depth __attribute__((tls_model("initial-exec")));
/* inside _mp_report_error on this thread */
static __thread int in_report __attribute__((tls_model("initial-exec")));

/* mp_scope_end's report, kept for mp_scope_report (written under the
 * report lock; read by the thread that ended the scope after it). */
static char captured[65536];
static size_t captured_len;
static int capturing;

void _mp_report_capture(int on)
{
	pthread_mutex_lock(&report_lock);
	if (on)
		captured_len = 0;
	capturing = on;
	pthread_mutex_unlock(&report_lock);
}

size_t _mp_report_captured(char *buf, size_t cap)
{
	pthread_mutex_lock(&report_lock);
	size_t n = captured_len;
	if (buf && cap) {
		size_t k = n < cap - 1 ? n : cap - 1;
		__builtin_memcpy(buf, captured, k);
		buf[k] = '\0';
	}
	pthread_mutex_unlock(&report_lock);
	return n;
}

void _mp_report_begin(struct mp_out *o)
{
	_mp_nocancel_enter(); /* write(2) is a cancellation point */
	if (report_depth++ == 0)
		pthread_mutex_lock(&report_lock);
	_mp_report_sink_open(o);
	if (capturing) {
		o->tee = captured;
		o->tee_cap = sizeof captured;
		o->tee_len = &captured_len;
	}
}

void _mp_report_end(struct mp_out *o)
{
	_mp_out_flush(o);
	if (--report_depth == 0)
		pthread_mutex_unlock(&report_lock);
	_mp_nocancel_leave();
}

int _mp_report_inside(void)
{
	return report_depth > 0 || in_report;
}

void _mp_report_prefix(struct mp_out *o)
{
	_mp_out_printf(o, "==%d== ", (int)getpid());
}

int _mp_report_frame_end(const struct mp_symbol *sym)
{
	/* below main: the C runtime's frames, noise in every report */
	if (__builtin_strcmp(sym->function, "main") == 0)
		return MP_FRAME_LAST;
	/* below a thread's start routine: our trampoline, then glibc's */
	if (__builtin_strcmp(sym->function, "_mp_thread_start") == 0)
		return MP_FRAME_BEYOND;
	/* A stripped program has no "main" to stop at: its caller, glibc's
	 * start-up (and _start below it), is where the program's frames end,
	 * as memcheck's and ASan's reports end there. */
	if (__builtin_strncmp(sym->function, "__libc_start_", 13) == 0 ||
	    __builtin_strcmp(sym->function, "_start") == 0)
		return MP_FRAME_BEYOND;
	return MP_FRAME_PRINT;
}

unsigned _mp_report_frames(uint32_t id, mp_frame_fn fn, void *ctx)
{
	const uintptr_t *pcs;
	unsigned n = _mp_depot_get(id, &pcs), shown = 0;
	struct mp_symbol sym;
	for (unsigned i = 0; i < n; i++) {
		int known = 0;
		sym.function[0] = sym.file[0] = sym.module[0] = '\0';
		sym.line = 0;
		sym.offset = 0;
		/* The symbolizer allocates: keep it off the pool.  Not at all
		 * when this thread died inside the allocator, holding its locks
		 * (fatal-signal report): raw program counters then. */
		if (!_mp_tls.raw_stacks && _mp_loader_ok()) {
			/* the C runtime's frame below main, seen from its
			 * caller: the stack ends here as it would below */
			if (i && i + 1 < n && _mp_symbolize_crt_frame(pcs[i], pcs[i + 1]))
				break;
			_mp_enter();
			known = _mp_symbolize_at(pcs[i], _mp_depot_gen(id), &sym);
			_mp_leave();
		}
		int end = known ? _mp_report_frame_end(&sym) : MP_FRAME_PRINT;
		if (end == MP_FRAME_BEYOND && i)
			break;
		/* "__libc_start_main@@GLIBC_2.34": the version adds nothing */
		char *at = __builtin_strstr(sym.function, "@@");
		if (at)
			*at = '\0';
		if (!known)
			sym.function[0] = '\0';
		fn(ctx, i, pcs[i], &sym);
		shown++;
		if (end == MP_FRAME_LAST)
			break; /* after main: the C runtime is noise */
	}
	return shown;
}

static void text_frame(void *ctx, unsigned i, uintptr_t pc,
		       const struct mp_symbol *sym)
{
	struct mp_out *o = ctx;
	_mp_report_prefix(o);
	_mp_out_printf(o, "    #%u %p in ", i, (void *)pc);
	_mp_out_safe_str(o, sym->function[0] ? sym->function : "??");
	if (sym->file[0]) {
		_mp_out_str(o, " ");
		_mp_out_safe_str(o, sym->file);
		if (sym->line)
			_mp_out_printf(o, ":%d", sym->line);
	}
	if (sym->module[0]) {
		_mp_out_str(o, " (");
		_mp_out_safe_str(o, _mp_base_name(sym->module));
		_mp_out_printf(o, "+0x%lx)", (unsigned long)sym->offset);
	}
	_mp_out_str(o, "\n");
}

void _mp_report_stack(struct mp_out *o, uint32_t id)
{
	if (_mp_report_frames(id, text_frame, o) == 0) {
		_mp_report_prefix(o);
		_mp_out_str(o, "    (no stack recorded)\n");
	}
}

/* new-delete-type-mismatch: what the allocation had and the delete said. */
static void mismatch_line(struct mp_out *o, const struct mp_verdict *v)
{
	const struct mp_block *b = &v->blk;
	int by_size = v->arg_sized && v->arg != b->size;
	size_t had_align = (size_t)1 << b->align_log;
	_mp_out_printf(o, "%s(%p, ", v->where, (void *)v->addr);
	if (by_size)
		_mp_out_printf(o, "size %zu", v->arg);
	else
		_mp_out_printf(o, "alignment %zu", v->arg2);
	_mp_out_printf(o, "): the %zu-byte block at %p was allocated by %s ",
		       b->size, (void *)b->user, _mp_family_name(b->family));
	if (by_size)
		_mp_out_printf(o, "with size %zu, freed with size %zu\n", b->size,
			       v->arg);
	else
		_mp_out_printf(o, "with alignment %zu, freed with alignment %zu\n",
			       had_align, v->arg2);
}

/* The locating line without prefix: what the address or call is. */
static void locate_text(struct mp_out *o, const struct mp_verdict *v)
{
	const struct mp_block *b = &v->blk;
	if (!v->count && (v->kind == MP_E_OVERFLOW || v->kind == MP_E_UNDERFLOW ||
			  v->kind == MP_E_USE_AFTER_FREE)) {
		/* caught at the access itself (guard page): nothing changed */
		_mp_out_printf(o, "%s at offset %ld (%p) of the %s%zu-byte "
			       "block at %p, caught by a guard page\n",
			       v->access == MP_ACCESS_WRITE ? "write"
			       : v->access == MP_ACCESS_READ ? "read" : "access",
			       v->offset, (void *)v->addr,
			       v->kind == MP_E_USE_AFTER_FREE ? "freed " : "",
			       b->size, (void *)b->user);
		return;
	}
	switch (v->kind) {
	case MP_E_OVERFLOW:
	case MP_E_UNDERFLOW:
		_mp_out_printf(o, "%zu guard byte%s changed, first at offset %ld "
			       "(%p) of the %zu-byte block at %p",
			       v->count, v->count == 1 ? "" : "s", v->offset,
			       (void *)v->addr, b->size, (void *)b->user);
		if (v->kind == MP_E_OVERFLOW)
			_mp_out_printf(o, " (%ld byte%s after its end)\n",
				       v->offset - (long)b->size,
				       v->offset - (long)b->size == 1 ? "" : "s");
		else
			_mp_out_printf(o, " (%ld byte%s before its start)\n",
				       -v->offset, v->offset == -1 ? "" : "s");
		break;
	case MP_E_DOUBLE_FREE:
		_mp_out_printf(o, "%s(%p): the %zu-byte block at %p was already freed\n",
			       v->where, (void *)v->addr, b->size, (void *)b->user);
		break;
	case MP_E_INVALID_FREE:
		if (v->has_block)
			_mp_out_printf(o, "%s(%p): address is at offset %ld of the "
				       "%zu-byte block at %p, not its start\n",
				       v->where, (void *)v->addr, v->offset, b->size,
				       (void *)b->user);
		else
			_mp_out_printf(o, "%s(%p): address was not allocated by "
				       "this allocator (stack, global or wild pointer)\n",
				       v->where, (void *)v->addr);
		break;
	case MP_E_USE_AFTER_FREE:
		_mp_out_printf(o, "%zu byte%s written after free, first at offset "
			       "%ld (%p) of the %zu-byte block at %p\n",
			       v->count, v->count == 1 ? "" : "s", v->offset,
			       (void *)v->addr, b->size, (void *)b->user);
		break;
	case MP_E_ALLOC_DEALLOC_MISMATCH:
		_mp_out_printf(o, "%s(%p): the %zu-byte block at %p was allocated "
			       "by %s, freed by %s\n", v->where, (void *)v->addr,
			       b->size, (void *)b->user,
			       _mp_family_name(b->family), v->where);
		break;
	case MP_E_NEW_DELETE_TYPE_MISMATCH:
		mismatch_line(o, v);
		break;
	case MP_E_INVALID_ALIGNMENT: {
		int pow2 = v->arg && !(v->arg & (v->arg - 1));
		if (strstr(v->where, "delete") && !v->arg2) /* an unsized delete */
			_mp_out_printf(o, "%s(alignment %zu): ", v->where, v->arg);
		else
			_mp_out_printf(o, "%s(alignment %zu, size %zu): ", v->where,
				       v->arg, v->arg2);
		if (pow2 && !strcmp(v->where, "aligned_alloc")) /* memcheck 3.22 */
			_mp_out_str(o, "size is not a multiple of the alignment\n");
		else
			_mp_out_printf(o, "alignment is %s\n", pow2
				       ? "not a multiple of sizeof(void *) (8)"
				       : "not a power of two");
		break;
	}
	case MP_E_ALLOC_SIZE_ZERO:
		_mp_out_printf(o, "%s(alignment %zu, size 0): unsafe allocation "
			       "with size of zero (its result is "
			       "implementation-defined)\n", v->where, v->arg);
		break;
	case MP_E_FISHY_VALUE:
		_mp_out_printf(o, "%s(nmemb %zu, size %zu): argument '%s' has a "
			       "fishy (possibly negative) value: %ld\n", v->where,
			       v->arg, v->arg2, (long)v->arg < 0 ? "nmemb" : "size",
			       (long)v->arg < 0 ? (long)v->arg : (long)v->arg2);
		break;
	case MP_E_SIZE_TOO_BIG:
		_mp_out_printf(o, "%s(size %zu): requested size 0x%zx exceeds the "
			       "maximum allocation size 0x%zx", v->where, v->arg,
			       v->arg, v->arg2);
		if ((long)v->arg < 0)
			_mp_out_printf(o, " (a negative size: %ld)", (long)v->arg);
		else
			_mp_out_str(o, " (max_allocation_size)");
		_mp_out_str(o, "\n");
		break;
	case MP_E_CALLOC_OVERFLOW:
		_mp_out_printf(o, "%s(nmemb %zu, size %zu): nmemb * size overflows "
			       "size_t\n", v->where, v->arg, v->arg2);
		break;
	case MP_E_REALLOC_SIZE_ZERO:
		_mp_out_printf(o, "%s(%p, 0): size 0 frees the %zu-byte block at %p "
			       "and returns NULL\n", v->where, (void *)v->addr,
			       b->size, (void *)b->user);
		break;
	default:
		_mp_out_printf(o, "address %p\n", (void *)v->addr);
	}
}

static void locate_line(struct mp_out *o, const struct mp_verdict *v)
{
	_mp_report_prefix(o);
	locate_text(o, v);
}

void _mp_report_describe(const struct mp_verdict *v, char *buf, size_t cap)
{
	struct mp_out o;
	_mp_out_init(&o, MP_OUT_KEEP);
	locate_text(&o, v);
	size_t n = o.len && o.buf[o.len - 1] == '\n' ? o.len - 1 : o.len;
	if (cap == 0)
		return;
	if (n >= cap)
		n = cap - 1;
	__builtin_memcpy(buf, o.buf, n);
	buf[n] = '\0';
}

int _mp_report_site(const struct mp_verdict *v, char *buf, size_t cap)
{
	int late = v->count && v->has_block && v->blk.alloc_stack &&
		   (v->kind == MP_E_OVERFLOW || v->kind == MP_E_UNDERFLOW ||
		    v->kind == MP_E_USE_AFTER_FREE);
	if (!late || _mp_tls.raw_stacks)
		return -1;
	return _mp_gp_site_key(v->blk.alloc_stack, v->kind == MP_E_UNDERFLOW
				       ? MP_GP_UNDER : MP_GP_OVER, buf, cap);
}

/* Damage found after the fact (guard or poison bytes changed): one line on
 * how to have the bad access itself reported. */
static void locate_hint(struct mp_out *o, const struct mp_verdict *v)
{
	char key[MP_SITE_KEY_MAX];
	if (!v->count || (v->kind != MP_E_OVERFLOW && v->kind != MP_E_UNDERFLOW &&
			  v->kind != MP_E_USE_AFTER_FREE))
		return;
	_mp_report_prefix(o);
	if (_mp_report_site(v, key, sizeof key) != 0) {
		_mp_out_str(o, "  to find the access: rerun with MPWRAP_OPTIONS="
			    "guard_page_rate=1 (no allocation site to target)\n");
		return;
	}
	_mp_out_str(o, "  to find the access: mpcheck --locate, or rerun with "
		    "MPWRAP_OPTIONS=guard_page_sites=");
	_mp_out_safe_str(o, key);
	_mp_out_str(o, v->kind == MP_E_USE_AFTER_FREE
			       ? " (also catches reads after free)\n" : "\n");
}

/* exit.c, in libmpwrap.so only */
/* abort_on_error: what runs instead of abort() (the preload's exit report
 * registers it); without it (libmempool.a) the process aborts at once. */
static void (*_Atomic abort_hook)(void);

void _mp_report_on_abort(void (*hook)(void))
{
	atomic_store(&abort_hook, hook);
}

static void report_error_deep(void *given);

void _mp_report_error(const struct mp_verdict *given)
{
	atomic_fetch_add(&nerrors, 1);
	if (in_report) /* an error met while writing a report: count only */
		return;
	/* locating, symbolizing and printing go deeper than a small thread's
	 * stack (the stacks in the report were captured already) */
	_mp_deep_call(report_error_deep, (void *)given);
	if (_mp_opt.abort_on_error) {
		/* the preload library writes the leak report and the JSON
		 * file first (abort() in here lost them) */
		void (*hook)(void) = atomic_load(&abort_hook);
		if (!hook)
			abort();
		hook(); /* returns when a report in progress (exit, fatal
			 * signal) ends it */
	}
}

static void report_error_deep(void *given_)
{
	const struct mp_verdict *given = given_;
	in_report = 1;
	/* located now, before the report lock: the stack or frame an address
	 * points into may be gone by the time the JSON is written */
	struct mp_verdict located = *given;
	const struct mp_verdict *v = &located;
	if (!_mp_tls.raw_stacks)
		_mp_locate(&located);
	struct mp_out o;
	_mp_report_begin(&o);
	if (errlog_len < ERRLOG_MAX)
		errlog[errlog_len++] = *v;
	_mp_report_prefix(&o);
	_mp_out_printf(&o, "ERROR: %s\n", _mp_err_name(v->kind));
	locate_line(&o, v);
	if (v->loc[0]) {
		_mp_report_prefix(&o);
		_mp_out_safe_str(&o, v->loc);
		_mp_out_str(&o, "\n");
	}
	_mp_report_prefix(&o);
	if (v->sweep)
		_mp_out_printf(&o, "  detected by the %s check\n", v->where);
	else
	_mp_out_printf(&o, "  %s %s:\n",
		       v->kind == MP_E_USE_AFTER_FREE ||
				       v->kind == MP_E_OVERFLOW ||
				       v->kind == MP_E_UNDERFLOW
			       ? "detected by"
			       : "bad call to",
		       v->where);
	if (!v->sweep)
		_mp_report_stack(&o, v->access_stack);
	if (v->has_block) {
		_mp_report_prefix(&o);
		_mp_out_str(&o, "  allocated by:\n");
		_mp_report_stack(&o, v->blk.alloc_stack);
		if (v->blk.state == MP_ST_QUAR || v->blk.state == MP_ST_FREED) {
			_mp_report_prefix(&o);
			_mp_out_printf(&o, "  %s:\n", v->kind == MP_E_DOUBLE_FREE
							      ? "first freed by"
							      : "freed by");
			_mp_report_stack(&o, v->blk.free_stack);
		}
	}
	locate_hint(&o, v);
	_mp_report_prefix(&o);
	_mp_out_str(&o, "\n");
	_mp_report_end(&o);
	in_report = 0;
}

size_t _mp_report_error_count(void) { return atomic_load(&nerrors); }

size_t _mp_report_error_log(const struct mp_verdict **log)
{
	*log = errlog;
	return errlog_len;
}

void _mp_report_reset(void)
{
	pthread_mutex_lock(&report_lock);
	errlog_len = 0;
	atomic_store(&nerrors, 0);
	_mp_report_sink_reset();
	pthread_mutex_unlock(&report_lock);
}

/* The report lock takes no part in fork: a thread writing a report may be
 * waiting in the symbolizer's loader gate for the fork to end, so fork may
 * not wait for it.  In the child, where that thread does not exist, the
 * lock is made new; the error log it may have been appending to keeps at
 * worst one entry half-written. */
void _mp_report_fork_child(void)
{
	pthread_mutex_init(&report_lock, NULL);
}
