/* exit.c - the report at process exit: errors summary, leaks by kind and
 * stack, the JSON file, and the exit status override.
 *
 * Runs once per process from the preload destructor (a forked child runs its
 * own).  Leak kinds come from the reachability scan in leakscan.c.
 */
#define _GNU_SOURCE
#include "exit.h"
#include "json.h"
#include "longrun.h"
#include "leaks.h"
#include "leakscan.h"
#include "loaderprobe.h"
#include "lsan.h"
#include "options.h"
#include "pool.h"
#include "reent.h"
#include "report.h"
#include "signals.h"
#include "stack.h"

#include <stdatomic.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *const headings[MP_K_NKINDS] = {
	"definitely lost", "indirectly lost", "possibly lost", "still reachable"
};

static int listed(int kind)
{
	return kind != MP_K_REACHABLE || _mp_opt.show_reachable;
}

/* As memcheck words it: which reachable blocks only a heuristic kept. */
static void print_heuristics(struct mp_out *o, const struct mp_leak_set *ls)
{
	int any = 0;
	for (int k = 0; k < MP_LEAK_HEURS; k++) {
		if (!ls->heur_blocks[k])
			continue;
		if (!any++) {
			_mp_report_prefix(o);
			_mp_out_str(o, "    of which reachable via heuristic:\n");
		}
		_mp_report_prefix(o);
		_mp_out_printf(o, "      %-20s %zu bytes in %zu block%s\n",
			       _mp_options_heuristic_name(k), ls->heur_bytes[k],
			       ls->heur_blocks[k], ls->heur_blocks[k] == 1 ? "" : "s");
	}
}

/* A check while the program runs: the sites that keep growing, after the
 * leaks, each with its stack (the cache that is never trimmed). */
static void print_growth(struct mp_out *o, const struct mp_check_info *ci)
{
	for (size_t i = 0; i < ci->ngrow; i++) {
		const struct mp_growth *g = &ci->grow[i];
		_mp_report_prefix(o);
		_mp_out_printf(o, "growing: %zu bytes in %zu block%s still reachable, "
			       "up at each of the last %u checks (%zu bytes at "
			       "check #%lu), allocated from:\n", g->bytes, g->blocks,
			       g->blocks == 1 ? "" : "s", g->checks, g->from,
			       g->since);
		_mp_report_stack(o, g->stack);
		_mp_report_prefix(o);
		_mp_out_str(o, "\n");
	}
	if (ci->grow_total > ci->ngrow) {
		_mp_report_prefix(o);
		_mp_out_printf(o, "... and %zu more growing sites not listed\n\n",
			       ci->grow_total - ci->ngrow);
	}
}

static void print_leaks(const struct mp_leak_set *ls,
			const struct mp_check_info *ci)
{
	struct mp_out o;
	size_t shown = 0, more = 0, more_bytes = 0, more_blocks = 0;
	_mp_report_begin(&o);
	if (ci) {
		_mp_report_prefix(&o);
		_mp_out_printf(&o, "mpwrap: leak check #%lu (%s)", ci->seq,
			       ci->trigger);
		if (ci->mode_new && ci->seq > 1)
			_mp_out_printf(&o, ": lost blocks allocated since check #%lu",
				       ci->seq - 1);
		else if (ci->mode_new)
			_mp_out_str(&o, ": lost blocks allocated since the start");
		_mp_out_str(&o, "\n");
	}
	for (size_t i = 0; i < ls->n; i++) {
		const struct mp_leak_group *g = &ls->g[i];
		if (!listed(g->kind))
			continue;
		/* groups are sorted largest first within a kind: past the cap,
		 * count what is left (a million distinct stacks would take
		 * seconds to print and nobody would read them) */
		if (_mp_opt.max_leak_groups &&
		    shown++ >= (size_t)_mp_opt.max_leak_groups) {
			more++;
			more_bytes += g->bytes;
			more_blocks += g->blocks;
			continue;
		}
		_mp_report_prefix(&o);
		_mp_out_printf(&o, "%zu bytes in %zu block%s %s %s, allocated from:\n",
			       g->bytes, g->blocks, g->blocks == 1 ? "" : "s",
			       g->blocks == 1 ? "is" : "are", headings[g->kind]);
		_mp_report_stack(&o, g->stack);
		_mp_report_keeper(&o, &g->keeper, g->kind);
		_mp_report_prefix(&o);
		_mp_out_str(&o, "\n");
	}
	if (more) {
		_mp_report_prefix(&o);
		_mp_out_printf(&o, "... and %zu more leak groups (%zu bytes in %zu "
			       "blocks) not listed: max_leak_groups=0 lists all, "
			       "the JSON report has every one\n\n", more, more_bytes,
			       more_blocks);
	}
	if (ci)
		print_growth(&o, ci);
	_mp_report_prefix(&o);
	if (ci)
		_mp_out_printf(&o, "LEAK SUMMARY (leak check #%lu%s):\n", ci->seq,
			       ci->mode_new ? ", new lost blocks only" : "");
	else
		_mp_out_str(&o, "LEAK SUMMARY:\n");
	for (int k = 0; k < MP_K_NKINDS; k++) {
		_mp_report_prefix(&o);
		_mp_out_printf(&o, "  %-16s %zu bytes in %zu block%s%s\n",
			       headings[k], ls->bytes[k], ls->blocks[k],
			       ls->blocks[k] == 1 ? "" : "s",
			       k == MP_K_REACHABLE && ls->blocks[k] &&
					       !_mp_opt.show_reachable
				       ? " (show_reachable=1 lists them)" : "");
	}
	if (ls->supp_blocks) {
		_mp_report_prefix(&o);
		_mp_out_printf(&o, "  %-16s %zu bytes in %zu block%s (the program's "
			       "__lsan_default_suppressions)\n", "suppressed",
			       ls->supp_bytes, ls->supp_blocks,
			       ls->supp_blocks == 1 ? "" : "s");
	}
	if (ci && ci->grow_total) {
		size_t gb = 0;
		for (size_t i = 0; i < ci->ngrow; i++)
			gb += ci->grow[i].bytes;
		_mp_report_prefix(&o);
		_mp_out_printf(&o, "  %-16s %zu bytes at %zu site%s (not counted as leaks)\n",
			       "growing", gb, ci->grow_total,
			       ci->grow_total == 1 ? "" : "s");
	}
	print_heuristics(&o, ls);
	if (ci) {
		_mp_report_prefix(&o);
		_mp_out_printf(&o, "mpwrap: end of leak check #%lu: %zu error%s so "
			       "far; the program continues\n", ci->seq,
			       _mp_report_error_count(),
			       _mp_report_error_count() == 1 ? "" : "s");
	}
	_mp_report_end(&o);
}

void _mp_exit_check_report(const struct mp_check_info *ci,
			   const struct mp_leak_set *ls)
{
	print_leaks(ls, ci);
	if (_mp_opt.json_path[0])
		_mp_json_write_check(ls, ci);
}

static size_t gated_blocks(const struct mp_leak_set *ls)
{
	size_t n = 0;
	for (int k = 0; k < MP_K_NKINDS; k++)
		if (_mp_opt.leak_kinds & (1L << k))
			n += ls->blocks[k];
	return n;
}

/* Pids (a forked child reports for itself): the exit report runs now, or
 * a fatal signal is being reported; abort_on_error met an error then. */
static atomic_int busy_pid, abort_pid;

static void report_body(int fatal, int leaks)
{
	static atomic_int done_pid;
	int me = (int)getpid();
	if (atomic_exchange(&done_pid, me) == me || _mp_ensure_init() != 0)
		return;
	/* a child forked while another thread was inside dlopen: every step
	 * below needs the loader, whose locks that thread took with it */
	if (!_mp_loader_ok()) {
		_mp_report_loader_stuck();
		return;
	}
	_mp_stack_exit_note(); /* unwinder=2 counts, verbosity=2 statistics */
	if (!_mp_opt.report_at_exit && !_mp_opt.json_path[0])
		return;
	/* guards of blocks never freed, and writes into quarantined ones */
	if (leaks)
		_mp_check_all(0, "exit");
	struct mp_leak_set ls = { 0 };
	int have_leaks = 0;
	int off = _mp_opt.detect_leaks && leaks && _mp_lsan_turned_off();
	if (off && _mp_opt.report_at_exit && _mp_opt.verbosity >= 1) {
		struct mp_out o;
		_mp_report_begin(&o);
		_mp_report_prefix(&o);
		_mp_out_str(&o, "mpwrap: no leak check: the program's "
				"__lsan_is_turned_off() returned nonzero\n");
		_mp_report_end(&o);
	}
	if (_mp_opt.detect_leaks && leaks && !off) {
		/* no leak check runs any more (the checker thread, an API call):
		 * this report is the last word */
		_mp_longrun_exiting();
		_mp_leakscan_classify();
		have_leaks = _mp_leaks_collect(&ls, 1) == 0;
		_mp_leakscan_heuristics(ls.heur_bytes, ls.heur_blocks);
		for (size_t i = 0; have_leaks && i < ls.n; i++)
			_mp_leakscan_keeper(ls.g[i].stack, ls.g[i].kind,
					    &ls.g[i].keeper);
		if (have_leaks)
			_mp_lsan_suppress(&ls);
	}
	size_t errors = _mp_report_error_count();
	size_t gated = have_leaks ? gated_blocks(&ls) : 0;
	size_t listed_blocks = 0;
	for (int k = 0; have_leaks && k < MP_K_NKINDS; k++)
		if (listed(k))
			listed_blocks += ls.blocks[k];
	if (_mp_opt.report_at_exit) {
		struct mp_out o;
		if (!errors && !listed_blocks && _mp_opt.verbosity <= 1) {
			/* a clean process says so in one line (none at 0) */
			if (_mp_opt.verbosity == 1) {
				_mp_report_begin(&o);
				_mp_report_prefix(&o);
				size_t nb = ls.blocks[MP_K_REACHABLE];
				_mp_out_printf(&o, "mpwrap: no leaks, no errors "
					       "(%zu bytes in %zu block%s still reachable)\n",
					       ls.bytes[MP_K_REACHABLE], nb,
					       nb == 1 ? "" : "s");
				_mp_report_end(&o);
			}
		} else {
			if (have_leaks)
				print_leaks(&ls, NULL);
			_mp_report_begin(&o);
			_mp_report_prefix(&o);
			_mp_out_printf(&o, "ERROR SUMMARY: %zu error%s%s\n", errors,
				       errors == 1 ? "" : "s",
				       errors ? " (reported above)" : "");
			_mp_report_end(&o);
		}
		if (_mp_opt.verbosity >= 2)
			mp_dump_stats();
	}
	if (_mp_opt.json_path[0])
		_mp_json_write(&ls);
	_mp_leaks_release(&ls);
	/* an error found by the checks above, with abort_on_error: now that
	 * everything is written, abort (exitcode does not apply) */
	if (!fatal && atomic_load(&abort_pid) == me)
		_mp_signals_abort();
	if (!fatal && _mp_opt.exitcode && (errors || gated)) {
		/* _exit skips stdio's own flush at exit: do it first */
		_mp_enter();
		fflush(NULL);
		_mp_leave();
		for (;;) /* the C library's _exit, not our shim of it */
			syscall(SYS_exit_group, (int)_mp_opt.exitcode);
	}
}

static void report(int fatal, int leaks)
{
	int me = (int)getpid();
	int outer = atomic_exchange(&busy_pid, me) != me;
	report_body(fatal, leaks);
	if (outer && !fatal) /* a fatal report's process is dying */
		atomic_store(&busy_pid, 0);
}

void _mp_exit_dying(void)
{
	atomic_store(&busy_pid, (int)getpid());
}

void _mp_abort_after_error(void)
{
	if (atomic_load(&busy_pid) == (int)getpid()) {
		/* inside the exit report (it aborts when it has written
		 * everything) or a fatal signal's (the process dies of it) */
		atomic_store(&abort_pid, (int)getpid());
		return;
	}
	/* Write what abort() would lose: the error summary, the leak report,
	 * the JSON file (nothing when the exit report ran already).  No pool
	 * lock is held while an error is reported (report.h), so the scan may
	 * run although this thread is inside malloc or free. */
	_mp_tls.in_pool = 0;
	report(1, 1);
	_mp_signals_abort();
}

void _mp_exit_report(void)
{
	report(0, 1);
}

void _mp_fatal_report(int leaks)
{
	report(1, leaks);
}
