/* out.c - malloc-free formatter and writer.
 *
 * The report writer sits on this; so do option warnings.  Output goes into a
 * fixed buffer and out through write(2) only, so it works inside malloc, on
 * a corrupted heap and in a signal handler.  errno is preserved.
 */
#include "out.h"
#include "mpassert.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* SIGXFSZ: a write past RLIMIT_FSIZE (`ulimit -f`) raises it, and its
 * default action kills the program (status 153, the report lost, a
 * temporary file left).  The library's writes block it on this thread (the
 * kernel directs it at the writing thread) and take back the one their
 * write raised, so the failure is an EFBIG like any other.  A SIGXFSZ the
 * program had pending itself (it blocks the signal) stays pending. */
int _mp_write_some(int fd, const void *buf, size_t n, size_t *done, int *err)
{
	const char *p = buf;
	int saved = errno, rc = 0;
	sigset_t xfsz, old, pend;
	sigemptyset(&xfsz);
	sigaddset(&xfsz, SIGXFSZ);
	pthread_sigmask(SIG_BLOCK, &xfsz, &old);
	int had = sigismember(&old, SIGXFSZ) && sigpending(&pend) == 0 &&
		  sigismember(&pend, SIGXFSZ);
	*done = 0;
	*err = 0;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			*err = errno;
			rc = -1;
			break;
		}
		p += w;
		n -= (size_t)w;
		*done += (size_t)w;
	}
	if (*err == EFBIG && !had && sigpending(&pend) == 0 &&
	    sigismember(&pend, SIGXFSZ)) {
		/* raw: sigtimedwait is a cancellation point */
		struct timespec zero = { 0, 0 };
		syscall(SYS_rt_sigtimedwait, &xfsz, NULL, &zero, _NSIG / 8);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return rc;
}

int _mp_write_all(int fd, const void *buf, size_t n)
{
	size_t done;
	int err;
	return _mp_write_some(fd, buf, n, &done, &err);
}

unsigned _mp_lowfd_hold(void)
{
	unsigned held = 0;
	int saved = errno;
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		/* raw system calls: open() and close() are cancellation
		 * points, and this runs inside malloc and free */
		int got = (int)syscall(SYS_openat, AT_FDCWD, "/dev/null",
				       O_RDONLY | O_CLOEXEC);
		if (got == fd)
			held |= 1u << fd;
		else if (got >= 0) /* another thread took fd meanwhile */
			syscall(SYS_close, got);
	}
	errno = saved;
	return held;
}

void _mp_lowfd_release(unsigned held)
{
	int saved = errno;
	struct stat st;
	for (int fd = 0; fd <= 2; fd++) {
		/* still ours: close-on-exec /dev/null (a dup2 onto the number
		 * by the program meanwhile clears close-on-exec) */
		if ((held & (1u << fd)) && fcntl(fd, F_GETFD) == FD_CLOEXEC &&
		    fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) &&
		    st.st_rdev == makedev(1, 3))
			syscall(SYS_close, fd);
	}
	errno = saved;
}

void _mp_out_init(struct mp_out *o, int fd)
{
	o->fd = fd;
	o->len = 0;
	o->failed = 0;
	o->err = 0;
	o->on_fail = NULL;
	o->ctx = NULL;
	o->tee = NULL;
}

const char *_mp_base_name(const char *p)
{
	const char *b = p;
	for (; *p; p++)
		if (*p == '/')
			b = p + 1;
	return b;
}

void _mp_out_flush(struct mp_out *o)
{
	if (o->fd == MP_OUT_KEEP) /* a string being built: the head stays */
		return;
	size_t done = 0;
	int err;
	if (o->tee && *o->tee_len < o->tee_cap) {
		size_t n = o->tee_cap - *o->tee_len;
		n = n < o->len ? n : o->len;
		__builtin_memcpy(o->tee + *o->tee_len, o->buf, n);
		*o->tee_len += n;
	}
	if (o->len && o->fd >= 0 && !o->failed &&
	    _mp_write_some(o->fd, o->buf, o->len, &done, &err) != 0) {
		o->err = err;
		/* once: the sink says so and may name another for the rest */
		int (*fail)(struct mp_out *) = o->on_fail;
		o->on_fail = NULL;
		int alt = fail ? fail(o) : -1;
		/* the other sink starts at the line the cut fell in: whole
		 * lines there (the file may end in half of it) */
		size_t from = done, more;
		while (from > 0 && o->buf[from - 1] != '\n')
			from--;
		if (alt >= 0 && _mp_write_some(alt, o->buf + from, o->len - from,
					       &more, &err) == 0)
			o->fd = alt;
		else
			o->failed = 1;
	}
	o->len = 0;
}

void _mp_out_mem(struct mp_out *o, const char *s, size_t n)
{
	while (n > 0) {
		if (o->len == MP_OUT_BUF) {
			_mp_out_flush(o);
			if (o->len) /* MP_OUT_KEEP: full, the rest is cut */
				return;
		}
		size_t room = MP_OUT_BUF - o->len;
		size_t k = n < room ? n : room;
		memcpy(o->buf + o->len, s, k);
		o->len += k;
		s += k;
		n -= k;
	}
}

void _mp_out_str(struct mp_out *o, const char *s)
{
	_mp_out_mem(o, s ? s : "(null)", s ? strlen(s) : 6);
}

static void put_char(struct mp_out *o, char c)
{
	if (o->len == MP_OUT_BUF) {
		_mp_out_flush(o);
		if (o->len) /* MP_OUT_KEEP: full */
			return;
	}
	o->buf[o->len++] = c;
}

static const char hexdig[] = "0123456789abcdef";

static void put_escaped(struct mp_out *o, unsigned char c)
{
	char e[4] = { '\\', 'x', hexdig[c >> 4], hexdig[c & 15] };
	_mp_out_mem(o, e, 4);
}

void _mp_out_safe_str(struct mp_out *o, const char *s)
{
	if (!s) {
		_mp_out_str(o, "(null)");
		return;
	}
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f)
			put_escaped(o, c);
		else
			put_char(o, (char)c);
	}
}

void _mp_out_json_str(struct mp_out *o, const char *s)
{
	if (!s) {
		_mp_out_str(o, "null");
		return;
	}
	put_char(o, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			put_char(o, '\\');
			put_char(o, (char)c);
		} else if (c < 0x20 || c == 0x7f) {
			char e[6] = { '\\', 'u', '0', '0', hexdig[c >> 4], hexdig[c & 15] };
			_mp_out_mem(o, e, 6);
		} else {
			put_char(o, (char)c);
		}
	}
	put_char(o, '"');
}

/* Render an unsigned number in `base` right-aligned into tmp; returns start. */
static char *utoa(char *end, unsigned long long v, unsigned base)
{
	char *p = end;
	do {
		*--p = hexdig[v % base];
		v /= base;
	} while (v);
	return p;
}

static void put_padded(struct mp_out *o, const char *s, size_t n, int width,
		       int left)
{
	int pad = width > (int)n ? width - (int)n : 0;
	if (!left)
		while (pad-- > 0)
			put_char(o, ' ');
	_mp_out_mem(o, s, n);
	if (left)
		while (pad-- > 0)
			put_char(o, ' ');
}

void _mp_out_vprintf(struct mp_out *o, const char *fmt, va_list ap)
{
	char tmp[32];
	for (const char *f = fmt; *f; f++) {
		if (*f != '%') {
			put_char(o, *f);
			continue;
		}
		f++;
		int left = 0, width = 0, prec = -1, lng = 0, sz = 0;
		if (*f == '-') {
			left = 1;
			f++;
		}
		while (*f >= '0' && *f <= '9')
			width = width * 10 + (*f++ - '0');
		if (*f == '.' && f[1] == '*') {
			prec = va_arg(ap, int);
			f += 2;
		}
		while (*f == 'l') {
			lng++;
			f++;
		}
		if (*f == 'z') {
			sz = 1;
			f++;
		}
		char *end = tmp + sizeof tmp;
		switch (*f) {
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			size_t n = strlen(s);
			if (prec >= 0 && (size_t)prec < n)
				n = (size_t)prec;
			put_padded(o, s, n, width, left);
			break;
		}
		case 'c':
			put_char(o, (char)va_arg(ap, int));
			break;
		case 'd':
		case 'i': {
			long long v = sz ? (long long)va_arg(ap, ssize_t)
			    : lng >= 2 ? va_arg(ap, long long)
			    : lng == 1 ? va_arg(ap, long) : va_arg(ap, int);
			unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v
						     : (unsigned long long)v;
			char *p = utoa(end, u, 10);
			if (v < 0)
				*--p = '-';
			put_padded(o, p, (size_t)(end - p), width, left);
			break;
		}
		case 'u':
		case 'x': {
			unsigned long long v = sz ? va_arg(ap, size_t)
			    : lng >= 2 ? va_arg(ap, unsigned long long)
			    : lng == 1 ? va_arg(ap, unsigned long)
				       : va_arg(ap, unsigned);
			char *p = utoa(end, v, *f == 'x' ? 16 : 10);
			put_padded(o, p, (size_t)(end - p), width, left);
			break;
		}
		case 'p': {
			uintptr_t v = (uintptr_t)va_arg(ap, void *);
			char *p = utoa(end, v, 16);
			*--p = 'x';
			*--p = '0';
			put_padded(o, p, (size_t)(end - p), width, left);
			break;
		}
		case '%':
			put_char(o, '%');
			break;
		default: /* unknown conversion: print it verbatim */
			put_char(o, '%');
			if (*f)
				put_char(o, *f);
			else
				f--;
		}
	}
}

void _mp_out_printf(struct mp_out *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	_mp_out_vprintf(o, fmt, ap);
	va_end(ap);
}

size_t _mp_snprintf(char *dst, size_t cap, const char *fmt, ...)
{
	/* Format into an mp_out that keeps its first MP_OUT_BUF bytes and
	 * copy what fits. */
	struct mp_out o;
	_mp_out_init(&o, MP_OUT_KEEP);
	va_list ap;
	va_start(ap, fmt);
	_mp_out_vprintf(&o, fmt, ap);
	va_end(ap);
	if (cap == 0)
		return 0;
	size_t n = o.len < cap - 1 ? o.len : cap - 1;
	memcpy(dst, o.buf, n);
	dst[n] = '\0';
	return n;
}

/* MP_CHECK's failure (mpassert.h): the pool's own state is wrong, and
 * nothing it would do next can be trusted.  Straight to descriptor 2: the
 * report sink lives above this layer and may be what broke. */
void _mp_invariant_failed(const char *expr, const char *file, int line)
{
	struct mp_out o;
	_mp_out_init(&o, STDERR_FILENO);
	_mp_out_printf(&o, "==%d== mpwrap: internal error: invariant '%s' "
		       "failed at %s:%d; aborting\n", (int)getpid(), expr,
		       _mp_base_name(file), line);
	_mp_out_flush(&o);
	abort();
}

/* A string of bytes as JSON, every byte a code point of its own (bytes
 * 0x80..0xff as \u0080..\u00ff): an argument or variable that is not UTF-8
 * comes back byte for byte (Python: s.encode("latin-1")). */
void _mp_out_json_bytes(struct mp_out *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	_mp_out_str(o, "\"");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };
			_mp_out_mem(o, e, 2);
		} else if (c < 0x20 || c >= 0x7f) {
			char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			_mp_out_mem(o, e, 6);
		} else {
			_mp_out_mem(o, (const char *)&c, 1);
		}
	}
	_mp_out_str(o, "\"");
}

/* NUL-separated strings (n bytes) as a JSON list. */
void _mp_out_json_nul_list(struct mp_out *o, const char *s, ssize_t n)
{
	_mp_out_str(o, "[");
	for (ssize_t i = 0, first = 1; i < n; first = 0) {
		size_t len = strnlen(s + i, (size_t)(n - i));
		if (!first)
			_mp_out_str(o, ",");
		_mp_out_json_bytes(o, s + i, len);
		i += (ssize_t)len + 1;
	}
	_mp_out_str(o, "]");
}
