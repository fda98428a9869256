/* exit.c - the report at process exit: errors summary, leaks by kind and
 * stack, the JSON file, and the exit status override.
 *
 * Runs once per process from the preload destructor (a forked child runs its
 * own).  Leak kinds come from the reachability scan in leakscan.c.
 */
#define _GNU_SOURCE
#include "exit.h"
#include "deepstack.h"
#include "mempool.h"
#include "json.h"
#include "leaks.h"
#include "leakscan.h"
#include "loaderprobe.h"
#include "lsanhooks.h"
#include "options.h"
#include "passthru.h"
#include "pool.h"
#include "reent.h"
#include "sampled.h"
#include "samplescan.h"
#include "sampleslots.h"
#include "report.h"
#include "scopelog.h"
#include "stack.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

void _mp_exit_check_report(const struct mp_check_info *ci,
			   const struct mp_leak_set *ls)
{
	_mp_report_leaks(ls, ci);
	if (_mp_opt.json_path[0]) {
		struct mp_stats st;
		_mp_stats_read(&st, 1);
		_mp_json_write_check(ls, &st, ci);
	}
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

/* Set once this process aborts on purpose: the SIGABRT that follows is
 * ours, and the fatal-signal handler then only lets it kill the process. */
static atomic_int aborting;

int _mp_exit_aborting(void)
{
	return atomic_load(&aborting);
}

/* The pid whose normal exit report runs (a forked child has its own), and
 * the first termination signal that came meanwhile. */
static atomic_int exit_pid, term_sig;
static siginfo_t term_si;
static void (*term_die)(int, const siginfo_t *); /* longrun.c's */

void _mp_exit_on_term(void (*die)(int sig, const siginfo_t *si))
{
	term_die = die;
}

int _mp_exit_defer_term(int sig, const siginfo_t *si)
{
	if (atomic_load(&exit_pid) != (int)getpid())
		return 0;
	int none = 0;
	if (atomic_compare_exchange_strong(&term_sig, &none, -1)) {
		term_si = *si;
		atomic_store(&term_sig, sig);
	}
	return 1;
}

/* A termination signal came during the exit report, which is written now:
 * flush the program's stdio as exit() would have (it comes after the
 * destructors), then die of the signal as it asked. */
static void die_of_deferred(void)
{
	int sig = atomic_load(&term_sig);
	if (sig <= 0 || !term_die)
		return;
	_mp_report_dying(sig, NULL,
			 term_si.si_code <= 0 ? (int)term_si.si_pid : 0, 0, 0);
	_mp_enter();
	fflush(NULL);
	_mp_leave();
	term_die(sig, &term_si);
}

/* abort_on_error, after everything is written */
__attribute__((noreturn)) static void abort_now(void)
{
	atomic_store(&aborting, 1);
	_mp_report_abort_note();
	abort();
}

/* Pid of a process whose exit report is __lsan_do_leak_check's */
static atomic_int explicit_pid;

/* Sampled mode: no pool; the slots' guard damage, the sampled leaks
 * (samplescan.c, scaled by the rate), the summary, the JSON report and
 * the exit status. */
/* After every report is written (full and sampled mode alike): an error
 * found by the checks, with abort_on_error, aborts now (exitcode does not
 * apply); a deferred termination signal is died of; then exitcode when
 * something gates. */
static void report_end(int fatal, int me, int gating)
{
	if (fatal)
		return;
	if (atomic_load(&abort_pid) == me)
		abort_now();
	die_of_deferred();
	if (_mp_opt.exitcode && gating) {
		/* _exit skips stdio's own flush at exit: do it first */
		_mp_enter();
		fflush(NULL);
		_mp_leave();
		for (;;) /* the C library's _exit, not our shim of it */
			syscall(SYS_exit_group, (int)_mp_opt.exitcode);
	}
}

static void sampled_body(int fatal, int leaks)
{
	int me = (int)getpid();
	_mp_sampled_sweep(fatal);
	struct mp_leak_set ls = { .sample_rate = _mp_slots_rate() };
	int scan = _mp_opt.detect_leaks && leaks &&
		   (_mp_opt.leak_check_at_exit || atomic_load(&explicit_pid) == me);
	int have_leaks = 0;
	if (scan) {
		_mp_scan_gate_final();
		have_leaks = _mp_samplescan_collect(&ls) == 0;
	}
	if (fatal && !leaks && _mp_opt.detect_leaks) /* as report_body says */
		_mp_report_set_unchecked("no leak check",
					 "the program died inside the allocator, "
					 "whose locks it may hold");
	size_t errors = _mp_report_error_count();
	size_t gated = have_leaks ? gated_blocks(&ls) : 0, listed = 0;
	for (int k = 0; have_leaks && k < MP_K_NKINDS; k++)
		if (_mp_leak_kind_listed(k))
			listed += ls.blocks[k];
	if (_mp_opt.report_at_exit && listed)
		_mp_report_leaks(&ls, NULL);
	_mp_sampled_summary(errors, listed, have_leaks);
	if (_mp_opt.json_path[0]) {
		struct mp_stats st;
		memset(&st, 0, sizeof st);
		_mp_json_write(&ls, &st);
	}
	_mp_leaks_release(&ls);
	report_end(fatal, me, errors || gated);
}

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
	if (_mp_passthrough_sampled()) {
		sampled_body(fatal, leaks);
		return;
	}
	_mp_report_unwinder_note(); /* unwinder=2 counts, verbosity=2 statistics */
	if (!_mp_opt.report_at_exit && !_mp_opt.json_path[0])
		return;
	/* guards of blocks never freed, and writes into quarantined ones */
	if (leaks)
		_mp_check_all(0, "exit");
	struct mp_leak_set ls = { 0 };
	int have_leaks = 0;
	/* LeakSanitizer's leak_check_at_exit=0: only its explicit check scans
	 * (its flags are read where the hooks were asked before: with leaks) */
	if (leaks)
		_mp_lsan_options_load();
	int scan = _mp_opt.detect_leaks && leaks &&
		   (_mp_opt.leak_check_at_exit || atomic_load(&explicit_pid) == me);
	int off = scan && _mp_lsan_turned_off();
	if (off && _mp_opt.report_at_exit && _mp_opt.verbosity >= 1)
		_mp_report_lsan_off();
	if (scan && !off) {
		/* no leak check runs any more (the checker thread, an API call):
		 * this report is the last word */
		_mp_scan_gate_final();
		/* a forked child judges what it made (leakscan.h) */
		_mp_leakscan_classify_own();
		have_leaks = _mp_leaks_collect(&ls, 1 | MP_COLLECT_OWN) == 0;
		_mp_leakscan_heuristics(ls.heur_bytes, ls.heur_blocks);
		for (size_t i = 0; have_leaks && i < ls.n; i++)
			_mp_leakscan_keeper(ls.g[i].stack, ls.g[i].kind,
					    &ls.g[i].keeper);
		if (have_leaks)
			_mp_lsan_suppress(&ls);
	}
	if (fatal && !leaks && _mp_opt.detect_leaks)
		_mp_report_set_unchecked("no leak check",
					 "the program died inside the allocator, "
					 "whose locks it may hold");
	size_t errors = _mp_report_error_count();
	/* the scopes' lost blocks: reported already, not found by this scan,
	 * but leaks of this process all the same (exitcode, no "no leaks") */
	struct mp_scope_totals sc;
	_mp_scopelog_totals(&sc);
	size_t gated = (have_leaks ? gated_blocks(&ls) : 0) + sc.gated_blocks;
	size_t listed_blocks = have_leaks ? sc.blocks : 0;
	for (int k = 0; have_leaks && k < MP_K_NKINDS; k++)
		if (_mp_leak_kind_listed(k))
			listed_blocks += ls.blocks[k];
	int unchecked = _mp_report_unchecked_reason() != NULL;
	if (_mp_opt.report_at_exit) {
		/* never "no leaks, no errors" for what was not checked */
		if (unchecked && _mp_opt.verbosity >= 1)
			_mp_report_unchecked();
		if (!errors && !listed_blocks && _mp_opt.verbosity <= 1) {
			/* a clean process says so in one line (none at 0) */
			if (_mp_opt.verbosity == 1 && !unchecked)
				_mp_report_clean(&ls, scan || !leaks ? NULL
					: !_mp_opt.detect_leaks ? "detect_leaks=0"
					: "leak_check_at_exit=0");
		} else {
			if (have_leaks)
				_mp_report_leaks(&ls, NULL);
			_mp_report_error_summary(errors);
		}
	}
	/* a dying process may have crashed holding a class lock */
	struct mp_stats st;
	_mp_stats_read(&st, !fatal);
	if (_mp_opt.report_at_exit && _mp_opt.verbosity >= 2)
		_mp_report_stats(&st);
	if (_mp_opt.json_path[0])
		_mp_json_write(&ls, &st);
	_mp_leaks_release(&ls);
	report_end(fatal, me, errors || gated);
}

struct report_args {
	int fatal, leaks;
};

static void report_deep(void *a)
{
	const struct report_args *ra = a;
	report_body(ra->fatal, ra->leaks);
}

/* A program that used every descriptor its soft RLIMIT_NOFILE allows would
 * leave the report none for its JSON file or the symbolizer: the soft limit
 * goes up (as far as the hard one lets it, by a few) while the report runs
 * and back after.  *saved is what to restore; 0 when nothing changed. */
#define REPORT_FDS 32
static int raise_nofile(struct rlimit *saved)
{
	if (getrlimit(RLIMIT_NOFILE, saved) != 0 || saved->rlim_cur >= saved->rlim_max)
		return 0;
	struct rlimit more = *saved;
	more.rlim_cur = saved->rlim_max - saved->rlim_cur > REPORT_FDS
				? saved->rlim_cur + REPORT_FDS : saved->rlim_max;
	return setrlimit(RLIMIT_NOFILE, &more) == 0;
}

/* Sampled mode's exit with nothing to scan, sweep or write to a file of
 * its own (no sampled block live, no error, no JSON file, no log_path):
 * at most the summary line to our copy of stderr, which needs neither the
 * deep stack (a mapping, two context switches) nor more descriptors. */
static int sampled_shallow(int fatal)
{
	return !fatal && _mp_passthrough_sampled() && !_mp_slots_live() &&
	       !_mp_report_error_count() && !_mp_opt.json_path[0] &&
	       !_mp_opt.log_path[0];
}

static void report(int fatal, int leaks)
{
	/* nothing of this image's is ours to report (but sampled blocks) */
	if (_mp_passthrough() && !_mp_passthrough_sampled())
		return;
	int me = (int)getpid();
	int shallow = sampled_shallow(fatal);
	struct rlimit nofile;
	int raised = !shallow && raise_nofile(&nofile);
	int outer = atomic_exchange(&busy_pid, me) != me;
	if (!fatal)
		atomic_store(&exit_pid, me);
	/* the leak scan, the symbolizer and the JSON writer need more stack
	 * than a small thread or a handler's sigaltstack has (exit(6) from a
	 * 32 KiB thread died of SIGSEGV) */
	struct report_args ra = { fatal, leaks };
	if (shallow)
		report_deep(&ra);
	else
		_mp_deep_call(report_deep, &ra);
	if (!fatal) {
		atomic_store(&exit_pid, 0);
		die_of_deferred(); /* the report returned early */
	}
	if (outer && !fatal) /* a fatal report's process is dying */
		atomic_store(&busy_pid, 0);
	if (raised)
		setrlimit(RLIMIT_NOFILE, &nofile);
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
	abort_now();
}

/* abort_on_error goes through the exit report (report.c calls it): from
 * the library's start, so every error after it finds it. */
__attribute__((constructor)) static void register_abort_hook(void)
{
	_mp_report_on_abort(_mp_abort_after_error);
}

void _mp_exit_report(void)
{
	report(0, 1);
}

void _mp_exit_report_lsan(void)
{
	atomic_store(&explicit_pid, (int)getpid());
	report(0, 1);
}

void _mp_fatal_report(int leaks)
{
	report(1, leaks);
}
