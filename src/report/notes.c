/* notes.c - the report module's one-line notes and summaries that are no
 * error report: dlopen's dropped RTLD_DEEPBIND, a forked child's stuck
 * loader, the stack walkers' counts, mp_dump_leaks and mp_dump_stats, the
 * abort_on_error line, and the death of the program by a signal.  Each
 * goes to the report sink (report.c) as one locked write. */
#define _GNU_SOURCE
#include "report.h"
#include "mempool.h"
#include "depot.h"
#include "leaks.h"
#include "options.h"
#include "reent.h"
#include "stack.h"
#include "unwind.h"

#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdatomic.h>

void _mp_report_deepbind(const char *file)
{
	static atomic_int said;
	struct mp_out o;
	if (atomic_exchange(&said, 1))
		return;
	int saved = errno;
	_mp_report_begin(&o);
	_mp_report_prefix(&o);
	_mp_out_str(&o, "mpwrap: dlopen(\"");
	_mp_out_safe_str(&o, file ? file : "(null)");
	_mp_out_str(&o, "\", RTLD_DEEPBIND): flag dropped, so that the library "
		    "allocates through the checker like the rest of the program "
		    "(said once)\n");
	_mp_report_end(&o);
	errno = saved;
}

void _mp_report_loader_stuck(void)
{
	struct mp_out o;
	_mp_report_begin(&o);
	_mp_report_prefix(&o);
	_mp_out_str(&o, "mpwrap: no report: this process was forked while another "
		    "thread was inside the dynamic loader (dlopen or dlclose), "
		    "whose locks it then holds for good; leaks and stacks cannot "
		    "be read without them\n");
	_mp_report_end(&o);
}

/* ---- stack capture notes (unwinder=2, verbosity=2) ---------------------- */

void _mp_report_depot_full(void)
{
	struct mp_out o;
	int saved = errno;
	struct rlimit rl;
	int limited = getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY;
	_mp_report_begin(&o);
	_mp_report_prefix(&o);
	_mp_out_str(&o, "mpwrap: stacks cannot be recorded: ");
	if (limited)
		_mp_out_printf(&o, "no address space left for them under the "
			       "limit of %zu MiB (ulimit -v)",
			       (size_t)(rl.rlim_cur >> 20));
	else
		_mp_out_str(&o, "no memory left for them, or the stack depot "
			    "is full");
	_mp_out_str(&o, "; blocks whose stack could not be stored are "
		    "reported without it (said once)\n");
	_mp_report_end(&o);
	errno = saved;
}

void _mp_report_unwind_mismatch(unsigned k, const uintptr_t *fast, unsigned nf,
				const uintptr_t *ref, unsigned nr)
{
	struct mp_out o;
	_mp_report_begin(&o);
	_mp_report_prefix(&o);
	_mp_out_printf(&o, "mpwrap: unwinder mismatch at frame %u: fast ", k);
	if (k < nf)
		_mp_out_printf(&o, "0x%lx", (unsigned long)fast[k]);
	else
		_mp_out_str(&o, "(end)");
	_mp_out_str(&o, " libunwind ");
	if (k < nr)
		_mp_out_printf(&o, "0x%lx", (unsigned long)ref[k]);
	else
		_mp_out_str(&o, "(end)");
	_mp_out_printf(&o, " (%u and %u frames)\n", nf, nr);
	_mp_report_end(&o);
}

/* "N left to libunwind (a outside the thread's stack, b no usable rule, ...)" */
static void print_declined(struct mp_out *o, const struct mp_stack_counts *c)
{
	static const char *const why[MP_UW_NREASONS] = {
		"outside the thread's stack", "no usable rule", "bad frame",
		"entry frame not found"
	};
	unsigned long total = 0;
	for (int i = 0; i < MP_UW_NREASONS; i++)
		total += c->declined[i];
	_mp_out_printf(o, "%lu left to libunwind", total);
	const char *sep = " (";
	for (int i = 0; i < MP_UW_NREASONS; i++) {
		unsigned long k = c->declined[i];
		if (k) {
			_mp_out_printf(o, "%s%lu %s", sep, k, why[i]);
			sep = ", ";
		}
	}
	_mp_out_str(o, total ? ")" : "");
}

void _mp_report_unwinder_note(void)
{
	struct mp_out o;
	struct mp_stack_counts c;
	_mp_stack_counts(&c);
	if (_mp_opt.unwinder == 2) {
		_mp_report_begin(&o);
		_mp_report_prefix(&o);
		_mp_out_printf(&o, "mpwrap: unwinder compare: %lu captures, %lu mismatches, ",
			       c.compared, c.mismatches);
		print_declined(&o, &c);
		if (c.mismatches > c.mismatch_lines)
			_mp_out_printf(&o, "; mismatches past the first %lu not listed\n",
				       c.mismatch_lines);
		else
			_mp_out_str(&o, "\n");
		_mp_report_end(&o);
	}
	if (_mp_opt.verbosity >= 2 && _mp_opt.unwinder == 1) {
		struct mp_unwind_stats st;
		_mp_enter();
		_mp_unwind_stats(&st);
		_mp_leave();
		_mp_report_begin(&o);
		_mp_report_prefix(&o);
		_mp_out_printf(&o, "mpwrap: unwinder: %lu pcs cached (%lu without a "
			       "usable rule), %lu rules derived, %lu flushes%s; ",
			       st.rules + st.unusable, st.unusable, st.derived,
			       st.flushes, st.full ? ", table full" : "");
		print_declined(&o, &c);
		_mp_out_str(&o, "\n");
		_mp_report_end(&o);
	}
}

/* ---- mp_dump_leaks and mp_dump_stats ------------------------------------ */

void _mp_report_live_blocks(const struct mp_leak_set *ls, const char *scope)
{
	struct mp_out o;
	_mp_report_begin(&o);
	if (scope) {
		_mp_report_prefix(&o);
		_mp_out_str(&o, "mpwrap: leaks in scope '");
		_mp_out_safe_str(&o, scope);
		_mp_out_str(&o, "' (mp_scope_end): blocks it allocated, still live "
			    "(libmempool.a: no reachability scan)\n");
	}
	for (size_t i = 0; i < ls->n; i++) {
		const struct mp_leak_group *g = &ls->g[i];
		_mp_report_prefix(&o);
		_mp_out_printf(&o, "%zu bytes in %zu block%s allocated from:\n",
			       g->bytes, g->blocks, g->blocks == 1 ? "" : "s");
		_mp_report_stack(&o, g->stack);
		_mp_report_prefix(&o);
		_mp_out_str(&o, "\n");
	}
	_mp_report_prefix(&o);
	_mp_out_printf(&o, "live %sblocks: %zu bytes in %zu blocks from %zu "
		       "allocation stack%s", ls->sample_rate ? "sampled " : "",
		       ls->total_bytes, ls->total_blocks, ls->n, ls->n == 1 ? "" : "s");
	if (ls->sample_rate) /* one allocation in N: the scale of the figures */
		_mp_out_printf(&o, " (sample_rate=%lu: ~%zu bytes in all)",
			       ls->sample_rate, ls->total_bytes * ls->sample_rate);
	_mp_out_str(&o, "\n");
	_mp_report_end(&o);
}

void _mp_report_stats(const struct mp_stats *st)
{
	struct mp_out o;
	_mp_report_begin(&o);
	_mp_report_prefix(&o);
	_mp_out_str(&o, "pool statistics:\n");
	_mp_report_prefix(&o);
	_mp_out_str(&o, "   class      total     in use  quarantined       free\n");
	for (int c = 0; c < MP_NUM_CLASSES; c++) {
		const struct mp_class_stats *s = &st->cls[c];
		_mp_report_prefix(&o);
		_mp_out_printf(&o, "  %6zu %10zu %10zu %12zu %10zu\n", s->size,
			       s->total, s->in_use, s->quarantined, s->free);
	}
	_mp_report_prefix(&o);
	_mp_out_printf(&o, "  large blocks: %zu (%zu bytes)\n", st->large_blocks,
		       st->large_bytes);
	_mp_report_prefix(&o);
	_mp_out_printf(&o, "  in use: %zu bytes, peak %zu bytes; %zu allocations, "
		       "%zu frees, %zu errors, %zu stacks (%zu bytes)\n",
		       st->bytes_in_use, st->peak_bytes, st->allocs, st->frees,
		       st->errors, st->stacks, _mp_depot_bytes());
	_mp_report_end(&o);
}

void _mp_report_abort_note(void)
{
	struct mp_out o;
	_mp_report_begin(&o);
	_mp_report_prefix(&o);
	_mp_out_str(&o, "mpwrap: abort_on_error=1: aborting (SIGABRT) after the "
			"error reported above\n");
	_mp_report_end(&o);
}

/* ---- the program dies of a signal --------------------------------------- */

/* The fatal signals by name; the others as options.c names them. */
static const char *signame(int sig, char *buf, size_t cap)
{
	switch (sig) {
	case SIGSEGV: return "SIGSEGV";
	case SIGBUS: return "SIGBUS";
	case SIGFPE: return "SIGFPE";
	case SIGILL: return "SIGILL";
	case SIGABRT: return "SIGABRT";
	case SIGPIPE: return "SIGPIPE";
	case SIGXCPU: return "SIGXCPU";
	case SIGXFSZ: return "SIGXFSZ";
	case SIGIO: return "SIGIO";
	case SIGSYS: return "SIGSYS";
	case SIGSTKFLT: return "SIGSTKFLT";
	default:
		if (sig > SIGRTMIN && sig <= SIGRTMAX) {
			_mp_snprintf(buf, cap, "SIGRTMIN+%d", sig - SIGRTMIN);
			return buf;
		}
		if (sig == SIGRTMIN)
			return "SIGRTMIN";
		return _mp_options_signal_name(sig, buf, cap);
	}
}

void _mp_report_dying(int sig, const void *fault_addr, int sender, int in_pool,
		      uint32_t raised_at)
{
	struct mp_out o;
	char name[32];
	_mp_report_begin(&o);
	_mp_report_prefix(&o);
	_mp_out_printf(&o, "mpwrap: the program is dying of %s (%d)",
		       signame(sig, name, sizeof name), sig);
	if (fault_addr)
		_mp_out_printf(&o, " at address %p", fault_addr);
	else if (sender)
		_mp_out_printf(&o, " sent by pid %d", sender);
	/* in_pool 2: the signal came inside a report of this thread's */
	_mp_out_str(&o, in_pool == 2   ? "; inside the checker's own report, leak scan skipped\n"
			: in_pool ? "; inside the allocator, leak scan skipped\n"
				  : "\n");
	_mp_report_end(&o);
	if (raised_at) {
		_mp_report_begin(&o);
		_mp_report_prefix(&o);
		_mp_out_str(&o, "  signal raised at:\n");
		_mp_report_stack(&o, raised_at);
		_mp_report_end(&o);
	}
}

static const char *unchecked_reason;
static char unchecked_why[MP_PATH_MAX + 160];

void _mp_report_set_unchecked(const char *reason, const char *why)
{
	if (unchecked_reason)
		return;
	_mp_snprintf(unchecked_why, sizeof unchecked_why, "%s", why);
	unchecked_reason = reason;
}

const char *_mp_report_unchecked_reason(void)
{
	return unchecked_reason;
}

const char *_mp_report_unchecked_why(void)
{
	return unchecked_reason ? unchecked_why : NULL;
}

void _mp_report_unchecked(void)
{
	struct mp_out o;
	if (!unchecked_reason)
		return;
	_mp_report_begin(&o);
	_mp_report_prefix(&o);
	_mp_out_printf(&o, "mpwrap: %s: %s\n", unchecked_reason, unchecked_why);
	_mp_report_end(&o);
}

void _mp_report_lsan_off(void)
{
	struct mp_out o;
	_mp_report_begin(&o);
	_mp_report_prefix(&o);
	_mp_out_str(&o, "mpwrap: no leak check: the program's "
			"__lsan_is_turned_off() returned nonzero\n");
	_mp_report_end(&o);
}

void _mp_report_misuse(const char *what, const void *p)
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

void _mp_report_check_signal_taken(int sig)
{
	struct mp_out o;
	char name[32];
	_mp_report_begin(&o);
	_mp_report_prefix(&o);
	_mp_out_printf(&o, "mpwrap: warning: leak_check_signal=%s: the program "
		       "handles or ignores it; no leak checks on it\n",
		       _mp_options_signal_name(sig, name, sizeof name));
	_mp_report_end(&o);
}
