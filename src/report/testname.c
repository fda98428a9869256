/* testname.c - which test this process belongs to, for the JSON report
 * (docs/mpcheck.md, "Which test"): read once at start from the runner's
 * variables or the automake driver among the ancestors, or else the
 * ancestors themselves (pid, argv, cwd) for mpcheck to name the test from
 * the runner's own list.  Fixed buffers, a few small /proc reads: no
 * malloc, nothing of the process changed.
 */
#define _GNU_SOURCE
#include "testname.h"
#include "options.h" /* MP_PATH_MAX */
#include "out.h"

#include <stdlib.h> /* getenv */
#include <string.h>
#include <unistd.h>
#include <fcntl.h>

/* The test this process belongs to, as its runner names it, found once per
 * image at start (a fork child keeps its parent's; docs/mpcheck.md, "Which
 * test"): MPWRAP_TEST_NAME, then pytest's PYTEST_CURRENT_TEST without its
 * " (call)" phase, then the nearest of TEST_ANCESTORS ancestors that is an
 * automake driver (test-driver, tap-driver.sh: `--test-name NAME`).
 * Without a name, the ancestors walked (pid, argv, cwd; nearest first) are
 * kept for the report, up to the first that runs tests itself (ctest, meson,
 * prove) or is mpcheck: mpcheck names the test from them and the runner's
 * own list (mpcheck/testnames.py), which the library need not read.
 * Fixed buffers and a few small reads: no malloc, nothing changed. */
#define TEST_ANCESTORS 8
#define ANCESTOR_ARGV 2048
static char start_test[512];
static const char *start_test_from; /* NULL: no test seen */
static int start_test_done;
static struct ancestor {
	int pid;
	int argv_len;		/* bytes of argv (NUL-separated), -1: unread */
	char argv[ANCESTOR_ARGV];
	char cwd[MP_PATH_MAX];	/* "" when unreadable */
} ancestors[TEST_ANCESTORS];
static int n_ancestors;

static void test_set(const char *name, size_t n, const char *from)
{
	if (n >= sizeof start_test)
		n = sizeof start_test - 1;
	memcpy(start_test, name, n);
	start_test[n] = '\0';
	start_test_from = n ? from : NULL;
}

/* A small /proc file read whole into buf (NUL-terminated); its length or -1. */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = 0, r;
	if (fd < 0)
		return -1;
	while (n < (ssize_t)cap - 1 &&
	       (r = read(fd, buf + n, cap - 1 - (size_t)n)) > 0)
		n += r;
	close(fd);
	buf[n] = '\0';
	return n;
}

/* The base name of argument `which` (0 or 1) of a NUL-separated argv. */
static const char *arg_base(const char *argv, ssize_t n, int which)
{
	ssize_t i = 0;
	for (int arg = 0; arg < which && i < n; arg++)
		i += (ssize_t)strnlen(argv + i, (size_t)(n - i)) + 1;
	if (i >= n)
		return "";
	const char *base = strrchr(argv + i, '/');
	return base ? base + 1 : argv + i;
}

/* A process that runs tests (argv[0], or argv[1] under an interpreter):
 * the walk stops there, nothing above it names the test. */
static int runs_tests(const char *argv, ssize_t n)
{
	static const char *const runners[] = { "ctest", "meson", "meson.py",
					       "prove", "mpcheck" };
	for (int which = 0; which < 2; which++) {
		const char *base = arg_base(argv, n, which);
		for (size_t k = 0; k < sizeof runners / sizeof *runners; k++)
			if (strcmp(base, runners[k]) == 0)
				return 1;
	}
	return 0;
}

/* An automake driver's argv (NUL-separated, n bytes): its --test-name. */
static int test_from_driver(const char *argv, ssize_t n)
{
	int driver = 0;
	for (ssize_t i = 0, arg = 0; i < n; arg++) {
		const char *a = argv + i;
		size_t len = strnlen(a, (size_t)(n - i));
		const char *base = strrchr(a, '/');
		base = base ? base + 1 : a;
		/* the script itself is argv[0] or, run by a shell, argv[1] */
		if (arg < 2 && strstr(base, "-driver"))
			driver = 1;
		if (driver && strcmp(a, "--test-name") == 0 &&
		    i + (ssize_t)len + 1 < n) {
			const char *v = a + len + 1;
			test_set(v, strnlen(v, (size_t)(n - i - (ssize_t)len - 1)),
				 "test-driver");
			return 1;
		}
		i += (ssize_t)len + 1;
	}
	return 0;
}

static void test_find(void)
{
	static char buf[4096];
	char path[64];
	const char *v = getenv("MPWRAP_TEST_NAME");
	if (v && *v) {
		test_set(v, strlen(v), "MPWRAP_TEST_NAME");
		return;
	}
	v = getenv("PYTEST_CURRENT_TEST");
	if (v && *v) {
		size_t n = strlen(v);
		const char *phase = strrchr(v, ' ');
		if (phase && phase[1] == '(' && v[n - 1] == ')')
			n = (size_t)(phase - v);
		test_set(v, n, "PYTEST_CURRENT_TEST");
		return;
	}
	pid_t pid = getppid();
	n_ancestors = 0;
	for (int depth = 0; depth < TEST_ANCESTORS && pid > 1; depth++) {
		struct ancestor *an = &ancestors[n_ancestors];
		_mp_snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
		ssize_t n = read_small(path, an->argv, sizeof an->argv);
		if (n > 0 && test_from_driver(an->argv, n)) {
			n_ancestors = 0; /* named: the walk is not needed */
			return;
		}
		if (n > 0 && n == (ssize_t)sizeof an->argv - 1)
			n = -1; /* cut: an argv that is not the process's */
		an->pid = (int)pid;
		an->argv_len = n > 0 ? (int)n : -1;
		_mp_snprintf(path, sizeof path, "/proc/%d/cwd", (int)pid);
		ssize_t c = readlink(path, an->cwd, sizeof an->cwd - 1);
		an->cwd[c > 0 ? c : 0] = '\0';
		n_ancestors++;
		if (n > 0 && runs_tests(an->argv, n))
			return;
		/* its parent: the field after the ")" closing the name */
		_mp_snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
		if (read_small(path, buf, sizeof buf) <= 0)
			break;
		const char *close_paren = strrchr(buf, ')');
		int ppid = 0;
		if (!close_paren || close_paren[1] != ' ' || !close_paren[2] ||
		    close_paren[3] != ' ')
			break;
		for (const char *p = close_paren + 4; *p >= '0' && *p <= '9'; p++)
			ppid = ppid * 10 + (*p - '0');
		pid = ppid;
	}
	/* no runner above: nothing can be named from this chain (mpcheck
	 * names a test from the runner's own list), so none is kept: a
	 * program run by `make` with a long command line does not carry it
	 * into every report */
	n_ancestors = 0;
}

/* The ancestors test_find walked, nearest first: [] when the test was
 * named (or the process is mpcheck's child). */
static void json_ancestors(struct mp_out *o)
{
	_mp_out_str(o, ",\"ancestors\":[");
	for (int k = 0; k < n_ancestors; k++) {
		const struct ancestor *an = &ancestors[k];
		_mp_out_printf(o, "%s{\"pid\":%d,\"argv\":", k ? "," : "",
			       an->pid);
		if (an->argv_len > 0)
			_mp_out_json_nul_list(o, an->argv, an->argv_len);
		else
			_mp_out_str(o, "null");
		_mp_out_str(o, ",\"cwd\":");
		if (an->cwd[0])
			_mp_out_json_bytes(o, an->cwd, strlen(an->cwd));
		else
			_mp_out_str(o, "null");
		_mp_out_str(o, "}");
	}
	_mp_out_str(o, "]");
}

void _mp_testname_find(void)
{
	if (start_test_done)
		return;
	start_test_done = 1;
	test_find();
}

void _mp_testname_json(struct mp_out *o)
{
	_mp_out_str(o, ",\"test\":");
	if (start_test_from) {
		_mp_out_str(o, "{\"name\":");
		_mp_out_json_bytes(o, start_test, strlen(start_test));
		_mp_out_printf(o, ",\"from\":\"%s\"}", start_test_from);
	} else {
		_mp_out_str(o, "null");
	}
	json_ancestors(o);
}
