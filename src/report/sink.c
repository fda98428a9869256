/* sink.c - where text reports go: the report sink, and report files' safety.
 *
 * One concern: the descriptor a report is written to.  A private copy of
 * stderr taken at start-up, or log_path opened once per process (again in
 * a child, again if the program closed our descriptor), only as a regular
 * file of this user's that is new, empty or a log of ours; the directory
 * relative report paths mean; the file-safety rules and errno wording that
 * json_path shares.  Separate from report.c, which words the reports: the
 * file and descriptor rules are security policy and change on their own.
 * Every function here that touches log_copy runs under report.c's report
 * lock (the callers say so).
 */
#define _GNU_SOURCE
#include "report.h"
#include "options.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static pid_t log_pid;         /* pid the log was opened for */

/* The directory the program started in: relative report paths mean it,
 * whatever the program chdir()s to later (a daemon's chdir("/") would put
 * its reports in /).  Taken once per image; a forked child keeps it. */
static char start_dir[MP_PATH_MAX * 2];

/* Expand %p in a path template to the pid; a relative template is put
 * under start_dir (unless the result would not fit: then as it is). */
void _mp_expand_path(char *dst, size_t cap, const char *tmpl)
{
	size_t j = 0;
	if (tmpl[0] && tmpl[0] != '/' && start_dir[0] &&
	    strlen(start_dir) + strlen(tmpl) + 24 < cap) {
		for (const char *d = start_dir; *d; d++)
			dst[j++] = *d;
		if (j > 1 || dst[0] != '/')
			dst[j++] = '/';
	}
	for (const char *s = tmpl; *s && j + 1 < cap; s++) {
		if (s[0] == '%' && s[1] == 'p') {
			char num[24];
			size_t n = _mp_snprintf(num, sizeof num, "%d", (int)getpid());
			for (size_t k = 0; k < n && j + 1 < cap; k++)
				dst[j++] = num[k];
			s++;
		} else {
			dst[j++] = *s;
		}
	}
	dst[j] = '\0';
}

/* A descriptor of ours the program could close and reuse: known by the
 * file it was opened on, checked before every write.  Kept high and
 * close-on-exec, out of the way of the program's own numbers. */
struct priv_fd {
	int fd; /* -1: none */
	dev_t dev;
	ino_t ino;
};

static struct priv_fd err_copy = { -1, 0, 0 }; /* stderr as it was at start */
static struct priv_fd log_copy = { -1, 0, 0 }; /* log_path, once opened */
static int log_refused;                        /* log_path refused: stderr */

/* Move fd to a high close-on-exec number (it may have landed on a number
 * the program closed, even 2) and remember its file. */
static void priv_adopt(struct priv_fd *p, int fd, int keep_original)
{
	struct stat st;
	int hi = fcntl(fd, F_DUPFD_CLOEXEC, 900);
	if (hi < 0) /* RLIMIT_NOFILE below 901 */
		hi = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (!keep_original)
		close(fd);
	if (hi >= 0 && fstat(hi, &st) != 0) {
		close(hi);
		hi = -1;
	}
	p->fd = hi;
	if (hi >= 0) {
		p->dev = st.st_dev;
		p->ino = st.st_ino;
	}
}

/* The descriptor if it still is ours, else -1 (closed or reused by the
 * program: never written to again). */
static int priv_get(struct priv_fd *p)
{
	struct stat st;
	if (p->fd < 0)
		return -1;
	if (fstat(p->fd, &st) == 0 && st.st_dev == p->dev && st.st_ino == p->ino)
		return p->fd;
	p->fd = -1;
	return -1;
}

void _mp_report_init(void)
{
	/* Reports never go to descriptor 2 itself: a program that closes
	 * stderr (coreutils do, in an atexit handler) reuses the number for
	 * its own files.  A private copy of stderr as it was at start-up. */
	if (err_copy.fd < 0 && fcntl(STDERR_FILENO, F_GETFD) != -1)
		priv_adopt(&err_copy, STDERR_FILENO, 1);
	if (!getcwd(start_dir, sizeof start_dir))
		start_dir[0] = '\0';
}

int _mp_report_stderr(void)
{
	dev_t dev = err_copy.dev;
	ino_t ino = err_copy.ino;
	struct stat st;
	int fd = priv_get(&err_copy);
	/* the program closed our copy (closefrom(3)): take another from fd 2
	 * while that is still the same file */
	if (fd < 0 && (dev || ino) && fstat(STDERR_FILENO, &st) == 0 &&
	    st.st_dev == dev && st.st_ino == ino) {
		priv_adopt(&err_copy, STDERR_FILENO, 1);
		fd = err_copy.fd;
	}
	return fd;
}

const char *_mp_report_file_unsafe(const struct stat *st, char *buf, size_t cap)
{
	if (S_ISLNK(st->st_mode))
		return "it is a symbolic link";
	if (S_ISFIFO(st->st_mode))
		return "it is a FIFO";
	if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
		return "it is a device";
	if (S_ISSOCK(st->st_mode))
		return "it is a socket";
	if (S_ISDIR(st->st_mode))
		return "it is a directory";
	if (!S_ISREG(st->st_mode))
		return "it is not a regular file";
	if (st->st_uid != geteuid()) {
		_mp_snprintf(buf, cap, "it belongs to another user (uid %u)",
			     (unsigned)st->st_uid);
		return buf;
	}
	return NULL;
}

const char *_mp_report_errno_text(int e, char *buf, size_t cap)
{
	switch (e) {
	case ELOOP: return "it is a symbolic link";
	case ENXIO: return "it is a FIFO no one reads, or a device";
	case EACCES: case EPERM: return "permission denied";
	case ENOENT: return "no such directory";
	case ENOTDIR: return "a component of the path is not a directory";
	case EISDIR: return "it is a directory";
	case EEXIST: return "something else was created there meanwhile";
	case ENOSPC: return "no space left on the device";
	case EROFS: return "read-only file system";
	case EFBIG: return "it would pass the file size limit (ulimit -f)";
	default: {
		/* glibc's fixed table: no locale, no malloc (strerror may
		 * allocate, and this runs inside the allocator) */
		const char *d = strerrordesc_np(e);
		if (d)
			return d;
		_mp_snprintf(buf, cap, "errno %d", e);
		return buf;
	}
	}
}

void _mp_report_notice(const char *what, const char *path, const char *why,
		       const char *then)
{
	struct mp_out o;
	_mp_out_init(&o, _mp_report_stderr());
	_mp_out_printf(&o, "==%d== mpwrap: %s '", (int)getpid(), what);
	_mp_out_safe_str(&o, path);
	_mp_out_printf(&o, "': %s; %s\n", why, then);
	_mp_out_flush(&o);
}

/* A log of ours: empty, or its first line one of ours ("==PID== ").  A
 * file it cannot read (write-only) counts as ours only when empty. */
static int log_is_ours(int fd, const struct stat *st)
{
	char head[24];
	if (st->st_size == 0)
		return 1;
	ssize_t n = pread(fd, head, sizeof head, 0);
	if (n < 4 || head[0] != '=' || head[1] != '=')
		return 0;
	ssize_t i = 2;
	while (i < n && head[i] >= '0' && head[i] <= '9')
		i++;
	return i > 2 && i + 2 < n && head[i] == '=' && head[i + 1] == '=' &&
	       head[i + 2] == ' ';
}

/* Open log_path for appending, only as a regular file of this user's
 * (created 0600 if missing) that is new, empty or a log of ours: never a
 * link, FIFO (a FIFO with no reader would block the program; O_NONBLOCK
 * makes that ENXIO), device, another user's file planted in a shared
 * directory, a hard link to a file of the user's, or a file of other
 * text (log_force=1 lifts the last two rules and the device one).  -1
 * after saying why. */
static int open_log(const char *path)
{
	struct stat st;
	char buf[64];
	const char *why = NULL;
	int fd = -1, force = _mp_opt.log_force != 0;
	/* a device is not even opened (opening one can have effects) */
	if (lstat(path, &st) == 0 &&
	    !(force && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))))
		why = _mp_report_file_unsafe(&st, buf, sizeof buf);
	if (!why) {
		int flags = O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW |
			    O_NONBLOCK | O_NOCTTY;
		fd = open(path, O_RDWR | flags, 0600); /* RDWR: its first line */
		if (fd < 0 && errno == EACCES)
			fd = open(path, O_WRONLY | flags, 0600);
		if (fd < 0)
			why = _mp_report_errno_text(errno, buf, sizeof buf);
		else if (fstat(fd, &st) != 0)
			why = "cannot stat it";
		else if (force && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)))
			why = NULL; /* the user said so */
		else /* what was opened, whatever lstat saw */
			why = _mp_report_file_unsafe(&st, buf, sizeof buf);
		/* a hard link planted to a file of the user's elsewhere
		 * (fs.protected_hardlinks=0): appending would write into it */
		if (!why && !force && S_ISREG(st.st_mode) && st.st_nlink > 1)
			why = "it has other hard links";
		if (!why && !force && S_ISREG(st.st_mode) && !log_is_ours(fd, &st))
			why = "it is not an mpwrap log (log_force=1 appends anyway)";
	}
	if (why) {
		if (fd >= 0)
			close(fd);
		_mp_report_notice("not writing the report to log_path", path, why,
				  "reporting to stderr");
		return -1;
	}
	return fd;
}

/* report_lock held.  Opens log_path once per process (again in a child,
 * and again if the program closed our descriptor).  "/dev/stderr" is
 * the stderr the program started with, "/dev/null" nothing: what a user
 * naming them means (both are links or devices, refused otherwise). */
static int sink_fd(void)
{
	if (!_mp_opt.log_path[0] || strcmp(_mp_opt.log_path, "/dev/stderr") == 0)
		return _mp_report_stderr();
	if (strcmp(_mp_opt.log_path, "/dev/null") == 0)
		return -1;
	if (log_pid != getpid()) {
		log_pid = getpid();
		log_refused = 0;
		if (log_copy.fd >= 0) /* the parent's log: a child has its own */
			close(log_copy.fd);
		log_copy.fd = -1;
	}
	if (log_refused)
		return _mp_report_stderr();
	int fd = priv_get(&log_copy);
	if (fd >= 0)
		return fd;
	char path[MP_REPORT_PATH];
	_mp_expand_path(path, sizeof path, _mp_opt.log_path);
	fd = open_log(path);
	if (fd >= 0)
		priv_adopt(&log_copy, fd, 0);
	if (log_copy.fd < 0) {
		log_refused = 1;
		return _mp_report_stderr();
	}
	return log_copy.fd;
}

/* A write to log_path failed (EFBIG past `ulimit -f`, ENOSPC, EIO):
 * said once, and this report's rest and every later one go to stderr
 * rather than nowhere.  report_lock held. */
static int log_failed(struct mp_out *o)
{
	char path[MP_REPORT_PATH], buf[64];
	_mp_expand_path(path, sizeof path, _mp_opt.log_path);
	_mp_report_notice("cannot write the report to log_path", path,
			  _mp_report_errno_text(o->err, buf, sizeof buf),
			  "reporting to stderr");
	log_refused = 1;
	if (log_copy.fd >= 0)
		close(log_copy.fd);
	log_copy.fd = -1;
	return _mp_report_stderr();
}

/* report_lock held: the sink into *o, a failed write to log_path moving
 * the rest to stderr. */
void _mp_report_sink_open(struct mp_out *o)
{
	_mp_out_init(o, sink_fd());
	if (o->fd >= 0 && o->fd == log_copy.fd)
		o->on_fail = log_failed;
}

/* report_lock held (mp_destroy, fork): log_path is opened again when
 * next written to. */
void _mp_report_sink_reset(void)
{
	if (log_copy.fd >= 0)
		close(log_copy.fd);
	log_copy.fd = -1;
	log_refused = 0;
}
