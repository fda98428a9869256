/* options.c - the option table and its parser.
 *
 * MPWRAP_OPTIONS holds `key=value` pairs separated by ':' or white space,
 * as ASAN_OPTIONS does.  Everything is parsed once, without malloc, into
 * _mp_opt; a bad key or value warns once and keeps the default, because the
 * library must never stop the host program over an option.
 */
#include "options.h"
#include "gpsites.h"
#include "out.h"

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct mp_options _mp_opt;

enum opt_type { OPT_INT, OPT_PATH, OPT_KINDS, OPT_HEURS, OPT_SIDE, OPT_SITES,
		OPT_SIGNAL, OPT_MODE };

struct opt_def {
	const char *name;
	enum opt_type type;
	size_t off;
	long def, min, max;
	const char *help;
};

#define MP_OPT_ROW(name, field, type, def, min, max, help) \
	{ #name, OPT_##type, offsetof(struct mp_options, field), def, min, max, help },
static const struct opt_def table[] = { MP_OPTION_LIST(MP_OPT_ROW) };
#undef MP_OPT_ROW

/* which option string is being parsed (for warnings), and which options
 * MPWRAP_OPTIONS gave: LeakSanitizer's option strings never override those */
static const char *src_name = "MPWRAP_OPTIONS";
static unsigned char given[sizeof table / sizeof table[0]];

static void warn(int fd, const char *what, const char *key, size_t klen,
		 const char *val, size_t vlen)
{
	struct mp_out o;
	_mp_out_init(&o, fd);
	_mp_out_printf(&o, "mpwrap: warning: %s: %s '%.*s", src_name, what,
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

const char *_mp_options_kind_name(int k)
{
	return k >= 0 && k < 4 ? kind_names[k] : "unknown";
}

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
	memset(given, 0, sizeof given);
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
		char *field = (char *)&_mp_opt + table[i].off;
		if (table[i].type == OPT_PATH)
			field[0] = '\0';
		else if (table[i].type == OPT_SITES)
			*(long *)field = _mp_gp_sites_parse("", 0);
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
		given[i] = 1;
		char *field = (char *)&_mp_opt + d->off;
		long v;
		if (d->type == OPT_PATH) {
			if (vlen >= MP_PATH_MAX)
				break;
			memcpy(field, val, vlen);
			field[vlen] = '\0';
			return 0;
		}
		if (d->type == OPT_SITES) {
			if (_mp_gp_sites_parse(val, vlen) != 0)
				break;
			*(long *)field = vlen > 0;
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
		if (d->type == OPT_INT && d->min == -1 &&
		    word_eq(val, vlen, "auto")) {
			*(long *)field = -1;
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

/* Warnings printed for one option string before the rest are only
 * counted: 10,000 bad keys must not become 10,000 lines of the program's
 * stderr. */
#define MAX_WARNINGS 8

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
		int fd = warnings < MAX_WARNINGS ? warn_fd : -1;
		if (!eq) {
			warn(fd, "expected key=value, got", key, len, NULL, 0);
			warnings++;
			continue;
		}
		warnings += apply(key, (size_t)(eq - key), eq + 1,
				  len - (size_t)(eq - key) - 1, fd);
	}
	if (warnings > MAX_WARNINGS && warn_fd >= 0) {
		struct mp_out o;
		_mp_out_init(&o, warn_fd);
		_mp_out_printf(&o, "mpwrap: warning: MPWRAP_OPTIONS: %d more "
			       "ignored (%d in all)\n",
			       warnings - MAX_WARNINGS, warnings);
		_mp_out_flush(&o);
	}
	return warnings;
}

const char *_mp_options_peek(const char *spec, const char *name, size_t *len)
{
	const char *found = NULL;
	size_t nlen = strlen(name);
	for (const char *p = spec; p && *p;) {
		while (*p == ':' || *p == ' ' || *p == '\t' || *p == '\n')
			p++;
		const char *key = p;
		while (*p && *p != ':' && *p != ' ' && *p != '\t' && *p != '\n')
			p++;
		size_t n = (size_t)(p - key);
		if (n > nlen && key[nlen] == '=' && memcmp(key, name, nlen) == 0) {
			found = key + nlen + 1;
			*len = n - nlen - 1;
		}
	}
	return found;
}

/* LeakSanitizer's keys we share; its booleans may say true/false */
static const char *const lsan_keys[] = { "use_stacks", "use_registers",
					 "use_globals", "use_tls",
					 "use_root_regions", "leak_check_at_exit",
					 "detect_leaks" };

int _mp_options_parse_lsan(const char *spec, int warn_fd, const char *src)
{
	int warnings = 0;
	unsigned char mine[sizeof given];
	memcpy(mine, given, sizeof mine); /* what MPWRAP_OPTIONS set */
	src_name = src;
	for (const char *p = spec; p && *p;) {
		/* LSan separates with ':', ',' or white space */
		while (*p == ':' || *p == ',' || *p == ' ' || *p == '\t' || *p == '\n')
			p++;
		const char *key = p;
		while (*p && *p != ':' && *p != ',' && *p != ' ' && *p != '\t' &&
		       *p != '\n')
			p++;
		size_t len = (size_t)(p - key);
		const char *eq = memchr(key, '=', len);
		if (!eq)
			continue;
		size_t klen = (size_t)(eq - key), vlen = len - klen - 1;
		const char *val = eq + 1;
		int ours = 0;
		for (size_t k = 0; k < sizeof lsan_keys / sizeof lsan_keys[0]; k++)
			ours |= word_eq(key, klen, lsan_keys[k]);
		for (size_t i = 0; ours && i < sizeof table / sizeof table[0]; i++)
			if (word_eq(key, klen, table[i].name) && mine[i])
				ours = 0;
		if (!ours)
			continue;
		if (word_eq(val, vlen, "true")) {
			val = "1";
			vlen = 1;
		} else if (word_eq(val, vlen, "false")) {
			val = "0";
			vlen = 1;
		}
		warnings += apply(key, klen, val, vlen,
				  warnings < MAX_WARNINGS ? warn_fd : -1);
	}
	memcpy(given, mine, sizeof given);
	src_name = "MPWRAP_OPTIONS";
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
		else if (d->type == OPT_SITES)
			_mp_out_str(&o, "default none: ");
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
