/* out.h - malloc-free formatting and writing (bottom layer).
 *
 * Reports are produced from inside the allocator, possibly on a corrupted
 * heap, so nothing here may call malloc or stdio: text is formatted into a
 * caller-owned fixed buffer and written with write(2).
 */
#ifndef MP_OUT_H
#define MP_OUT_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h> /* ssize_t */
#include <stdint.h>

#define MP_OUT_BUF 8192

/* fd of an mp_out that only builds a string: a full buffer is never
 * flushed, later output is dropped (the text keeps its first bytes). */
#define MP_OUT_KEEP (-2)

struct mp_out {
	int fd;         /* -1: discard; MP_OUT_KEEP: keep the first bytes */
	size_t len;     /* bytes pending in buf */
	int failed;     /* a write failed; later output is dropped */
	int err;        /* errno of the first failed write (EFBIG: ulimit -f) */
	/* called once when a write fails: says so, returns a descriptor for
	 * the rest (the text report's stderr) or -1 */
	int (*on_fail)(struct mp_out *o);
	void *ctx;      /* for on_fail */
	/* a copy of what is flushed, while set (a scope's report for
	 * mp_scope_report): the first tee_cap bytes */
	char *tee;
	size_t tee_cap, *tee_len;
	char buf[MP_OUT_BUF];
};

void _mp_out_init(struct mp_out *o, int fd);
/* Minimal printf: %s %c %d %i %u %x %p %% with l/ll/z modifiers, and the
 * precision forms %.*s and width %Nd/%-Ns for tables. */
void _mp_out_printf(struct mp_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void _mp_out_vprintf(struct mp_out *o, const char *fmt, va_list ap);
void _mp_out_str(struct mp_out *o, const char *s);
void _mp_out_mem(struct mp_out *o, const char *s, size_t n);
/* A JSON string literal with quotes; control bytes escaped. NULL -> null. */
void _mp_out_json_str(struct mp_out *o, const char *s);
/* n bytes as a JSON string, every byte a code point of its own (0x80..0xff
 * as \u0080..\u00ff): what is not UTF-8 comes back byte for byte */
void _mp_out_json_bytes(struct mp_out *o, const char *s, size_t n);
/* NUL-separated strings (n bytes: argv, environ) as a JSON list */
void _mp_out_json_nul_list(struct mp_out *o, const char *s, ssize_t n);
/* Write text for a human: control characters escaped as \xNN. */
void _mp_out_safe_str(struct mp_out *o, const char *s);
void _mp_out_flush(struct mp_out *o);

/* The last component of a path (module columns and location lines). */
const char *_mp_base_name(const char *path);

/* write(2) all of buf, retrying on EINTR and short writes. 0 or -1.
 * Never raises SIGXFSZ: past `ulimit -f` it fails with EFBIG. */
int _mp_write_all(int fd, const void *buf, size_t n);
/* The same, saying how much was written and the errno of the failure
 * (errno itself is kept). */
int _mp_write_some(int fd, const void *buf, size_t n, size_t *done, int *err);

/* Descriptors 0, 1 and 2 that the program has closed, held open on
 * /dev/null (close-on-exec) while a library of ours may open files (libdw
 * reading a module): its descriptors then land above them instead of
 * silently taking the number the program's next open() would get, or the
 * one a report would be written to.  Returns what to pass to release. */
unsigned _mp_lowfd_hold(void);
void _mp_lowfd_release(unsigned held);

/* snprintf into a fixed buffer; always NUL-terminates. */
size_t _mp_snprintf(char *dst, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
