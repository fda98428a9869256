/* report.h - verdicts and the one module that words every report. */
#ifndef MP_REPORT_H
#define MP_REPORT_H

#include "block.h"
#include "out.h"
#include "symbolize.h"

enum mp_err {
	MP_E_NONE = 0,
	MP_E_OVERFLOW,      /* heap-buffer-overflow: rear guard changed */
	MP_E_UNDERFLOW,     /* heap-buffer-underflow: front guard changed */
	MP_E_DOUBLE_FREE,
	MP_E_INVALID_FREE,  /* not ours, interior, never allocated */
	MP_E_USE_AFTER_FREE,/* poison of a freed block changed */
	MP_E_ALLOC_DEALLOC_MISMATCH,   /* freed by another family */
	MP_E_NEW_DELETE_TYPE_MISMATCH, /* sized/aligned delete disagrees */
	/* argument errors: found at the call, no block involved */
	MP_E_INVALID_ALIGNMENT,  /* arg = alignment, arg2 = size */
	MP_E_SIZE_TOO_BIG,       /* arg = size, arg2 = the maximum */
	MP_E_CALLOC_OVERFLOW,    /* arg = nmemb, arg2 = size */
	MP_E_REALLOC_SIZE_ZERO,  /* realloc(p, 0), option realloc_size_zero */
	MP_E_KINDS
};

#define MP_LOC_MAX 200

enum { MP_ACCESS_READ = 1, MP_ACCESS_WRITE = 2 };

/* What detection found; the report module turns it into words. */
struct mp_verdict {
	enum mp_err kind;
	uintptr_t addr;        /* pointer passed, or first damaged byte */
	int has_block;         /* blk describes the block involved */
	struct mp_block blk;
	long offset;           /* addr - blk.user */
	size_t count;          /* damaged bytes (guard/poison kinds) */
	uint32_t access_stack; /* where the bad call / detection happened */
	const char *where;     /* "free", "realloc", "mp_check", ... */
	int sweep;             /* found by a check of its own (exit, eviction),
				* not during a call of the program */
	/* new-delete-type-mismatch: arg = size passed when arg_sized, arg2 =
	 * alignment passed (0: none); argument errors: see enum mp_err */
	int arg_sized;
	size_t arg, arg2;
	/* caught at the access by a guard page: MP_ACCESS_READ or _WRITE
	 * (0: unknown, or not caught at the access) */
	int access;
	/* where addr points, in words (locate.c), filled when reported */
	int loc_kind;
	char loc[MP_LOC_MAX];
};

/* The function family that allocated a block: "malloc", "operator new[]",
 * ... (enum mp_family). */
const char *_mp_family_name(unsigned family);

const char *_mp_err_name(enum mp_err k);

/* Build a verdict; b may be NULL when the address is in no block. */
struct mp_verdict _mp_verdict(enum mp_err kind, uintptr_t addr,
			      const struct mp_block *b, long offset, size_t count,
			      uint32_t access_stack, const char *where);

/* Print one error report, count it, remember it for the JSON report, and
 * abort if abort_on_error.  No pool lock may be held. */
void _mp_report_error(const struct mp_verdict *v);

/* Damage found late (guard or poison bytes changed): the guard_page_sites
 * entry that targets its allocation site into buf; -1 for other errors or
 * when the site cannot be named.  Report time (it symbolizes). */
int _mp_report_site(const struct mp_verdict *v, char *buf, size_t cap);

/* The locating line of v's report (no prefix, no newline) into buf, for
 * the JSON report. */
void _mp_report_describe(const struct mp_verdict *v, char *buf, size_t cap);

/* Print frames of depot stack `id`, one per line, with the pid prefix. */
void _mp_report_stack(struct mp_out *o, uint32_t id);

/* Where a printed stack ends, for the text and JSON printers alike: after
 * main (MP_FRAME_LAST), or before the thread trampoline of ours that called
 * a thread's start routine (MP_FRAME_BEYOND: it and what is below it are
 * ours and glibc's).  Frame #0 is always printed. */
enum { MP_FRAME_PRINT, MP_FRAME_LAST, MP_FRAME_BEYOND };
int _mp_report_frame_end(const struct mp_symbol *sym);

/* One line, once per process: dlopen's RTLD_DEEPBIND was dropped (it
 * would bind the library's malloc and free to glibc's). */
void _mp_report_deepbind(const char *file);

/* One line: this forked child's loader is locked for good, no report. */
void _mp_report_loader_stuck(void);

/* What kept a reachable or possibly lost group (leaks.h: mp_keeper), in
 * words: one line "  kept reachable by the global g in prog (word at ..)"
 * or "  reached only through an interior pointer, by ..." (kind is the
 * group's leak kind).  The facts behind it, for the JSON report. */
struct mp_keeper;
struct mp_keeper_facts {
	const char *root;       /* "global", "stack", "register", ... */
	const char *reg;        /* register name, or NULL */
	int main_thread;        /* the thread is the main one */
	struct mp_symbol sym;   /* GLOBAL: the data symbol and its module */
};
void _mp_report_keeper(struct mp_out *o, const struct mp_keeper *k, int kind);
void _mp_report_keeper_facts(const struct mp_keeper *k,
			     struct mp_keeper_facts *f);

/* Line prefix "==PID== " */
void _mp_report_prefix(struct mp_out *o);

/* Open the text report sink (log_path or stderr) into *o; serialises
 * writers: pair with _mp_report_end. */
void _mp_report_begin(struct mp_out *o);
void _mp_report_end(struct mp_out *o);

/* Errors reported so far, and the recorded verdicts (bounded log). */
size_t _mp_report_error_count(void);
size_t _mp_report_error_log(const struct mp_verdict **log);

/* Copy a report path template, %p replaced by the pid. */
void _mp_expand_path(char *dst, size_t cap, const char *tmpl);

/* Take a private copy of stderr (start-up): every text report and notice
 * goes there (or to log_path), never to descriptor 2 itself, which the
 * program may close and reuse. */
void _mp_report_init(void);
/* That copy while it still is the file it was (-1: closed or reused by the
 * program, or stderr was closed at start: nothing is written). */
int _mp_report_stderr(void);

/* Report files (log_path, json_path) are only regular files of this
 * user's: why the file st describes is not one (NULL: it is), and an open
 * error in words.  buf holds the text when it needs numbers. */
struct stat;
const char *_mp_report_file_unsafe(const struct stat *st, char *buf, size_t cap);
const char *_mp_report_errno_text(int e, char *buf, size_t cap);
/* One line on the original stderr: "==PID== mpwrap: WHAT 'PATH': WHY; THEN" */
void _mp_report_notice(const char *what, const char *path, const char *why,
		       const char *then);

/* Forget the error log (mp_destroy) and reopen sinks after fork. */
void _mp_report_reset(void);
/* In a forked child: the report lock is made new (it is not held across
 * fork, see report.c). */
void _mp_report_fork_child(void);

#endif
