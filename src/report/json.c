/* json.c - the JSON report, version 1 (docs/json-report.md).
 *
 * Written at exit without malloc: the text goes through an mp_out buffer to
 * a temporary file (a fresh, unguessable name; jsonfile.c) renamed into place,
 * so a reader never sees half a report; only over nothing or over a regular
 * file of this user's.  Frames are symbolized here, as in the text report.
 */
#define _GNU_SOURCE
#include "json.h"
#include "sampleslots.h"
#include "scopelog.h"
#include "jsonfile.h"
#include "large.h"
#include "quarantine.h"
#include "leakscan.h"
#include "slab.h"
#include "loaderprobe.h"
#include "depot.h"
#include "gpsites.h"
#include "locate.h"
#include "options.h"
#include "reent.h"
#include "report.h"
#include "symbolize.h"
#include "testname.h"

#include <fcntl.h>
#include <stdlib.h> /* getenv */
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <sys/stat.h>

const char *_mp_command_line(void)
{
	static char cmd[4096];
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t n = 0, r;
	if (fd >= 0) {
		while (n < (ssize_t)sizeof cmd - 1 &&
		       (r = read(fd, cmd + n, sizeof cmd - 1 - (size_t)n)) > 0)
			n += r;
		close(fd);
	}
	while (n > 0 && cmd[n - 1] == '\0')
		n--;
	for (ssize_t i = 0; i < n; i++)
		if (cmd[i] == '\0')
			cmd[i] = ' ';
	cmd[n] = '\0';
	return cmd;
}

/* One frame of a stack, from the printer the text report uses too
 * (report.c: the same symbolization, the same frames). */
static void json_frame(void *ctx, unsigned i, uintptr_t pc,
		       const struct mp_symbol *s)
{
	struct mp_out *o = ctx;
	_mp_out_printf(o, "%s{\"pc\":\"%p\",\"function\":", i ? "," : "",
		       (void *)pc);
	_mp_out_json_str(o, s->function[0] ? s->function : NULL);
	_mp_out_str(o, ",\"file\":");
	_mp_out_json_str(o, s->file[0] ? s->file : NULL);
	if (s->line)
		_mp_out_printf(o, ",\"line\":%d", s->line);
	else
		_mp_out_str(o, ",\"line\":null");
	_mp_out_str(o, ",\"module\":");
	_mp_out_json_str(o, s->module[0] ? s->module : NULL);
	if (s->module[0])
		_mp_out_printf(o, ",\"offset\":\"0x%lx\"}", (unsigned long)s->offset);
	else
		_mp_out_str(o, ",\"offset\":null}");
}

/* The working directory the process started in (a rerun starts there). */
static char start_cwd[MP_PATH_MAX * 4];
/* /proc/self/cmdline or environ, read whole; a larger one is left out. */
#define PROC_LIST_MAX (256 * 1024)
static char proc_list[PROC_LIST_MAX];



/* A NUL-separated /proc/self file as a JSON list of strings; null when it
 * cannot be read whole. */
static void json_proc_list(struct mp_out *o, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = 0, r = 0;
	if (fd >= 0) {
		while (n < PROC_LIST_MAX &&
		       (r = read(fd, proc_list + n, PROC_LIST_MAX - (size_t)n)) > 0)
			n += r;
		close(fd);
	}
	if (fd < 0 || r < 0 || n >= PROC_LIST_MAX) {
		_mp_out_str(o, "null");
		return;
	}
	_mp_out_json_nul_list(o, proc_list, n);
}

/* How the process was started, for mpcheck --locate to run it again:
 * argv, the executable, the working directory it started in and, with
 * json_environ=1, its initial environment. */
static void json_process(struct mp_out *o)
{
	char exe[MP_PATH_MAX * 4];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	_mp_out_str(o, "\"argv\":");
	json_proc_list(o, "/proc/self/cmdline");
	_mp_out_str(o, ",\"executable\":");
	if (n > 0)
		_mp_out_json_bytes(o, exe, (size_t)n);
	else
		_mp_out_str(o, "null");
	_mp_out_str(o, ",\"cwd\":");
	if (start_cwd[0])
		_mp_out_json_bytes(o, start_cwd, strlen(start_cwd));
	else
		_mp_out_str(o, "null");
	_mp_testname_json(o);
	if (_mp_opt.json_environ) {
		_mp_out_str(o, ",\"environ\":");
		json_proc_list(o, "/proc/self/environ");
	}
	_mp_out_str(o, ",\n");
}

static void json_stack(struct mp_out *o, uint32_t id)
{
	_mp_out_str(o, "[");
	_mp_report_frames(id, json_frame, o);
	_mp_out_str(o, "]");
}

/* Kind-specific facts: the families of a mismatch, the size and
 * alignment a delete was given, the arguments of a bad call. */
static void json_error_facts(struct mp_out *o, const struct mp_verdict *v)
{
	const struct mp_block *b = &v->blk;
	int aligned = b->family == MP_FAM_NEW_ALIGNED ||
		      b->family == MP_FAM_NEW_ARRAY_ALIGNED;
	switch (v->kind) {
	case MP_E_ALLOC_DEALLOC_MISMATCH:
	case MP_E_NEW_DELETE_TYPE_MISMATCH:
		_mp_out_printf(o, "\"alloc_function\":\"%s\",\"dealloc_function\":"
			       "\"%s\",", _mp_family_name(b->family), v->where);
		if (v->kind == MP_E_ALLOC_DEALLOC_MISMATCH)
			break;
		if (aligned)
			_mp_out_printf(o, "\"alloc_alignment\":%zu,",
				       (size_t)1 << b->align_log);
		else
			_mp_out_str(o, "\"alloc_alignment\":null,");
		if (v->arg_sized)
			_mp_out_printf(o, "\"dealloc_size\":%zu,", v->arg);
		else
			_mp_out_str(o, "\"dealloc_size\":null,");
		if (v->arg2)
			_mp_out_printf(o, "\"dealloc_alignment\":%zu,", v->arg2);
		else
			_mp_out_str(o, "\"dealloc_alignment\":null,");
		break;
	case MP_E_INVALID_ALIGNMENT:
		_mp_out_printf(o, "\"arguments\":{\"alignment\":%zu,\"size\":%zu},",
			       v->arg, v->arg2);
		break;
	case MP_E_SIZE_TOO_BIG:
		_mp_out_printf(o, "\"arguments\":{\"size\":%zu},\"max_size\":%zu,",
			       v->arg, v->arg2);
		break;
	case MP_E_CALLOC_OVERFLOW:
	case MP_E_FISHY_VALUE:
		_mp_out_printf(o, "\"arguments\":{\"nmemb\":%zu,\"size\":%zu},",
			       v->arg, v->arg2);
		break;
	case MP_E_ALLOC_SIZE_ZERO:
		_mp_out_printf(o, "\"arguments\":{\"alignment\":%zu,\"size\":0},",
			       v->arg);
		break;
	default:
		break;
	}
}

static void json_errors(struct mp_out *o)
{
	const struct mp_verdict *log;
	size_t n = _mp_report_error_log(&log);
	_mp_out_str(o, "\"errors\":[");
	for (size_t i = 0; i < n; i++) {
		const struct mp_verdict *v = &log[i];
		_mp_out_printf(o, "%s\n{\"kind\":\"%s\",", i ? "," : "",
			       _mp_err_name(v->kind));
		if (v->addr)
			_mp_out_printf(o, "\"address\":\"%p\",", (void *)v->addr);
		else /* a bad call's arguments: no address involved */
			_mp_out_str(o, "\"address\":null,");
		char what[512];
		_mp_report_describe(v, what, sizeof what);
		_mp_out_str(o, "\"description\":");
		_mp_out_json_str(o, what);
		_mp_out_str(o, ",");
		json_error_facts(o, v);
		char site[MP_SITE_KEY_MAX];
		_mp_out_str(o, "\"guard_page_site\":");
		_mp_out_json_str(o, _mp_report_site(v, site, sizeof site) == 0
					    ? site : NULL);
		_mp_out_printf(o, ",\"access\":%s,", v->access == MP_ACCESS_WRITE
			       ? "\"write\"" : v->access == MP_ACCESS_READ
			       ? "\"read\"" : "null");
		if (v->loc[0]) {
			_mp_out_printf(o, "\"location\":{\"kind\":\"%s\",\"text\":",
				       _mp_loc_kind_name(v->loc_kind));
			_mp_out_json_str(o, v->loc);
			_mp_out_str(o, "},");
		} else {
			_mp_out_str(o, "\"location\":null,");
		}
		if (v->has_block)
			_mp_out_printf(o, "\"block_address\":\"%p\",\"block_size\":%zu,"
				       "\"offset\":%ld,", (void *)v->blk.user,
				       v->blk.size, v->offset);
		else
			_mp_out_str(o, "\"block_address\":null,\"block_size\":null,"
				       "\"offset\":null,");
		_mp_out_printf(o, "\"count\":%zu,\"function\":\"%s\",\"stack\":",
			       v->count, v->where);
		json_stack(o, v->access_stack);
		_mp_out_str(o, ",\"alloc_stack\":");
		json_stack(o, v->has_block ? v->blk.alloc_stack : 0);
		_mp_out_str(o, ",\"free_stack\":");
		int freed = v->has_block && (v->blk.state == MP_ST_QUAR ||
					     v->blk.state == MP_ST_FREED);
		json_stack(o, freed ? v->blk.free_stack : 0);
		_mp_out_str(o, "}");
	}
	_mp_out_str(o, "]");
}

/* "kept_by": what kept a reachable or possibly lost group (report.c has
 * the same facts in words). */
static void json_keeper(struct mp_out *o, const struct mp_keeper *k)
{
	struct mp_keeper_facts f;
	if (k->kind == MP_ROOT_NONE)
		return;
	_mp_report_keeper_facts(k, &f);
	_mp_out_str(o, ",\"kept_by\":{\"root\":");
	_mp_out_json_str(o, f.root);
	_mp_out_printf(o, ",\"direct\":%s,\"interior\":%s",
		       k->direct ? "true" : "false",
		       k->interior ? "true" : "false");
	if (k->tid)
		_mp_out_printf(o, ",\"thread\":%d,\"main_thread\":%s",
			       (int)k->tid, f.main_thread ? "true" : "false");
	if (f.reg) {
		_mp_out_str(o, ",\"register\":");
		_mp_out_json_str(o, f.reg);
	}
	if (k->where && k->kind != MP_ROOT_REGISTER)
		_mp_out_printf(o, ",\"address\":\"%p\"", (void *)k->where);
	if (f.sym.function[0]) {
		_mp_out_str(o, ",\"symbol\":");
		_mp_out_json_str(o, f.sym.function);
	}
	if (f.sym.module[0]) {
		_mp_out_str(o, ",\"module\":");
		_mp_out_json_str(o, f.sym.module);
	}
	_mp_out_str(o, "}");
}

/* The groups the text report lists, and those of the kinds leak_kinds
 * gates on: still-reachable groups (a shell's or an interpreter's hundreds)
 * only when asked for, since each costs a symbolized stack and nobody
 * gates on them; "summary" counts every kind. */
static int json_lists(int kind)
{
	return _mp_leak_kind_listed(kind) || (_mp_opt.leak_kinds & (1L << kind));
}

/* A scope's check (ci->scope): each leak's "test" is the scope.  The exit
 * report: the leaks scopes reported before, with theirs, after its own. */
static void json_leaks(struct mp_out *o, const struct mp_leak_set *ls,
		       const struct mp_check_info *ci)
{
	size_t shown = 0;
	_mp_out_str(o, "\"leaks\":[");
	for (size_t i = 0; i < ls->n; i++) {
		const struct mp_leak_group *g = &ls->g[i];
		if (!json_lists(g->kind))
			continue;
		_mp_out_printf(o, "%s\n{\"kind\":\"%s\",\"bytes\":%zu,\"blocks\":%zu,",
			       shown++ ? "," : "",
			       _mp_leak_kind_name(g->kind), g->bytes, g->blocks);
		if (ci && ci->scope) {
			_mp_out_str(o, "\"test\":");
			_mp_out_json_str(o, ci->scope);
			_mp_out_str(o, ",");
		}
		_mp_out_str(o, "\"stack\":");
		json_stack(o, g->stack);
		json_keeper(o, &g->keeper);
		if (ls->sample_rate) /* sampled mode: the site's estimate */
			_mp_out_printf(o, ",\"estimate\":{\"bytes\":%zu,\"blocks\":%zu,"
				       "\"samples\":%zu,\"sample_rate\":%lu}",
				       g->bytes * ls->sample_rate,
				       g->blocks * ls->sample_rate, g->blocks,
				       ls->sample_rate);
		_mp_out_str(o, "}");
	}
	if (!ci)
		_mp_scopelog_json(o, shown == 0, json_stack);
	_mp_out_str(o, "]");
}

static void json_summary_stats(struct mp_out *o, const struct mp_leak_set *ls,
			       const struct mp_stats *stp)
{
	_mp_out_str(o, ",\n\"summary\":{\"leaks\":{");
	for (int k = 0; k < MP_K_NKINDS; k++)
		_mp_out_printf(o, "%s\"%s\":{\"bytes\":%zu,\"blocks\":%zu}",
			       k ? "," : "", _mp_leak_kind_name(k), ls->bytes[k],
			       ls->blocks[k]);
	struct mp_scope_totals sc;
	_mp_scopelog_totals(&sc);
	_mp_out_printf(o, "},\"in_scopes\":{\"bytes\":%zu,\"blocks\":%zu,"
		       "\"scopes\":%zu}", sc.bytes, sc.blocks, sc.scopes);
	_mp_out_printf(o, ",\"suppressed_by_program\":{\"bytes\":%zu,\"blocks\":%zu",
		       ls->supp_bytes, ls->supp_blocks);
	_mp_out_str(o, "},\"reachable_via_heuristic\":{");
	for (int k = 0; k < MP_LEAK_HEURS; k++)
		_mp_out_printf(o, "%s\"%s\":{\"bytes\":%zu,\"blocks\":%zu}",
			       k ? "," : "", _mp_options_heuristic_name(k),
			       ls->heur_bytes[k], ls->heur_blocks[k]);
	_mp_out_printf(o, "},\"errors\":%zu},\n\"stats\":{\"classes\":[",
		       _mp_report_error_count());
	const struct mp_stats st = *stp;
	for (int c = 0; c < MP_NUM_CLASSES; c++)
		_mp_out_printf(o, "%s{\"size\":%zu,\"total\":%zu,\"in_use\":%zu,"
			       "\"quarantined\":%zu,\"free\":%zu}", c ? "," : "",
			       st.cls[c].size, st.cls[c].total, st.cls[c].in_use,
			       st.cls[c].quarantined, st.cls[c].free);
	size_t copied, in_place;
	_mp_large_realloc_counts(&copied, &in_place);
	size_t scanned, pages;
	_mp_leakscan_own_counts(&scanned, &pages);
	_mp_out_printf(o, "],\"large\":{\"blocks\":%zu,\"bytes\":%zu},"
		       "\"allocations\":%zu,\"frees\":%zu,\"peak_bytes\":%zu,"
		       "\"realloc\":{\"copied_bytes\":%zu,\"in_place\":%zu},"
		       "\"exit_check\":{\"quarantined_blocks\":%zu,"
		       "\"live_blocks\":%zu,\"leak_scan_blocks\":%zu,"
		       "\"inherited_pages\":%zu,\"fork_generation\":%u}}",
		       st.large_blocks, st.large_bytes, st.allocs, st.frees,
		       st.peak_bytes, copied, in_place,
		       _mp_quarantine_own_visited(), _mp_exit_live_checked,
		       scanned, pages, _mp_heap_gen);
}

/* "growing" and "check" of a leak check's report */
static void json_check(struct mp_out *o, const struct mp_check_info *ci)
{
	_mp_out_printf(o, "\"check\":{\"seq\":%lu,\"trigger\":", ci->seq);
	_mp_out_json_str(o, ci->trigger);
	_mp_out_printf(o, ",\"mode\":\"%s\"", ci->mode_new ? "new" : "all");
	if (ci->scope) {
		_mp_out_str(o, ",\"scope\":");
		_mp_out_json_str(o, ci->scope);
	}
	_mp_out_str(o, "},\n\"growing\":[");
	for (size_t i = 0; i < ci->ngrow; i++) {
		const struct mp_growth *g = &ci->grow[i];
		_mp_out_printf(o, "%s\n{\"bytes\":%zu,\"blocks\":%zu,\"from_bytes\":%zu,"
			       "\"since_check\":%lu,\"checks\":%u,\"stack\":",
			       i ? "," : "", g->bytes, g->blocks, g->from, g->since,
			       g->checks);
		json_stack(o, g->stack);
		_mp_out_str(o, "}");
	}
	_mp_out_str(o, "],\n");
}

static int json_write(const struct mp_leak_set *ls, const struct mp_stats *st,
		      const struct mp_check_info *ci)
{
	char path[MP_REPORT_PATH], beside[MP_REPORT_PATH + 32];
	char tmp[MP_REPORT_PATH + 64], buf[64];
	if (ci)
		_mp_json_check_path(path, sizeof path, ci->seq);
	else
		_mp_expand_path(path, sizeof path, _mp_opt.json_path);
	mode_t mode = 0600;
	const char *why, *target = path;
	enum target t = _mp_json_judge_target(path, &mode, &why, buf, sizeof buf);
	if (t == T_BESIDE) { /* a file not ours: never replaced */
		_mp_snprintf(beside, sizeof beside, "%s.mpwrap-%d.json", path,
			     (int)getpid());
		target = beside;
		t = _mp_json_judge_target(beside, &mode, &why, buf, sizeof buf);
		if (t == T_BESIDE)
			why = "it is not an mpwrap report";
		if (t == T_BESIDE || t == T_REFUSE)
			t = T_REFUSE;
	}
	if (t == T_REFUSE)
		goto refuse; /* said before the work, and no temporary left */
	int fd = _mp_json_open_tmp(target, tmp, sizeof tmp);
	if (fd < 0) {
		why = _mp_report_errno_text(errno, buf, sizeof buf);
		goto refuse;
	}
	if (t == T_REPLACE) /* readers of the report it replaces still can */
		fchmod(fd, mode);
	struct mp_out o;
	_mp_out_init(&o, fd);
	_mp_out_printf(&o, "{\"version\":1,\"tool\":\"mpwrap\",\"pid\":%d,"
		       "\"command\":", (int)getpid());
	_mp_out_json_str(&o, _mp_command_line());
	_mp_out_str(&o, ",");
	json_process(&o);
	if (_mp_report_unchecked_reason()) { /* mpcheck fails these */
		_mp_out_str(&o, "\"unchecked\":{\"reason\":");
		_mp_out_json_str(&o, _mp_report_unchecked_reason());
		_mp_out_str(&o, ",\"why\":");
		_mp_out_json_str(&o, _mp_report_unchecked_why());
		_mp_out_str(&o, "},\n");
	}
	if (ls->sample_rate) /* sampled mode: what the figures are samples of */
		_mp_out_printf(&o, "\"sampled\":{\"sample_rate\":%lu,\"slots\":%u,"
			       "\"sampled_allocations\":%lu},\n", ls->sample_rate,
			       _mp_slots_count(), _mp_slots_sampled());
	if (ci)
		json_check(&o, ci);
	json_errors(&o);
	_mp_out_str(&o, ",\n");
	json_leaks(&o, ls, ci);
	json_summary_stats(&o, ls, st);
	_mp_json_profile(&o, ls, json_stack);
	_mp_out_str(&o, "}\n");
	_mp_out_flush(&o);
	if (o.failed) /* EFBIG past `ulimit -f`, ENOSPC: said as such */
		why = _mp_report_errno_text(o.err, buf, sizeof buf);
	else if (close(fd) != 0)
		why = "the temporary file could not be written";
	else
		why = _mp_json_move_into_place(tmp, target, buf, sizeof buf);
	if (o.failed)
		close(fd);
	if (!why) {
		if (target == beside)
			_mp_json_notice("not replacing", path,
					"it is not an mpwrap report",
					"the JSON report is", beside);
		if (!ci)
			_mp_json_start_marker(0);
		return 0;
	}
	unlink(tmp);
refuse:
	_mp_json_notice("not writing the JSON report", target, why,
			"no JSON report", NULL);
	return -1;
}

int _mp_json_write(const struct mp_leak_set *ls, const struct mp_stats *st)
{
	return json_write(ls, st, NULL);
}

int _mp_json_write_check(const struct mp_leak_set *ls, const struct mp_stats *st,
			 const struct mp_check_info *ci)
{
	return json_write(ls, st, ci);
}

void _mp_json_start_marker(int make)
{
	if (make && !getcwd(start_cwd, sizeof start_cwd))
		start_cwd[0] = '\0';
	if (make)
		_mp_testname_find();
	_mp_json_marker(make);
}
