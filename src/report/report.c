/* report.c - the wording of every error report, in one place.
 *
 * Every report has one shape: a title line naming the kind, a locating line
 * (address, block, size, offset), then the stacks: where it was detected,
 * where the block was allocated, where it was freed.  Text is built in a
 * fixed buffer and written with write(2), under the report lock only, so
 * reports from threads never interleave and work on a corrupted heap.
 */
#define _GNU_SOURCE
#include "report.h"
#include "mempool.h"
#include "deepstack.h"
#include "depot.h"
#include "gpsites.h"
#include "loaderprobe.h"
#include "locate.h"
#include "options.h"
#include "reent.h"
#include "symbolize.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ERRLOG_MAX 1024

static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mp_verdict errlog[ERRLOG_MAX];
static size_t errlog_len;
static atomic_size_t nerrors;
static pid_t log_pid;         /* pid the log was opened for */

static const char *const names[MP_E_KINDS] = {
	[MP_E_NONE] = "none",
	[MP_E_OVERFLOW] = "heap-buffer-overflow",
	[MP_E_UNDERFLOW] = "heap-buffer-underflow",
	[MP_E_DOUBLE_FREE] = "double-free",
	[MP_E_INVALID_FREE] = "invalid-free",
	[MP_E_USE_AFTER_FREE] = "use-after-free",
	[MP_E_ALLOC_DEALLOC_MISMATCH] = "alloc-dealloc-mismatch",
	[MP_E_NEW_DELETE_TYPE_MISMATCH] = "new-delete-type-mismatch",
	[MP_E_INVALID_ALIGNMENT] = "invalid-alignment",
	[MP_E_SIZE_TOO_BIG] = "allocation-size-too-big",
	[MP_E_CALLOC_OVERFLOW] = "calloc-overflow",
	[MP_E_REALLOC_SIZE_ZERO] = "realloc-size-zero",
	[MP_E_ALLOC_SIZE_ZERO] = "alloc-size-zero",
	[MP_E_FISHY_VALUE] = "fishy-value",
};

const char *_mp_err_name(enum mp_err k)
{
	return k < MP_E_KINDS ? names[k] : "unknown";
}

static const char *const family_names[MP_FAM_COUNT] = {
	[MP_FAM_MALLOC] = "malloc",
	[MP_FAM_NEW] = "operator new",
	[MP_FAM_NEW_ARRAY] = "operator new[]",
	[MP_FAM_NEW_ALIGNED] = "aligned operator new",
	[MP_FAM_NEW_ARRAY_ALIGNED] = "aligned operator new[]",
};

const char *_mp_family_name(unsigned family)
{
	return family < MP_FAM_COUNT ? family_names[family] : "unknown";
}

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

/* How deep this thread is in report_lock: a fatal signal that hits while
 * this thread writes a report reports on it without waiting for the lock
 * it holds itself (a double free on a 128 KiB thread hung so: the stack
 * overflow's SIGSEGV came inside the report); its lines may land inside
 * the interrupted report's, which is better than no report and a hang. */
static __thread int report_depth __attribute__((tls_model("initial-exec")));
/* inside _mp_report_error on this thread */
static __thread int in_report __attribute__((tls_model("initial-exec")));

void _mp_report_begin(struct mp_out *o)
{
	_mp_nocancel_enter(); /* write(2) is a cancellation point */
	if (report_depth++ == 0)
		pthread_mutex_lock(&report_lock);
	_mp_out_init(o, sink_fd());
	if (o->fd >= 0 && o->fd == log_copy.fd)
		o->on_fail = log_failed;
}

void _mp_report_end(struct mp_out *o)
{
	_mp_out_flush(o);
	if (--report_depth == 0)
		pthread_mutex_unlock(&report_lock);
	_mp_nocancel_leave();
}

int _mp_report_inside(void)
{
	return report_depth > 0 || in_report;
}

void _mp_report_prefix(struct mp_out *o)
{
	_mp_out_printf(o, "==%d== ", (int)getpid());
}

int _mp_report_frame_end(const struct mp_symbol *sym)
{
	/* below main: the C runtime's frames, noise in every report */
	if (__builtin_strcmp(sym->function, "main") == 0)
		return MP_FRAME_LAST;
	/* below a thread's start routine: our trampoline, then glibc's */
	if (__builtin_strcmp(sym->function, "_mp_thread_start") == 0)
		return MP_FRAME_BEYOND;
	/* A stripped program has no "main" to stop at: its caller, glibc's
	 * start-up (and _start below it), is where the program's frames end,
	 * as memcheck's and ASan's reports end there. */
	if (__builtin_strncmp(sym->function, "__libc_start_", 13) == 0 ||
	    __builtin_strcmp(sym->function, "_start") == 0)
		return MP_FRAME_BEYOND;
	return MP_FRAME_PRINT;
}

unsigned _mp_report_frames(uint32_t id, mp_frame_fn fn, void *ctx)
{
	const uintptr_t *pcs;
	unsigned n = _mp_depot_get(id, &pcs), shown = 0;
	struct mp_symbol sym;
	for (unsigned i = 0; i < n; i++) {
		int known = 0;
		sym.function[0] = sym.file[0] = sym.module[0] = '\0';
		sym.line = 0;
		sym.offset = 0;
		/* The symbolizer allocates: keep it off the pool.  Not at all
		 * when this thread died inside the allocator, holding its locks
		 * (fatal-signal report): raw program counters then. */
		if (!_mp_tls.raw_stacks && _mp_loader_ok()) {
			_mp_enter();
			known = _mp_symbolize_at(pcs[i], _mp_depot_gen(id), &sym);
			_mp_leave();
		}
		int end = known ? _mp_report_frame_end(&sym) : MP_FRAME_PRINT;
		if (end == MP_FRAME_BEYOND && i)
			break;
		/* "__libc_start_main@@GLIBC_2.34": the version adds nothing */
		char *at = __builtin_strstr(sym.function, "@@");
		if (at)
			*at = '\0';
		if (!known)
			sym.function[0] = '\0';
		fn(ctx, i, pcs[i], &sym);
		shown++;
		if (end == MP_FRAME_LAST)
			break; /* after main: the C runtime is noise */
	}
	return shown;
}

static void text_frame(void *ctx, unsigned i, uintptr_t pc,
		       const struct mp_symbol *sym)
{
	struct mp_out *o = ctx;
	_mp_report_prefix(o);
	_mp_out_printf(o, "    #%u %p in ", i, (void *)pc);
	_mp_out_safe_str(o, sym->function[0] ? sym->function : "??");
	if (sym->file[0]) {
		_mp_out_str(o, " ");
		_mp_out_safe_str(o, sym->file);
		if (sym->line)
			_mp_out_printf(o, ":%d", sym->line);
	}
	if (sym->module[0]) {
		_mp_out_str(o, " (");
		_mp_out_safe_str(o, _mp_base_name(sym->module));
		_mp_out_printf(o, "+0x%lx)", (unsigned long)sym->offset);
	}
	_mp_out_str(o, "\n");
}

void _mp_report_stack(struct mp_out *o, uint32_t id)
{
	if (_mp_report_frames(id, text_frame, o) == 0) {
		_mp_report_prefix(o);
		_mp_out_str(o, "    (no stack recorded)\n");
	}
}

/* new-delete-type-mismatch: what the allocation had and the delete said. */
static void mismatch_line(struct mp_out *o, const struct mp_verdict *v)
{
	const struct mp_block *b = &v->blk;
	int by_size = v->arg_sized && v->arg != b->size;
	size_t had_align = (size_t)1 << b->align_log;
	_mp_out_printf(o, "%s(%p, ", v->where, (void *)v->addr);
	if (by_size)
		_mp_out_printf(o, "size %zu", v->arg);
	else
		_mp_out_printf(o, "alignment %zu", v->arg2);
	_mp_out_printf(o, "): the %zu-byte block at %p was allocated by %s ",
		       b->size, (void *)b->user, _mp_family_name(b->family));
	if (by_size)
		_mp_out_printf(o, "with size %zu, freed with size %zu\n", b->size,
			       v->arg);
	else
		_mp_out_printf(o, "with alignment %zu, freed with alignment %zu\n",
			       had_align, v->arg2);
}

/* The locating line without prefix: what the address or call is. */
static void locate_text(struct mp_out *o, const struct mp_verdict *v)
{
	const struct mp_block *b = &v->blk;
	if (!v->count && (v->kind == MP_E_OVERFLOW || v->kind == MP_E_UNDERFLOW ||
			  v->kind == MP_E_USE_AFTER_FREE)) {
		/* caught at the access itself (guard page): nothing changed */
		_mp_out_printf(o, "%s at offset %ld (%p) of the %s%zu-byte "
			       "block at %p, caught by a guard page\n",
			       v->access == MP_ACCESS_WRITE ? "write"
			       : v->access == MP_ACCESS_READ ? "read" : "access",
			       v->offset, (void *)v->addr,
			       v->kind == MP_E_USE_AFTER_FREE ? "freed " : "",
			       b->size, (void *)b->user);
		return;
	}
	switch (v->kind) {
	case MP_E_OVERFLOW:
	case MP_E_UNDERFLOW:
		_mp_out_printf(o, "%zu guard byte%s changed, first at offset %ld "
			       "(%p) of the %zu-byte block at %p",
			       v->count, v->count == 1 ? "" : "s", v->offset,
			       (void *)v->addr, b->size, (void *)b->user);
		if (v->kind == MP_E_OVERFLOW)
			_mp_out_printf(o, " (%ld byte%s after its end)\n",
				       v->offset - (long)b->size,
				       v->offset - (long)b->size == 1 ? "" : "s");
		else
			_mp_out_printf(o, " (%ld byte%s before its start)\n",
				       -v->offset, v->offset == -1 ? "" : "s");
		break;
	case MP_E_DOUBLE_FREE:
		_mp_out_printf(o, "%s(%p): the %zu-byte block at %p was already freed\n",
			       v->where, (void *)v->addr, b->size, (void *)b->user);
		break;
	case MP_E_INVALID_FREE:
		if (v->has_block)
			_mp_out_printf(o, "%s(%p): address is at offset %ld of the "
				       "%zu-byte block at %p, not its start\n",
				       v->where, (void *)v->addr, v->offset, b->size,
				       (void *)b->user);
		else
			_mp_out_printf(o, "%s(%p): address was not allocated by "
				       "this allocator (stack, global or wild pointer)\n",
				       v->where, (void *)v->addr);
		break;
	case MP_E_USE_AFTER_FREE:
		_mp_out_printf(o, "%zu byte%s written after free, first at offset "
			       "%ld (%p) of the %zu-byte block at %p\n",
			       v->count, v->count == 1 ? "" : "s", v->offset,
			       (void *)v->addr, b->size, (void *)b->user);
		break;
	case MP_E_ALLOC_DEALLOC_MISMATCH:
		_mp_out_printf(o, "%s(%p): the %zu-byte block at %p was allocated "
			       "by %s, freed by %s\n", v->where, (void *)v->addr,
			       b->size, (void *)b->user,
			       _mp_family_name(b->family), v->where);
		break;
	case MP_E_NEW_DELETE_TYPE_MISMATCH:
		mismatch_line(o, v);
		break;
	case MP_E_INVALID_ALIGNMENT: {
		int pow2 = v->arg && !(v->arg & (v->arg - 1));
		if (strstr(v->where, "delete") && !v->arg2) /* an unsized delete */
			_mp_out_printf(o, "%s(alignment %zu): ", v->where, v->arg);
		else
			_mp_out_printf(o, "%s(alignment %zu, size %zu): ", v->where,
				       v->arg, v->arg2);
		if (pow2 && !strcmp(v->where, "aligned_alloc")) /* memcheck 3.22 */
			_mp_out_str(o, "size is not a multiple of the alignment\n");
		else
			_mp_out_printf(o, "alignment is %s\n", pow2
				       ? "not a multiple of sizeof(void *) (8)"
				       : "not a power of two");
		break;
	}
	case MP_E_ALLOC_SIZE_ZERO:
		_mp_out_printf(o, "%s(alignment %zu, size 0): unsafe allocation "
			       "with size of zero (its result is "
			       "implementation-defined)\n", v->where, v->arg);
		break;
	case MP_E_FISHY_VALUE:
		_mp_out_printf(o, "%s(nmemb %zu, size %zu): argument '%s' has a "
			       "fishy (possibly negative) value: %ld\n", v->where,
			       v->arg, v->arg2, (long)v->arg < 0 ? "nmemb" : "size",
			       (long)v->arg < 0 ? (long)v->arg : (long)v->arg2);
		break;
	case MP_E_SIZE_TOO_BIG:
		_mp_out_printf(o, "%s(size %zu): requested size 0x%zx exceeds the "
			       "maximum allocation size 0x%zx", v->where, v->arg,
			       v->arg, v->arg2);
		if ((long)v->arg < 0)
			_mp_out_printf(o, " (a negative size: %ld)", (long)v->arg);
		else
			_mp_out_str(o, " (max_allocation_size)");
		_mp_out_str(o, "\n");
		break;
	case MP_E_CALLOC_OVERFLOW:
		_mp_out_printf(o, "%s(nmemb %zu, size %zu): nmemb * size overflows "
			       "size_t\n", v->where, v->arg, v->arg2);
		break;
	case MP_E_REALLOC_SIZE_ZERO:
		_mp_out_printf(o, "%s(%p, 0): size 0 frees the %zu-byte block at %p "
			       "and returns NULL\n", v->where, (void *)v->addr,
			       b->size, (void *)b->user);
		break;
	default:
		_mp_out_printf(o, "address %p\n", (void *)v->addr);
	}
}

static void locate_line(struct mp_out *o, const struct mp_verdict *v)
{
	_mp_report_prefix(o);
	locate_text(o, v);
}

void _mp_report_describe(const struct mp_verdict *v, char *buf, size_t cap)
{
	struct mp_out o;
	_mp_out_init(&o, MP_OUT_KEEP);
	locate_text(&o, v);
	size_t n = o.len && o.buf[o.len - 1] == '\n' ? o.len - 1 : o.len;
	if (cap == 0)
		return;
	if (n >= cap)
		n = cap - 1;
	__builtin_memcpy(buf, o.buf, n);
	buf[n] = '\0';
}

int _mp_report_site(const struct mp_verdict *v, char *buf, size_t cap)
{
	int late = v->count && v->has_block && v->blk.alloc_stack &&
		   (v->kind == MP_E_OVERFLOW || v->kind == MP_E_UNDERFLOW ||
		    v->kind == MP_E_USE_AFTER_FREE);
	if (!late || _mp_tls.raw_stacks)
		return -1;
	return _mp_gp_site_key(v->blk.alloc_stack, v->kind == MP_E_UNDERFLOW
				       ? MP_GP_UNDER : MP_GP_OVER, buf, cap);
}

/* Damage found after the fact (guard or poison bytes changed): one line on
 * how to have the bad access itself reported. */
static void locate_hint(struct mp_out *o, const struct mp_verdict *v)
{
	char key[MP_SITE_KEY_MAX];
	if (!v->count || (v->kind != MP_E_OVERFLOW && v->kind != MP_E_UNDERFLOW &&
			  v->kind != MP_E_USE_AFTER_FREE))
		return;
	_mp_report_prefix(o);
	if (_mp_report_site(v, key, sizeof key) != 0) {
		_mp_out_str(o, "  to find the access: rerun with MPWRAP_OPTIONS="
			    "guard_page_rate=1 (no allocation site to target)\n");
		return;
	}
	_mp_out_str(o, "  to find the access: mpcheck --locate, or rerun with "
		    "MPWRAP_OPTIONS=guard_page_sites=");
	_mp_out_safe_str(o, key);
	_mp_out_str(o, v->kind == MP_E_USE_AFTER_FREE
			       ? " (also catches reads after free)\n" : "\n");
}

/* exit.c, in libmpwrap.so only */
/* abort_on_error: what runs instead of abort() (the preload's exit report
 * registers it); without it (libmempool.a) the process aborts at once. */
static void (*_Atomic abort_hook)(void);

void _mp_report_on_abort(void (*hook)(void))
{
	atomic_store(&abort_hook, hook);
}

static void report_error_deep(void *given);

void _mp_report_error(const struct mp_verdict *given)
{
	atomic_fetch_add(&nerrors, 1);
	if (in_report) /* an error met while writing a report: count only */
		return;
	/* locating, symbolizing and printing go deeper than a small thread's
	 * stack (the stacks in the report were captured already) */
	_mp_deep_call(report_error_deep, (void *)given);
	if (_mp_opt.abort_on_error) {
		/* the preload library writes the leak report and the JSON
		 * file first (abort() in here lost them) */
		void (*hook)(void) = atomic_load(&abort_hook);
		if (!hook)
			abort();
		hook(); /* returns when a report in progress (exit, fatal
			 * signal) ends it */
	}
}

static void report_error_deep(void *given_)
{
	const struct mp_verdict *given = given_;
	in_report = 1;
	/* located now, before the report lock: the stack or frame an address
	 * points into may be gone by the time the JSON is written */
	struct mp_verdict located = *given;
	const struct mp_verdict *v = &located;
	if (!_mp_tls.raw_stacks)
		_mp_locate(&located);
	struct mp_out o;
	_mp_report_begin(&o);
	if (errlog_len < ERRLOG_MAX)
		errlog[errlog_len++] = *v;
	_mp_report_prefix(&o);
	_mp_out_printf(&o, "ERROR: %s\n", _mp_err_name(v->kind));
	locate_line(&o, v);
	if (v->loc[0]) {
		_mp_report_prefix(&o);
		_mp_out_safe_str(&o, v->loc);
		_mp_out_str(&o, "\n");
	}
	_mp_report_prefix(&o);
	if (v->sweep)
		_mp_out_printf(&o, "  detected by the %s check\n", v->where);
	else
	_mp_out_printf(&o, "  %s %s:\n",
		       v->kind == MP_E_USE_AFTER_FREE ||
				       v->kind == MP_E_OVERFLOW ||
				       v->kind == MP_E_UNDERFLOW
			       ? "detected by"
			       : "bad call to",
		       v->where);
	if (!v->sweep)
		_mp_report_stack(&o, v->access_stack);
	if (v->has_block) {
		_mp_report_prefix(&o);
		_mp_out_str(&o, "  allocated by:\n");
		_mp_report_stack(&o, v->blk.alloc_stack);
		if (v->blk.state == MP_ST_QUAR || v->blk.state == MP_ST_FREED) {
			_mp_report_prefix(&o);
			_mp_out_printf(&o, "  %s:\n", v->kind == MP_E_DOUBLE_FREE
							      ? "first freed by"
							      : "freed by");
			_mp_report_stack(&o, v->blk.free_stack);
		}
	}
	locate_hint(&o, v);
	_mp_report_prefix(&o);
	_mp_out_str(&o, "\n");
	_mp_report_end(&o);
	in_report = 0;
}

size_t _mp_report_error_count(void) { return atomic_load(&nerrors); }

size_t _mp_report_error_log(const struct mp_verdict **log)
{
	*log = errlog;
	return errlog_len;
}

void _mp_report_reset(void)
{
	pthread_mutex_lock(&report_lock);
	errlog_len = 0;
	atomic_store(&nerrors, 0);
	if (log_copy.fd >= 0)
		close(log_copy.fd);
	log_copy.fd = -1;
	log_refused = 0;
	pthread_mutex_unlock(&report_lock);
}

/* The report lock takes no part in fork: a thread writing a report may be
 * waiting in the symbolizer's loader gate for the fork to end, so fork may
 * not wait for it.  In the child, where that thread does not exist, the
 * lock is made new; the error log it may have been appending to keeps at
 * worst one entry half-written. */
void _mp_report_fork_child(void)
{
	pthread_mutex_init(&report_lock, NULL);
}
