/* options.c - the option table and its parser.
 *
 * MPWRAP_OPTIONS holds `key=value` pairs separated by ':' or white space,
 * as ASAN_OPTIONS does.  Everything is parsed once, without malloc, into
 * _mp_opt; a bad key or value warns once and keeps the default, because the
 * library must never stop the host program over an option.
 */
#include "options.h"
#include "out.h"

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct mp_options _mp_opt;

enum opt_type { OPT_INT, OPT_PATH, OPT_KINDS, OPT_HEURS, OPT_SIDE, OPT_SIGNAL,
		OPT_MODE };

struct opt_def {
	const char *name;
	enum opt_type type;
	size_t off;
	long def, min, max;
	const char *help;
};

#define O(f) offsetof(struct mp_options, f)
static const struct opt_def table[] = {
	{ "stack_depth", OPT_INT, O(stack_depth), 10, 0, MP_MAX_DEPTH,
	  "frames recorded per allocation (0 disables stacks)" },
	{ "exitcode", OPT_INT, O(exitcode), 0, 0, 255,
	  "exit status when errors or gated leaks were found (0: keep the program's)" },
	{ "report_at_exit", OPT_INT, O(report_at_exit), 1, 0, 1,
	  "print errors summary and leak report when the program exits" },
	{ "detect_leaks", OPT_INT, O(detect_leaks), 1, 0, 1,
	  "look for leaks at exit" },
	{ "abort_on_error", OPT_INT, O(abort_on_error), 0, 0, 1,
	  "after the first error report, write the leak report and JSON, then abort()" },
	{ "quarantine_mb", OPT_INT, O(quarantine_mb), 64, 0, 65536,
	  "MiB of freed blocks held back from reuse (double free, use after free)" },
	{ "show_reachable", OPT_INT, O(show_reachable), 0, 0, 1,
	  "list still-reachable blocks with their stacks" },
	{ "leak_kinds", OPT_KINDS, O(leak_kinds),
	  MP_LEAK_DEFINITE | MP_LEAK_INDIRECT, 0, 0,
	  "leak kinds that count for exitcode: definite,indirect,possible,reachable,all" },
	{ "leak_heuristics", OPT_HEURS, O(leak_heuristics),
	  MP_HEUR_STDSTRING | MP_HEUR_LENGTH64 | MP_HEUR_NEWARRAY |
		  MP_HEUR_MULTIPLEINHERITANCE, 0, 0,
	  "interior pointers that keep a block reachable, as memcheck's: "
	  "stdstring,length64,newarray,multipleinheritance,all,none" },
	{ "max_leak_groups", OPT_INT, O(max_leak_groups), 1000, 0, 1000000000,
	  "leak groups listed with stacks in the text report (0: all; JSON has all)" },
	{ "check_every", OPT_INT, O(check_every), 0, 0, 1000000000,
	  "validate every guard and quarantined block every N allocator calls" },
	{ "guard_page_rate", OPT_INT, O(guard_page_rate), 0, 0, 1000000000,
	  "one allocation in N sits against an inaccessible page (0: off)" },
	{ "guard_page_side", OPT_SIDE, O(guard_page_under), 0, 0, 1,
	  "over: the page follows the block (overflows); under: it precedes it" },
	{ "unwinder", OPT_INT, O(unwinder), 1, 0, 2,
	  "1: fast walker with cached CFI rules (libunwind for what it declines); "
	  "0: libunwind only; 2: both, mismatches reported" },
	{ "alloc_dealloc_mismatch", OPT_INT, O(alloc_dealloc_mismatch), 1, 0, 1,
	  "report a block freed by another family (new[]/delete, new/free, ...)" },
	{ "new_delete_type_mismatch", OPT_INT, O(new_delete_type_mismatch), 1, 0, 1,
	  "report a sized or aligned delete whose size or alignment is not "
	  "the block's" },
	{ "max_allocation_size", OPT_INT, O(max_allocation_size), 0, 0,
	  PTRDIFF_MAX, "larger requests are reported and fail with ENOMEM "
	  "(0: only sizes above PTRDIFF_MAX)" },
	{ "realloc_size_zero", OPT_INT, O(realloc_size_zero), 0, 0, 1,
	  "report realloc(p, 0), which frees p and returns NULL" },
	{ "leak_check_signal", OPT_SIGNAL, O(leak_check_signal), 0, 0, 0,
	  "a signal (e.g. SIGUSR2) that runs a leak check while the program "
	  "keeps running, if the program has no handler of its own; default off" },
	{ "leak_check_interval", OPT_INT, O(leak_check_interval), 0, 0, 31536000,
	  "run a leak check every N seconds while the program runs (0: never)" },
	{ "leak_check_mode", OPT_MODE, O(leak_check_new), 0, 0, 1,
	  "all: each leak check reports every lost block; new: only those "
	  "allocated since the previous check" },
	{ "leak_check_growth", OPT_INT, O(leak_check_growth), 3, 0, 64,
	  "a site whose reachable bytes grew at each of the last N leak checks "
	  "is reported as growing (0: off)" },
	{ "verbosity", OPT_INT, O(verbosity), 1, 0, 2,
	  "0: errors and leaks only, 1: also statistics at exit, 2: chatty" },
	{ "log_path", OPT_PATH, O(log_path), 0, 0, 0,
	  "text report file (%p = pid), a regular file of the user's; default stderr" },
	{ "json_path", OPT_PATH, O(json_path), 0, 0, 0,
	  "JSON report file (%p = pid); default none" },
	{ "start_path", OPT_PATH, O(start_path), 0, 0, 0,
	  "empty file made when a process starts (%p = pid) and removed once its "
	  "JSON report is in place: what remains names processes that died "
	  "without one (mpcheck uses it); default none" },
};
#undef O

static void warn(int fd, const char *what, const char *key, size_t klen,
		 const char *val, size_t vlen)
{
	struct mp_out o;
	_mp_out_init(&o, fd);
	_mp_out_printf(&o, "mpwrap: warning: MPWRAP_OPTIONS: %s '%.*s", what,
		       (int)klen, key);
	if (val) {
		_mp_out_str(&o, "=");
		_mp_out_printf(&o, "%.*s", (int)vlen, val);
	}
	_mp_out_str(&o, "'; ignored\n");
	_mp_out_flush(&o);
}

static int parse_long(const char *s, size_t n, long *out)
{
	long v = 0;
	size_t i = 0;
	int neg = 0;
	if (n && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		i = 1;
	}
	/* 18 digits always fit a long (max_allocation_size needs more than 9) */
	if (i == n || n - i > 18)
		return -1;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = neg ? -v : v;
	return 0;
}

static int word_eq(const char *s, size_t n, const char *w)
{
	return strlen(w) == n && memcmp(s, w, n) == 0;
}

static const char *const kind_names[] = { "definite", "indirect", "possible",
					      "reachable" };
static const char *const heur_names[] = { "stdstring", "length64", "newarray",
					      "multipleinheritance" };

const char *_mp_options_heuristic_name(int k)
{
	return k >= 0 && k < MP_HEUR_N ? heur_names[k] : "unknown";
}

/* A comma-separated set of the 4 names (bit k for names[k]), "all" or
 * "none". */
static int parse_set(const char *s, size_t n, const char *const names[4],
		     long *out)
{
	long bits = 0;
	size_t i = 0;
	while (i < n) {
		size_t j = i;
		while (j < n && s[j] != ',')
			j++;
		if (word_eq(s + i, j - i, "all")) {
			bits |= 15;
		} else if (!word_eq(s + i, j - i, "none")) {
			int k;
			for (k = 0; k < 4; k++)
				if (word_eq(s + i, j - i, names[k]))
					break;
			if (k == 4)
				return -1;
			bits |= 1L << k;
		}
		i = j + 1;
	}
	*out = bits;
	return 0;
}

/* Signals a check may be asked with: the ones whose default action ends
 * the process and that programs send each other by hand. */
static const struct {
	const char *name;
	int sig;
} sig_names[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
	{ "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "ALRM", SIGALRM },
	{ "TERM", SIGTERM }, { "PROF", SIGPROF }, { "VTALRM", SIGVTALRM },
	{ "PWR", SIGPWR }, { "URG", SIGURG }, { "WINCH", SIGWINCH },
};

const char *_mp_options_signal_name(int sig, char *buf, size_t cap)
{
	for (size_t i = 0; i < sizeof sig_names / sizeof sig_names[0]; i++)
		if (sig_names[i].sig == sig) {
			_mp_snprintf(buf, cap, "SIG%s", sig_names[i].name);
			return buf;
		}
	_mp_snprintf(buf, cap, "signal %d", sig);
	return buf;
}

/* SIGUSR2, USR2, or a number (real-time signals, SIGRTMIN..SIGRTMAX, as
 * the kernel numbers them); "0" and "off" turn it off. */
static int parse_signal(const char *s, size_t n, long *out)
{
	long v;
	if (word_eq(s, n, "off") || word_eq(s, n, "0")) {
		*out = 0;
		return 0;
	}
	if (parse_long(s, n, &v) == 0) {
		if (v < 1 || v > SIGRTMAX || v == SIGKILL || v == SIGSTOP)
			return -1;
		*out = v;
		return 0;
	}
	if (n > 3 && memcmp(s, "SIG", 3) == 0) {
		s += 3;
		n -= 3;
	}
	for (size_t i = 0; i < sizeof sig_names / sizeof sig_names[0]; i++)
		if (word_eq(s, n, sig_names[i].name)) {
			*out = sig_names[i].sig;
			return 0;
		}
	return -1;
}

static void set_defaults(void)
{
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
		char *field = (char *)&_mp_opt + table[i].off;
		if (table[i].type == OPT_PATH)
			field[0] = '\0';
		else
			*(long *)field = table[i].def;
	}
}

static int apply(const char *key, size_t klen, const char *val, size_t vlen,
		 int fd)
{
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
		const struct opt_def *d = &table[i];
		if (!word_eq(key, klen, d->name))
			continue;
		char *field = (char *)&_mp_opt + d->off;
		long v;
		if (d->type == OPT_PATH) {
			if (vlen >= MP_PATH_MAX)
				break;
			memcpy(field, val, vlen);
			field[vlen] = '\0';
			return 0;
		}
		if (d->type == OPT_SIDE) {
			if (!word_eq(val, vlen, "over") && !word_eq(val, vlen, "under"))
				break;
			*(long *)field = word_eq(val, vlen, "under");
			return 0;
		}
		if (d->type == OPT_MODE) {
			if (!word_eq(val, vlen, "all") && !word_eq(val, vlen, "new"))
				break;
			*(long *)field = word_eq(val, vlen, "new");
			return 0;
		}
		if (d->type == OPT_SIGNAL) {
			if (parse_signal(val, vlen, &v) != 0)
				break;
			*(long *)field = v;
			return 0;
		}
		if (d->type == OPT_KINDS || d->type == OPT_HEURS
			    ? parse_set(val, vlen, d->type == OPT_KINDS ? kind_names
							: heur_names, &v) != 0
			    : parse_long(val, vlen, &v) != 0 || v < d->min ||
				      v > d->max)
			break;
		*(long *)field = v;
		return 0;
	}
	int known = 0;
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		known |= word_eq(key, klen, table[i].name);
	warn(fd, known ? "bad value" : "unknown option", key, klen,
	     known ? val : NULL, vlen);
	return 1;
}

int _mp_options_parse(const char *spec, int warn_fd)
{
	int warnings = 0;
	set_defaults();
	if (!spec)
		return 0;
	const char *p = spec;
	while (*p) {
		while (*p == ':' || *p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			break;
		const char *key = p;
		while (*p && *p != ':' && *p != ' ' && *p != '\t' && *p != '\n')
			p++;
		size_t len = (size_t)(p - key);
		const char *eq = memchr(key, '=', len);
		if (!eq) {
			warn(warn_fd, "expected key=value, got", key, len, NULL, 0);
			warnings++;
			continue;
		}
		warnings += apply(key, (size_t)(eq - key), eq + 1,
				  len - (size_t)(eq - key) - 1, warn_fd);
	}
	return warnings;
}

void _mp_options_help(int fd)
{
	struct mp_out o;
	_mp_out_init(&o, fd);
	_mp_out_str(&o, "MPWRAP_OPTIONS (key=value, separated by ':' or spaces):\n");
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
		const struct opt_def *d = &table[i];
		_mp_out_printf(&o, "  %-16s ", d->name);
		if (d->type == OPT_INT)
			_mp_out_printf(&o, "default %ld, range %ld..%ld: ", d->def,
				       d->min, d->max);
		else if (d->type == OPT_SIDE)
			_mp_out_str(&o, "default over: ");
		else if (d->type == OPT_MODE)
			_mp_out_str(&o, "default all: ");
		else if (d->type == OPT_SIGNAL)
			_mp_out_str(&o, "default off: ");
		else if (d->type == OPT_KINDS)
			_mp_out_str(&o, "default definite,indirect: ");
		else if (d->type == OPT_HEURS)
			_mp_out_str(&o, "default all: ");
		_mp_out_printf(&o, "%s\n", d->help);
	}
	_mp_out_flush(&o);
}
