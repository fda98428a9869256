/* fake_libmpwrap.c - stand-in for libmpwrap.so in mpcheck's tests.
 *
 * Intercepts nothing.  At exit, when MPWRAP_OPTIONS names a json_path, it
 * writes the report the test chose, the way the real library does (FILE.tmp.PID
 * renamed to FILE, %p = pid), so the test controls every finding mpcheck sees:
 *
 *   FAKE_MPWRAP_JSON_<argv0 basename>  report for that program, else
 *   FAKE_MPWRAP_JSON                   report for every process, else
 *   a clean report (no errors, no leaks).
 *
 * In the chosen text "@PID@" becomes the pid and "@CMD@" the command line
 * (argv joined by spaces, JSON-escaped).  A one-line text report goes to
 * log_path (%p = pid) or stderr, before the JSON report as the real library
 * writes it, so --quiet, --log-file and the relay can be checked.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char clean_report[] =
	"{\"version\":1,\"pid\":@PID@,\"command\":\"@CMD@\",\"errors\":[],"
	"\"leaks\":[],\"summary\":{\"leaks\":{},\"errors\":0},"
	"\"stats\":{\"classes\":[],\"large\":{\"blocks\":0,\"bytes\":0}}}";

/* Copy the value of `key` in MPWRAP_OPTIONS to buf, %p replaced by the pid. */
static int option(const char *key, char *buf, size_t size)
{
	const char *o = getenv("MPWRAP_OPTIONS");
	size_t klen = strlen(key);

	while (o && *o) {
		const char *end = strchrnul(o, ':');
		if (!strncmp(o, key, klen) && o[klen] == '=') {
			size_t n = 0;
			for (const char *p = o + klen + 1; p < end && n + 24 < size; p++) {
				if (p[0] == '%' && p + 1 < end && p[1] == 'p') {
					n += sprintf(buf + n, "%d", (int)getpid());
					p++;
				} else {
					buf[n++] = *p;
				}
			}
			buf[n] = '\0';
			return 1;
		}
		o = *end ? end + 1 : end;
	}
	return 0;
}

/* argv joined by spaces and JSON-escaped; basename of argv[0] to name0. */
static void command_line(char *cmd, size_t size, char *name0, size_t size0)
{
	char raw[4096];
	size_t len = 0, n = 0;
	FILE *f = fopen("/proc/self/cmdline", "r");

	if (f) {
		len = fread(raw, 1, sizeof raw - 1, f);
		fclose(f);
	}
	raw[len] = '\0';
	const char *slash = strrchr(raw, '/');
	snprintf(name0, size0, "%s", slash ? slash + 1 : raw);
	for (size_t i = 0; i < len && n + 3 < size; i++) {
		char c = raw[i] ? raw[i] : ' ';
		if (c == '"' || c == '\\')
			cmd[n++] = '\\';
		cmd[n++] = c;
	}
	while (n > 0 && cmd[n - 1] == ' ')
		n--;
	cmd[n] = '\0';
}

__attribute__((destructor)) static void fake_report(void)
{
	char path[4096], tmp[4200], cmd[4096], name0[256], var[300], log[4096];

	if (!option("json_path", path, sizeof path))
		return;
	command_line(cmd, sizeof cmd, name0, sizeof name0);
	snprintf(var, sizeof var, "FAKE_MPWRAP_JSON_%s", name0);
	const char *report = getenv(var);
	if (!report)
		report = getenv("FAKE_MPWRAP_JSON");
	if (!report)
		report = clean_report;

	/* the text report first, as the real library writes it: complete once
	 * the JSON report is in place */
	FILE *out = option("log_path", log, sizeof log) ? fopen(log, "a") : stderr;
	if (out) {
		fprintf(out, "fake-mpwrap: report for pid %d (%s)\n", (int)getpid(), cmd);
		if (out != stderr)
			fclose(out);
	}

	snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
	FILE *f = fopen(tmp, "w");
	if (!f)
		return;
	for (const char *p = report; *p; p++) {
		if (!strncmp(p, "@PID@", 5)) {
			fprintf(f, "%d", (int)getpid());
			p += 4;
		} else if (!strncmp(p, "@CMD@", 5)) {
			fputs(cmd, f);
			p += 4;
		} else {
			fputc(*p, f);
		}
	}
	fclose(f);
	rename(tmp, path);
}
