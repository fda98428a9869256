/* fuzz_options.c - libFuzzer harness for the MPWRAP_OPTIONS parser.
 *
 * Each input is copied into a NUL-terminated buffer and handed to
 * _mp_options_parse(spec, fd of /dev/null).  Then:
 *  - every integer option is within its documented range, every path is
 *    NUL-terminated inside its MP_PATH_MAX buffer, leak_kinds only has the
 *    four kind bits;
 *  - the result (struct and warning count) equals that of an independent
 *    reference parser written from the documented grammar below;
 *  - parsing the same text again gives the same struct (no hidden state),
 *    and parsing NULL gives the defaults.
 *
 * The grammar, as options.c and README document it and as this reference
 * implements it: tokens are separated by ':', ' ', '\t' or '\n' (only those:
 * '\r', '\v' and '\f' are ordinary bytes).  A token without '=' is one
 * warning.  Otherwise key = bytes before its first '=', value = the rest.
 * Unknown key: one warning.  Integer options take an optional sign and 1..18
 * decimal digits within the option's range; a path takes any value shorter
 * than MP_PATH_MAX (the empty value resets it to "" = default); leak_kinds is
 * a comma-separated list of definite, indirect, possible, reachable, all,
 * none (an empty value and one trailing comma are accepted: the list ends
 * there; see docs/hardening.md).  A bad value is one warning and keeps the
 * option's previous value.  Later assignments win.
 *
 * The option table is not copied here: LLVMFuzzerInitialize reads it from
 * _mp_options_help() ("name default D, range MIN..MAX: ..." for integers,
 * "default definite,indirect:" for leak_kinds, no default for paths), so a
 * new integer or path option is fuzzed without touching this file.  An
 * option of a type this reference does not know (any other "default X:")
 * is "uncertain": assigning it may or may not warn, and is otherwise
 * ignored.  Fields this file knows by name (struct mp_options offsets) are
 * compared value by value; stack_depth must stay within 0..MP_MAX_DEPTH
 * whatever the help says.
 *
 * Build: see mk/fuzz.mk (clang -fsanitize=fuzzer,address,undefined).
 */
#define _GNU_SOURCE
#include "options.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int devnull = -1;

#define FAIL(...)                                                            \
	do {                                                                 \
		fprintf(stderr, "fuzz_options: invariant broken: " __VA_ARGS__); \
		fputc('\n', stderr);                                         \
		abort();                                                     \
	} while (0)

/* ---- the reference parser ------------------------------------------------ */

/* Fields this harness knows (name -> offset in struct mp_options). */
struct known {
	const char *name;
	size_t off;
};

#define O(f) offsetof(struct mp_options, f)
static const struct known known_ints[] = {
	{ "stack_depth", O(stack_depth) },     { "exitcode", O(exitcode) },
	{ "report_at_exit", O(report_at_exit) }, { "detect_leaks", O(detect_leaks) },
	{ "abort_on_error", O(abort_on_error) }, { "quarantine_mb", O(quarantine_mb) },
	{ "show_reachable", O(show_reachable) }, { "check_every", O(check_every) },
	{ "verbosity", O(verbosity) },
};
#undef O
#define NKNOWN (sizeof known_ints / sizeof known_ints[0])

/* The option table as _mp_options_help() describes it. */
enum rtype { R_INT, R_PATH, R_KINDS, R_UNCERTAIN };
struct ropt {
	char name[64];
	enum rtype type;
	long def, min, max;
	long off; /* known field offset, -1 = none */
};
static struct ropt opts[64];
static size_t nopts;

static const struct ropt *ref_find(const char *k, size_t kl)
{
	for (size_t i = 0; i < nopts; i++)
		if (strlen(opts[i].name) == kl && memcmp(opts[i].name, k, kl) == 0)
			return &opts[i];
	return NULL;
}

/* Parse the help text into opts[]. */
static void read_table(void)
{
	int fd[2];
	static char buf[1 << 16];
	if (pipe(fd) != 0)
		abort();
	_mp_options_help(fd[1]);
	close(fd[1]);
	size_t len = 0;
	ssize_t r;
	while (len < sizeof buf - 1 && (r = read(fd[0], buf + len, sizeof buf - 1 - len)) > 0)
		len += (size_t)r;
	close(fd[0]);
	buf[len] = '\0';
	char *save = NULL;
	int first = 1;
	for (char *line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (first) { /* the title line */
			first = 0;
			continue;
		}
		struct ropt o = { .off = -1 };
		char rest[512];
		if (sscanf(line, " %63s %511[^\n]", o.name, rest) < 1)
			continue;
		if (sscanf(rest, "default %ld, range %ld..%ld:", &o.def, &o.min,
			   &o.max) == 3)
			o.type = R_INT;
		else if (strncmp(rest, "default definite,indirect:", 26) == 0)
			o.type = R_KINDS;
		else if (strncmp(rest, "default ", 8) == 0)
			o.type = R_UNCERTAIN;
		else
			o.type = R_PATH;
		for (size_t i = 0; i < NKNOWN; i++)
			if (strcmp(known_ints[i].name, o.name) == 0)
				o.off = (long)known_ints[i].off;
		if (nopts == sizeof opts / sizeof opts[0])
			abort();
		opts[nopts++] = o;
	}
	/* everything this harness knows must be described */
	for (size_t i = 0; i < NKNOWN; i++) {
		const struct ropt *o = ref_find(known_ints[i].name,
						strlen(known_ints[i].name));
		if (!o || o->type != R_INT) {
			fprintf(stderr, "fuzz_options: help lacks integer option %s\n",
				known_ints[i].name);
			abort();
		}
	}
	const char *others[] = { "leak_kinds", "log_path", "json_path" };
	const enum rtype types[] = { R_KINDS, R_PATH, R_PATH };
	for (size_t i = 0; i < 3; i++) {
		const struct ropt *o = ref_find(others[i], strlen(others[i]));
		if (!o || o->type != types[i]) {
			fprintf(stderr, "fuzz_options: help lacks option %s\n", others[i]);
			abort();
		}
	}
}

static int is_sep(char c)
{
	return c == ':' || c == ' ' || c == '\t' || c == '\n';
}

static int ref_long(const char *s, size_t n, long *out)
{
	size_t i = 0;
	int neg = 0;
	long v = 0;
	if (n > 0 && (s[0] == '+' || s[0] == '-')) {
		neg = s[0] == '-';
		i = 1;
	}
	if (n - i < 1 || n - i > 18)
		return -1;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = neg ? -v : v;
	return 0;
}

static int ref_kinds(const char *s, size_t n, long *out)
{
	static const char *const w[] = { "definite", "indirect", "possible",
					 "reachable", "all", "none" };
	static const long bits[] = { 1, 2, 4, 8, 15, 0 };
	long v = 0;
	size_t i = 0;
	while (i < n) {
		size_t j = i;
		while (j < n && s[j] != ',')
			j++;
		size_t k;
		for (k = 0; k < 6; k++)
			if (strlen(w[k]) == j - i && memcmp(s + i, w[k], j - i) == 0)
				break;
		if (k == 6)
			return -1;
		v |= bits[k];
		i = j + 1; /* past the comma; a trailing comma ends the list */
	}
	*out = v;
	return 0;
}

static int uncertain; /* assignments to options of unknown type */

/* 1 when the assignment was rejected (one warning). */
static int ref_apply(struct mp_options *o, const char *k, size_t kl,
		     const char *v, size_t vl)
{
	long x;
	const struct ropt *d = ref_find(k, kl);
	if (!d)
		return 1; /* unknown option */
	switch (d->type) {
	case R_INT:
		/* an option whose range starts at -1 takes "auto" for it
		 * (quarantine_mb=auto) */
		if (d->min == -1 && vl == 4 && memcmp(v, "auto", 4) == 0)
			x = -1;
		else if (ref_long(v, vl, &x) != 0 || x < d->min || x > d->max)
			return 1;
		if (d->off >= 0)
			*(long *)((char *)o + d->off) = x;
		return 0;
	case R_KINDS:
		if (ref_kinds(v, vl, &x) != 0)
			return 1;
		o->leak_kinds = x;
		return 0;
	case R_PATH: {
		char *path = strcmp(d->name, "log_path") == 0 ? o->log_path
			   : strcmp(d->name, "json_path") == 0 ? o->json_path : NULL;
		if (vl >= MP_PATH_MAX)
			return 1;
		if (path) {
			memcpy(path, v, vl);
			path[vl] = '\0';
		}
		return 0;
	}
	default:
		uncertain++;
		return 0;
	}
}

static void ref_defaults(struct mp_options *o)
{
	memset(o, 0, sizeof *o);
	for (size_t i = 0; i < nopts; i++)
		if (opts[i].type == R_INT && opts[i].off >= 0)
			*(long *)((char *)o + opts[i].off) = opts[i].def;
	o->leak_kinds = MP_LEAK_DEFINITE | MP_LEAK_INDIRECT;
}

static int ref_parse(const char *s, struct mp_options *o)
{
	int warnings = 0;
	ref_defaults(o);
	uncertain = 0;
	size_t i = 0, n = strlen(s);
	while (i < n) {
		if (is_sep(s[i])) {
			i++;
			continue;
		}
		size_t start = i;
		while (i < n && !is_sep(s[i]))
			i++;
		const char *tok = s + start;
		size_t len = i - start;
		const char *eq = memchr(tok, '=', len);
		if (!eq) {
			warnings++;
			continue;
		}
		size_t kl = (size_t)(eq - tok);
		warnings += ref_apply(o, tok, kl, eq + 1, len - kl - 1);
	}
	return warnings;
}

/* ---- invariants ---------------------------------------------------------- */

static void check_ranges(const struct mp_options *o)
{
	for (size_t i = 0; i < nopts; i++) {
		if (opts[i].type != R_INT || opts[i].off < 0)
			continue;
		long v = *(const long *)((const char *)o + opts[i].off);
		if (v < opts[i].min || v > opts[i].max)
			FAIL("%s = %ld outside %ld..%ld", opts[i].name, v,
			     opts[i].min, opts[i].max);
	}
	if (o->stack_depth < 0 || o->stack_depth > MP_MAX_DEPTH)
		FAIL("stack_depth %ld outside 0..%d", o->stack_depth, MP_MAX_DEPTH);
	if (o->leak_kinds & ~15L)
		FAIL("leak_kinds has bits 0x%lx", o->leak_kinds);
	if (!memchr(o->log_path, '\0', MP_PATH_MAX))
		FAIL("log_path not NUL-terminated within %d bytes", MP_PATH_MAX);
	if (!memchr(o->json_path, '\0', MP_PATH_MAX))
		FAIL("json_path not NUL-terminated within %d bytes", MP_PATH_MAX);
}

/* Compare field by field: the struct's padding is not ours to compare. */
static void compare(const struct mp_options *a, const struct mp_options *b,
		    const char *what)
{
	for (size_t i = 0; i < NKNOWN; i++) {
		long x = *(const long *)((const char *)a + known_ints[i].off);
		long y = *(const long *)((const char *)b + known_ints[i].off);
		if (x != y)
			FAIL("%s: %s = %ld, expected %ld", what, known_ints[i].name, x,
			     y);
	}
	if (a->leak_kinds != b->leak_kinds)
		FAIL("%s: leak_kinds = %ld, expected %ld", what, a->leak_kinds,
		     b->leak_kinds);
	if (strcmp(a->log_path, b->log_path) != 0)
		FAIL("%s: log_path '%s', expected '%s'", what, a->log_path,
		     b->log_path);
	if (strcmp(a->json_path, b->json_path) != 0)
		FAIL("%s: json_path '%s', expected '%s'", what, a->json_path,
		     b->json_path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (devnull < 0)
		abort();
	read_table();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mp_options ref, first, dflt;
	char *spec = malloc(size + 1);
	if (!spec)
		return 0;
	memcpy(spec, data, size);
	spec[size] = '\0';

	/* defaults first: NULL spec, no warning */
	if (_mp_options_parse(NULL, devnull) != 0)
		FAIL("parse(NULL) warned");
	ref_defaults(&dflt);
	compare(&_mp_opt, &dflt, "defaults");

	int w = _mp_options_parse(spec, devnull);
	check_ranges(&_mp_opt);
	first = _mp_opt;
	int rw = ref_parse(spec, &ref);
	if (w < rw || w > rw + uncertain)
		FAIL("%d warnings, the reference parser counts %d (+%d uncertain)",
		     w, rw, uncertain);
	compare(&first, &ref, "against the reference parser");

	/* the pass-through decision's peek (passthru.c): a value inside the
	 * text, right after its key's '=', never past the end */
	static const char *const peeked[] = { "system_passthrough",
					      "passthrough_path", "log_path" };
	for (size_t i = 0; i < sizeof peeked / sizeof *peeked; i++) {
		size_t len = 0, klen = strlen(peeked[i]);
		const char *v = _mp_options_peek(spec, peeked[i], &len);
		if (v && (v < spec + klen + 1 || v + len > spec + size ||
			  v[-1] != '=' || memcmp(v - klen - 1, peeked[i], klen)))
			FAIL("peek of %s: a value outside the text", peeked[i]);
	}

	/* deterministic: a second parse of the same text, from other state */
	_mp_opt.stack_depth = 63;
	_mp_opt.log_path[0] = 'x';
	if (_mp_options_parse(spec, devnull) != w)
		FAIL("second parse: different warning count");
	compare(&_mp_opt, &first, "second parse");
	free(spec);
	return 0;
}
