/* leakreport.c - the words of the leak report at exit: each leak group
 * with its stack and what kept it, the LEAK SUMMARY in memcheck's terms,
 * the one line of a clean process, the ERROR SUMMARY, and what kept a
 * reachable or possibly lost group.  The scan that classifies the blocks
 * is leak/leakscan.c; the control flow, exit.c. */
#include "report.h"
#include "leaks.h"
#include "loaderprobe.h"
#include "options.h"
#include "reent.h"
#include "scopelog.h"

#include <unistd.h>

static const char *const headings[MP_K_NKINDS] = {
	"definitely lost", "indirectly lost", "possibly lost", "still reachable"
};

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

void _mp_report_leaks(const struct mp_leak_set *ls,
		      const struct mp_check_info *ci)
{
	struct mp_out o;
	size_t shown = 0, more = 0, more_bytes = 0, more_blocks = 0;
	_mp_report_begin(&o);
	if (ci) {
		_mp_report_prefix(&o);
		if (ci->scope) {
			_mp_out_str(&o, "mpwrap: leaks in scope '");
			_mp_out_safe_str(&o, ci->scope);
			_mp_out_printf(&o, "' (leak check #%lu, %s): lost blocks "
				       "allocated since mp_scope_begin", ci->seq,
				       ci->trigger);
		} else {
			_mp_out_printf(&o, "mpwrap: leak check #%lu (%s)", ci->seq,
				       ci->trigger);
		}
		if (ci->scope)
			;
		else if (ci->mode_new && ci->seq > 1)
			_mp_out_printf(&o, ": lost blocks allocated since check #%lu",
				       ci->seq - 1);
		else if (ci->mode_new)
			_mp_out_str(&o, ": lost blocks allocated since the start");
		_mp_out_str(&o, "\n");
	}
	for (size_t i = 0; i < ls->n; i++) {
		const struct mp_leak_group *g = &ls->g[i];
		if (!_mp_leak_kind_listed(g->kind))
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
		if (ls->sample_rate) /* sampled mode: the samples, scaled */
			_mp_out_printf(&o, "%zu bytes in %zu sampled block%s %s %s: "
				       "~%zu bytes %sat this site, from %zu sample%s "
				       "(sample_rate=%lu), allocated from:\n",
				       g->bytes, g->blocks, g->blocks == 1 ? "" : "s",
				       g->blocks == 1 ? "is" : "are", headings[g->kind],
				       g->bytes * ls->sample_rate,
				       g->kind == MP_K_REACHABLE ? "" : "lost ",
				       g->blocks, g->blocks == 1 ? "" : "s",
				       ls->sample_rate);
		else
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
	if (ci && ci->scope) {
		_mp_out_str(&o, "LEAK SUMMARY (scope '");
		_mp_out_safe_str(&o, ci->scope);
		_mp_out_printf(&o, "', leak check #%lu):\n", ci->seq);
	} else if (ci)
		_mp_out_printf(&o, "LEAK SUMMARY (leak check #%lu%s):\n", ci->seq,
			       ci->mode_new ? ", new lost blocks only" : "");
	else if (ls->sample_rate)
		_mp_out_printf(&o, "LEAK SUMMARY (sampled blocks, one allocation in "
			       "%lu; estimates x%lu):\n", ls->sample_rate,
			       ls->sample_rate);
	else
		_mp_out_str(&o, "LEAK SUMMARY:\n");
	for (int k = 0; k < MP_K_NKINDS; k++) {
		_mp_report_prefix(&o);
		_mp_out_printf(&o, "  %-16s %zu bytes in %zu block%s", headings[k],
			       ls->bytes[k], ls->blocks[k],
			       ls->blocks[k] == 1 ? "" : "s");
		if (ls->sample_rate && ls->blocks[k])
			_mp_out_printf(&o, " (~%zu bytes in ~%zu blocks)",
				       ls->bytes[k] * ls->sample_rate,
				       ls->blocks[k] * ls->sample_rate);
		_mp_out_printf(&o, "%s\n",
			       k == MP_K_REACHABLE && ls->blocks[k] &&
					       !_mp_opt.show_reachable
				       ? " (show_reachable=1 lists them)" : "");
	}
	struct mp_scope_totals sc;
	_mp_scopelog_totals(&sc);
	if (!ci && sc.blocks) {
		_mp_report_prefix(&o);
		_mp_out_printf(&o, "  %-16s %zu bytes in %zu block%s (lost in %zu "
			       "scope%s, reported by mp_scope_end above)\n",
			       "in scopes", sc.bytes, sc.blocks,
			       sc.blocks == 1 ? "" : "s", sc.scopes,
			       sc.scopes == 1 ? "" : "s");
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

void _mp_report_clean(const struct mp_leak_set *ls, const char *unscanned)
{
	struct mp_out o;
	size_t nb = ls->blocks[MP_K_REACHABLE];
	_mp_report_begin(&o);
	_mp_report_prefix(&o);
	if (unscanned) { /* no leak check ran: claim nothing about leaks */
		_mp_out_printf(&o, "mpwrap: no errors (no leak check: %s)\n",
			       unscanned);
		_mp_report_end(&o);
		return;
	}
	_mp_out_printf(&o, "mpwrap: no leaks, no errors "
		       "(%zu bytes in %zu block%s still reachable)\n",
		       ls->bytes[MP_K_REACHABLE], nb, nb == 1 ? "" : "s");
	_mp_report_end(&o);
}

void _mp_report_error_summary(size_t errors)
{
	struct mp_out o;
	_mp_report_begin(&o);
	_mp_report_prefix(&o);
	_mp_out_printf(&o, "ERROR SUMMARY: %zu error%s%s\n", errors,
		       errors == 1 ? "" : "s", errors ? " (reported above)" : "");
	_mp_report_end(&o);
}

/* ---- what kept a reachable or possibly lost block ---------------------- */

static const char *const root_names[MP_ROOT_NKINDS] = {
	[MP_ROOT_NONE] = "unknown",
	[MP_ROOT_GLOBAL] = "global",
	[MP_ROOT_STACK] = "stack",
	[MP_ROOT_REGISTER] = "register",
	[MP_ROOT_TLS] = "thread-local storage",
	[MP_ROOT_ANON] = "anonymous memory",
	[MP_ROOT_THREAD_ARG] = "thread argument",
	[MP_ROOT_LDSO] = "dynamic linker",
	[MP_ROOT_LIBC] = "C library",
	[MP_ROOT_POSSIBLE] = "possibly lost block",
	[MP_ROOT_IGNORED] = "ignored block",
	[MP_ROOT_REGION] = "root region",
	[MP_ROOT_INHERITED] = "inherited block",
};

/* the roots that need no more than a phrase */
static const char *const root_phrases[MP_ROOT_NKINDS] = {
	[MP_ROOT_NONE] = "an unknown root",
	[MP_ROOT_ANON] = "the program's anonymous memory",
	[MP_ROOT_THREAD_ARG] = "the argument of a thread not started yet",
	[MP_ROOT_LDSO] = "the dynamic linker (glibc's own TLS data)",
	[MP_ROOT_LIBC] = "the C library's data made for the program",
	[MP_ROOT_IGNORED] = "a block ignored by __lsan_ignore_object or "
			    "__lsan_disable",
	[MP_ROOT_REGION] = "a root region (__lsan_register_root_region)",
	[MP_ROOT_INHERITED] = "a block this forked process inherited from its "
			      "parent",
};

/* x86-64 mcontext gregs order */
static const char *const reg_names[] = {
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rdi", "rsi",
	"rbp", "rbx", "rdx", "rax", "rcx", "rsp", "rip", "eflags", "csgsfs",
	"err", "trapno", "oldmask", "cr2",
};

void _mp_report_keeper_facts(const struct mp_keeper *k,
			     struct mp_keeper_facts *f)
{
	f->root = k->kind < MP_ROOT_NKINDS ? root_names[k->kind] : "unknown";
	f->reg = k->kind == MP_ROOT_REGISTER && k->reg >= 0 &&
				 (size_t)k->reg < sizeof reg_names / sizeof reg_names[0]
			 ? reg_names[k->reg] : NULL;
	f->main_thread = k->tid && k->tid == (int)getpid();
	f->sym.function[0] = f->sym.module[0] = f->sym.file[0] = '\0';
	if (k->kind == MP_ROOT_GLOBAL && k->where && !_mp_tls.raw_stacks &&
	    _mp_loader_ok()) {
		_mp_enter(); /* the symbolizer allocates; it looks up pc - 1 */
		_mp_symbolize(k->where + 1, &f->sym);
		_mp_leave();
	}
}

void _mp_report_keeper(struct mp_out *o, const struct mp_keeper *k, int kind)
{
	struct mp_keeper_facts f;
	if (k->kind == MP_ROOT_NONE)
		return;
	_mp_report_prefix(o);
	_mp_report_keeper_facts(k, &f);
	if (k->kind == MP_ROOT_POSSIBLE) {
		_mp_out_str(o, "  reached only from another possibly lost block\n");
		return;
	}
	_mp_out_str(o, kind == MP_K_POSSIBLE ? "  reached only through an interior pointer, "
					      : "  kept reachable ");
	_mp_out_str(o, k->direct ? "by " : "through other blocks from ");
	switch (k->kind) {
	case MP_ROOT_GLOBAL:
		_mp_out_str(o, "the global ");
		_mp_out_safe_str(o, f.sym.function[0] ? f.sym.function : "??");
		if (f.sym.module[0]) {
			_mp_out_str(o, " in ");
			_mp_out_safe_str(o, _mp_base_name(f.sym.module));
		}
		break;
	case MP_ROOT_STACK:
	case MP_ROOT_TLS:
		_mp_out_printf(o, "the %s of thread %d%s", f.root, (int)k->tid,
			       f.main_thread ? " (main)" : "");
		break;
	case MP_ROOT_REGISTER:
		_mp_out_printf(o, "register %s of thread %d%s",
			       f.reg ? f.reg : "?", (int)k->tid,
			       f.main_thread ? " (main)" : "");
		break;
	default:
		_mp_out_str(o, root_phrases[k->kind < MP_ROOT_NKINDS ? k->kind : 0]);
	}
	if (k->where && k->kind != MP_ROOT_REGISTER)
		_mp_out_printf(o, " (word at %p)", (void *)k->where);
	_mp_out_str(o, "\n");
}
