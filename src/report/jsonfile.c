/* jsonfile.c - the JSON report's files: where it may be written, and how.
 *
 * One concern: the file system side of json_path and start_path.  Which
 * name a report may take (only a new name, an empty file or an earlier
 * report of ours is replaced; another file of the user's gets the report
 * beside it), the unguessable temporary it is written to, the rename into
 * place that never replaces what appeared meanwhile, a leak check's report
 * name, and the start marker mpcheck uses to find processes that died
 * without a report.  Separate from json.c, which words the report: these
 * are the security rules for report files, and change on their own.
 */
#define _GNU_SOURCE
#include "jsonfile.h"
#include "options.h"
#include "out.h"
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h> /* rename */
#include <string.h>
#include <sys/random.h> /* getrandom */
#include <sys/stat.h>
#include <unistd.h>

/* A temporary name no one can guess and plant first: pid and 64 random
 * bits (O_EXCL below refuses an existing name anyway). */
int _mp_json_open_tmp(const char *path, char *tmp, size_t cap)
{
	for (int i = 0; i < 8; i++) {
		unsigned long long r = 0;
		if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
			r ^= (unsigned long long)(uintptr_t)&r * 0x9e3779b97f4a7c15ULL +
			     (unsigned long long)i;
		_mp_snprintf(tmp, cap, "%s.tmp.%d.%llx", path, (int)getpid(), r);
		int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
				   O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

/* skip blanks, then lit; 0 when lit is not next */
static int next_is(const char **p, const char *lit)
{
	while (**p == ' ' || **p == '\n')
		(*p)++;
	size_t n = strlen(lit);
	if (strncmp(*p, lit, n) != 0)
		return 0;
	*p += n;
	return 1;
}

/* The first bytes of a file of ours: a JSON report of the library's or
 * mpcheck's ({"version":N,"tool":"mpwrap"...) or a start marker. */
static int head_is_ours(const char *head)
{
	const char *p = head;
	if (strncmp(head, "mpwrap start marker", 19) == 0)
		return 1;
	if (!next_is(&p, "{") || !next_is(&p, "\"version\"") || !next_is(&p, ":"))
		return 0;
	while (*p == ' ')
		p++;
	if (*p < '0' || *p > '9')
		return 0;
	while (*p >= '0' && *p <= '9')
		p++;
	return next_is(&p, ",") && next_is(&p, "\"tool\"") && next_is(&p, ":") &&
	       next_is(&p, "\"mpwrap\"");
}

/* Whether json_path may be replaced.  A missing name is made; only a
 * regular file of this user's that is empty or an earlier report of ours
 * is replaced (its mode in *mode); another regular file of the user's is
 * never replaced (json_path=/etc/passwd as root made the user database a
 * report): the report goes beside it.  Never a link, device, FIFO (as
 * root, "/dev/stdout" would become a regular file) or another user's
 * file: *why says so. */
enum target _mp_json_judge_target(const char *path, mode_t *mode,
				  const char **why, char *buf, size_t cap)
{
	struct stat st, now;
	*why = NULL;
	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return T_NEW;
		*why = _mp_report_errno_text(errno, buf, cap);
		return T_REFUSE;
	}
	*why = _mp_report_file_unsafe(&st, buf, cap);
	if (*why)
		return T_REFUSE;
	*mode = st.st_mode & 0777;
	if (st.st_size == 0)
		return T_REPLACE;
	char head[64];
	ssize_t n = -1;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
			    O_CLOEXEC);
	if (fd >= 0) {
		if (fstat(fd, &now) == 0 && now.st_dev == st.st_dev &&
		    now.st_ino == st.st_ino)
			n = pread(fd, head, sizeof head - 1, 0);
		close(fd);
	}
	if (n > 0) {
		head[n] = '\0';
		if (head_is_ours(head))
			return T_REPLACE;
	}
	return T_BESIDE;
}

/* rename(tmp, path) as judge_target allows: a missing name only with
 * RENAME_NOREPLACE, so nothing created there meanwhile is replaced. */
const char *_mp_json_move_into_place(const char *tmp, const char *path,
				     char *buf, size_t cap)
{
	for (int tries = 0; tries < 3; tries++) {
		mode_t mode;
		const char *why;
		enum target t = _mp_json_judge_target(path, &mode, &why, buf, cap);
		if (t == T_REFUSE)
			return why;
		if (t == T_BESIDE)
			return "it is not an mpwrap report (made meanwhile)";
		if (t == T_REPLACE) {
			if (rename(tmp, path) == 0)
				return NULL;
		} else if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path,
				     RENAME_NOREPLACE) == 0) {
			return NULL;
		} else if (errno == EINVAL || errno == ENOSYS) {
			/* a file system without RENAME_NOREPLACE: checked just
			 * above, as close as it gets */
			if (rename(tmp, path) == 0)
				return NULL;
		} else if (errno == EEXIST) {
			continue; /* created meanwhile: look at it again */
		}
		return _mp_report_errno_text(errno, buf, cap);
	}
	return "it keeps changing";
}

/* json_path with the check's number: "r.json" -> "r.check3.json", any
 * other name gets ".check3" appended; mpcheck's report names stay apart */
void _mp_json_check_path(char *path, size_t cap, unsigned long seq)
{
	char base[MP_REPORT_PATH];
	_mp_expand_path(base, sizeof base, _mp_opt.json_path);
	size_t n = strlen(base);
	if (n > 5 && strcmp(base + n - 5, ".json") == 0)
		_mp_snprintf(path, cap, "%.*s.check%lu.json", (int)(n - 5), base,
			     seq);
	else
		_mp_snprintf(path, cap, "%s.check%lu", base, seq);
}

/* "==PID== mpwrap: WHAT 'PATH'[: WHY]; THEN 'PATH2'", both paths escaped */
void _mp_json_notice(const char *what, const char *path, const char *why,
		     const char *then, const char *path2)
{
	struct mp_out o;
	_mp_out_init(&o, _mp_report_stderr());
	_mp_out_printf(&o, "==%d== mpwrap: %s '", (int)getpid(), what);
	_mp_out_safe_str(&o, path);
	_mp_out_printf(&o, "': %s; %s", why, then);
	if (path2) {
		_mp_out_str(&o, " '");
		_mp_out_safe_str(&o, path2);
		_mp_out_str(&o, "'");
	}
	_mp_out_str(&o, "\n");
	_mp_out_flush(&o);
}

/* The start marker this process made (or took over from the image
 * before its exec): only that file is ever removed, known by its device
 * and inode.  A file already at start_path is someone else's (it was
 * deleted, and with start_path = json_path the report deleted itself). */
static struct {
	pid_t pid; /* 0: none */
	dev_t dev;
	ino_t ino;
} marker;

/* The marker text: the pid makes a marker left by another process's
 * image (pid reused) no one's to take. */
static size_t marker_text(char *text, size_t cap)
{
	return _mp_snprintf(text, cap, "mpwrap start marker, pid %d\n",
			    (int)getpid());
}

/* Whether the open file fd is a start marker this pid made (the image
 * before an exec): regular, ours, one link, the exact text. */
static int marker_is_ours(int fd, const char *text, size_t n)
{
	struct stat st;
	char head[64];
	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	       st.st_uid == geteuid() && st.st_nlink == 1 &&
	       pread(fd, head, sizeof head, 0) == (ssize_t)n &&
	       memcmp(head, text, n) == 0;
}

void _mp_json_drop_marker(const char *path)
{
	char text[64];
	size_t n = marker_text(text, sizeof text);
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
			    O_CLOEXEC);
	if (fd < 0)
		return;
	if (marker_is_ours(fd, text, n))
		unlink(path);
	close(fd);
}

void _mp_json_marker(int make)
{
	char path[MP_REPORT_PATH], text[64];
	struct stat st;
	if (!_mp_opt.start_path[0])
		return;
	_mp_expand_path(path, sizeof path, _mp_opt.start_path);
	if (!make) {
		if (marker.pid == getpid() && lstat(path, &st) == 0 &&
		    S_ISREG(st.st_mode) && st.st_dev == marker.dev &&
		    st.st_ino == marker.ino)
			unlink(path);
		marker.pid = 0;
		return;
	}
	marker.pid = 0;
	size_t n = marker_text(text, sizeof text);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC |
			    O_NONBLOCK | O_NOCTTY, 0600);
	int ours = fd >= 0 && _mp_write_all(fd, text, n) == 0;
	if (fd < 0 && errno == EEXIST) {
		/* an exec keeps the pid: the marker of the image before is
		 * ours when it says so */
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
				O_CLOEXEC);
		ours = fd >= 0 && marker_is_ours(fd, text, n);
	}
	if (ours && fstat(fd, &st) == 0) {
		marker.pid = getpid();
		marker.dev = st.st_dev;
		marker.ino = st.st_ino;
	}
	if (fd >= 0)
		close(fd);
}
