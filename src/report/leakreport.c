/* leakreport.c - the words of the leak report at exit: each leak group
 * with its stack and what kept it, the LEAK SUMMARY in memcheck's terms,
 * the one line of a clean process, and the ERROR SUMMARY.  The scan that
 * classifies the blocks is leak/leakscan.c; the control flow, exit.c. */
#include "report.h"
#include "leaks.h"
#include "options.h"

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

void _mp_report_leaks(const struct mp_leak_set *ls)
{
	struct mp_out o;
	size_t shown = 0, more = 0, more_bytes = 0, more_blocks = 0;
	_mp_report_begin(&o);
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
	_mp_report_prefix(&o);
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
	print_heuristics(&o, ls);
	_mp_report_end(&o);
}

void _mp_report_clean(const struct mp_leak_set *ls)
{
	struct mp_out o;
	size_t nb = ls->blocks[MP_K_REACHABLE];
	_mp_report_begin(&o);
	_mp_report_prefix(&o);
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
