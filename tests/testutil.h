/* testutil.h - shared helpers of the mpwrap unit tests (cmocka).
 *
 * Every test runs against a freshly initialised pool whose text report goes
 * to a private log file: tu_start() picks a new path, sets MPWRAP_OPTIONS
 * and calls mp_init(); tu_stop() calls mp_destroy() and removes the log
 * (set MPWRAP_UNIT_KEEP_LOGS=1 to keep it).  The tu_* readers parse that log:
 * one report is the text from its "ERROR: <kind>" line to the blank
 * "==PID== " line that ends it; a stack is the "#N ..." frame lines that
 * follow a header line such as "allocated by:".
 *
 * Include after <stdarg.h>, <stddef.h>, <setjmp.h>, <stdint.h> (cmocka's
 * prerequisites are pulled in here) with _GNU_SOURCE defined.
 */
#ifndef MPWRAP_TESTUTIL_H
#define MPWRAP_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mempool.h"

#define TU_NOINLINE __attribute__((noinline))

static char tu_log_path[256];
static unsigned tu_seq;

/* Fresh log file + options, then mp_init().  `extra` is appended to
 * MPWRAP_OPTIONS ("quarantine_mb=0", "stack_depth=4", ...), may be NULL. */
static inline int tu_start(const char *extra)
{
	char opts[512];

	mp_destroy(); /* no-op unless something initialised the pool already */
	snprintf(tu_log_path, sizeof tu_log_path, "/tmp/mpwrap-unit-%d-%u.log",
		 (int)getpid(), ++tu_seq);
	unlink(tu_log_path);
	snprintf(opts, sizeof opts, "log_path=%s%s%s", tu_log_path,
		 extra && *extra ? ":" : "", extra ? extra : "");
	if (setenv("MPWRAP_OPTIONS", opts, 1) != 0)
		return -1;
	return mp_init();
}

static inline int tu_stop(void)
{
	mp_destroy();
	if (!getenv("MPWRAP_UNIT_KEEP_LOGS"))
		unlink(tu_log_path);
	return 0;
}

/* Whole log as a malloc'd string ("" when the file does not exist). */
static inline char *tu_log(void)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	int fd = open(tu_log_path, O_RDONLY);

	if (!buf)
		abort();
	if (fd >= 0) {
		for (;;) {
			if (len + 1 >= cap) {
				cap *= 2;
				buf = realloc(buf, cap);
				if (!buf)
					abort();
			}
			ssize_t r = read(fd, buf + len, cap - len - 1);
			if (r <= 0)
				break;
			len += (size_t)r;
		}
		close(fd);
	}
	buf[len] = '\0';
	return buf;
}

static inline size_t tu_log_size(void)
{
	struct stat st;

	return stat(tu_log_path, &st) == 0 ? (size_t)st.st_size : 0;
}

static inline size_t tu_count(const char *hay, const char *needle)
{
	size_t n = 0, k = strlen(needle);

	for (const char *s = hay; (s = strstr(s, needle)) != NULL; s += k)
		n++;
	return n;
}

/* Copy of the idx-th (0-based) report whose title is "ERROR: <kind>", or
 * NULL.  Ends after the blank "==PID== " line closing the report. */
static inline char *tu_report(const char *log, const char *kind, unsigned idx)
{
	char title[128];
	const char *s = log;

	snprintf(title, sizeof title, "ERROR: %s\n", kind);
	for (;;) {
		s = strstr(s, title);
		if (!s)
			return NULL;
		if (idx-- == 0)
			break;
		s += strlen(title);
	}
	const char *end = strstr(s, "== \n");
	end = end ? end + 4 : s + strlen(s);
	return strndup(s, (size_t)(end - s));
}

/* Copy of the frame lines ("==PID==     #N ...") that directly follow the
 * first line of `text` containing `header`; NULL if the header is absent.
 * An empty string means the header had no frame under it. */
static inline char *tu_stack(const char *text, const char *header)
{
	const char *h = strstr(text, header);

	if (!h)
		return NULL;
	const char *line = strchr(h, '\n');
	const char *start = line ? line + 1 : h + strlen(h);
	const char *s = start;
	while (*s) {
		const char *eol = strchr(s, '\n');
		const char *body = strstr(s, "== ");
		if (!eol || !body || body > eol ||
		    strncmp(body + 3, "    #", 5) != 0)
			break;
		s = eol + 1;
	}
	return strndup(start, (size_t)(s - start));
}

/* Frame number `n` (0-based) of a tu_stack() result, as a copy, or NULL. */
static inline char *tu_frame(const char *stack, unsigned n)
{
	const char *s = stack;

	for (; n && s; n--) {
		s = strchr(s, '\n');
		if (s)
			s++;
	}
	if (!s || !*s)
		return NULL;
	const char *eol = strchr(s, '\n');
	return strndup(s, eol ? (size_t)(eol - s) : strlen(s));
}

/* Print up to `max_lines` lines of `text` as TAP comments ("# ..."), on
 * stdout like cmocka's TAP lines, so that they never split one. */
static inline void tu_dump(const char *title, const char *text, int max_lines)
{
	print_message("# %s\n", title);
	if (!text) {
		print_message("#   (null)\n");
		return;
	}
	for (int n = 0; *text && n < max_lines; n++) {
		const char *eol = strchr(text, '\n');
		int len = eol ? (int)(eol - text) : (int)strlen(text);
		print_message("#   %.*s\n", len, text);
		text += len + (eol != NULL);
	}
	fflush(stdout);
}

/* Assert that `hay` contains `needle`, printing both on failure. */
#define tu_assert_has(hay, needle)                                            \
	do {                                                                  \
		const char *h_ = (hay), *n_ = (needle);                       \
		if (!h_ || !strstr(h_, n_)) {                                 \
			tu_dump("expected to find:", n_, 5);                  \
			tu_dump("in:", h_, 80);                               \
			fail_msg("text not found (see above)");               \
		}                                                             \
	} while (0)

#define tu_assert_lacks(hay, needle)                                          \
	do {                                                                  \
		const char *h_ = (hay), *n_ = (needle);                       \
		if (h_ && strstr(h_, n_)) {                                   \
			tu_dump("did not expect:", n_, 5);                    \
			tu_dump("in:", h_, 80);                               \
			fail_msg("unexpected text (see above)");              \
		}                                                             \
	} while (0)

/* Assert that stack `header` of report `rep` has a frame naming function
 * `fn` (" in fn ") and, when `file` is not NULL, that frame's file. */
#define tu_assert_frame(rep, header, fn, file)                                \
	do {                                                                  \
		char *st_ = tu_stack((rep), (header));                        \
		char pat_[256];                                               \
		snprintf(pat_, sizeof pat_, " in %s ", (fn));                  \
		if (!st_) {                                                   \
			tu_dump("report:", (rep), 80);                        \
			fail_msg("no \"%s\" stack in the report", (header));  \
		}                                                             \
		const char *f_ = strstr(st_, pat_);                           \
		if (!f_) {                                                    \
			tu_dump("report:", (rep), 80);                        \
			fail_msg("no frame \"%s\" under \"%s\"", pat_,         \
				 (header));                                   \
		}                                                             \
		if ((file) != NULL) {                                         \
			const char *e_ = strchr(f_, '\n');                    \
			char *fl_ = strndup(f_, e_ ? (size_t)(e_ - f_)        \
						 : strlen(f_));               \
			tu_assert_has(fl_, (const char *)(file));             \
			free(fl_);                                            \
		}                                                             \
		free(st_);                                                    \
	} while (0)

static inline struct mp_stats tu_stats(void)
{
	struct mp_stats st;

	memset(&st, 0xee, sizeof st);
	mp_get_stats(&st);
	return st;
}

/* Environment knob for run length (valgrind runs use small values). */
static inline long tu_env_long(const char *name, long def)
{
	const char *v = getenv(name);
	char *end;
	long x;

	if (!v || !*v)
		return def;
	x = strtol(v, &end, 10);
	return *end || x <= 0 ? def : x;
}

/* cmocka fixtures: TU_SETUP(setup_q0, "quarantine_mb=0") defines a setup
 * that starts the pool with those options; tu_teardown stops it. */
#define TU_SETUP(name, opts)                                                  \
	static int name(void **state)                                         \
	{                                                                     \
		(void)state;                                                  \
		return tu_start(opts);                                        \
	}

static inline int tu_teardown(void **state)
{
	(void)state;
	return tu_stop();
}

#endif
