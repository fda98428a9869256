/* report.h - the one module that words every report (verdicts: verdict.h). */
#ifndef MP_REPORT_H
#define MP_REPORT_H

#include "block.h"
#include "verdict.h"
#include "out.h"
#include "symbolize.h"

/* The function family that allocated a block: "malloc", "operator new[]",
 * ... (enum mp_family). */
const char *_mp_family_name(unsigned family);

const char *_mp_err_name(enum mp_err k);

/* abort_on_error: after an error report, hook runs instead of abort()
 * (the preload's exit report writes the leak report and JSON, then
 * aborts itself).  Registered once at start. */
void _mp_report_on_abort(void (*hook)(void));

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

/* The one frame printer: walks depot stack `id`, symbolizes each frame
 * (raw program counters when this thread died inside the allocator or the
 * loader is unusable), stops where _mp_report_frame_end says, and hands
 * each frame shown to fn (function "" when unknown).  The text report
 * and the JSON report both print through it.  Returns the frames shown. */
typedef void (*mp_frame_fn)(void *ctx, unsigned i, uintptr_t pc,
			    const struct mp_symbol *sym);
unsigned _mp_report_frames(uint32_t id, mp_frame_fn fn, void *ctx);

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
/* This thread is writing a report (a fatal signal met there must not wait
 * for the report lock, nor trust the symbolizer). */
int _mp_report_inside(void);

/* Errors reported so far, and the recorded verdicts (bounded log). */
size_t _mp_report_error_count(void);
size_t _mp_report_error_log(const struct mp_verdict **log);

/* Room for an expanded report path: the starting directory (relative
 * templates are put under it), the template and the pid. */
#define MP_REPORT_PATH (MP_PATH_MAX * 3 + 32)

/* Copy a report path template, %p replaced by the pid; a relative one is
 * put under the directory the program started in. */
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

/* sink.c, report lock held: open the text sink (log_path or the stderr
 * copy) into *o; forget log_path's descriptor (reopened when next used). */
void _mp_report_sink_open(struct mp_out *o);
void _mp_report_sink_reset(void);

/* Stack capture's notes: a compare-mode mismatch (registered with
 * _mp_stack_on_mismatch), and at exit the unwinder=2 counts or, with
 * verbosity=2, the fast walker's statistics: one line each. */
void _mp_report_unwind_mismatch(unsigned k, const uintptr_t *fast, unsigned nf,
				const uintptr_t *ref, unsigned nr);
void _mp_report_unwinder_note(void);
/* The stack depot cannot store another stack (no address space left, or
 * its maximum reached): one line, said once per process. */
void _mp_report_depot_full(void);

/* The leak report at exit (leakreport.c): the groups of the kinds listed
 * (show_reachable), at most max_leak_groups of them, then LEAK SUMMARY;
 * or the one line of a clean process (verbosity=1); then ERROR SUMMARY. */
struct mp_leak_set;
struct mp_check_info;
void _mp_report_leaks(const struct mp_leak_set *ls, const struct mp_check_info *ci);
/* unscanned: why no leak check ran ("detect_leaks=0"), NULL when one did */
void _mp_report_clean(const struct mp_leak_set *ls, const char *unscanned);
void _mp_report_error_summary(size_t errors);

/* mp_dump_leaks: every live block of ls (grouped by allocation stack,
 * largest group first, _mp_leaks_collect), then a total line; with scope,
 * under a title naming it (mp_scope_end in libmempool.a). */
void _mp_report_live_blocks(const struct mp_leak_set *ls, const char *scope);

/* While on, the text reports written are also kept (the first 64 KiB; on
 * starts anew): mp_scope_end's, for mp_scope_report. */
void _mp_report_capture(int on);
/* The kept text's length; copied into buf (NUL-terminated) when given. */
size_t _mp_report_captured(char *buf, size_t cap);
/* mp_dump_stats: the statistics st holds (stats.c reads them). */
struct mp_stats;
void _mp_report_stats(const struct mp_stats *st);

/* The program dies of signal sig: one line ("dying of SIGSEGV (11) at
 * address A" for a fault, "sent by pid P" for a sent one, "inside the
 * allocator" when the scan is skipped), then the stack it was raised at
 * (raised_at, 0: none printed). */
/* in_pool: 1 inside the allocator, 2 inside a report of this thread's */
void _mp_report_dying(int sig, const void *fault_addr, int sender, int in_pool,
		      uint32_t raised_at);

/* One warning line: a misused interface call (LSan's) was ignored; p is
 * the address it was given (NULL: none). */
void _mp_report_misuse(const char *what, const void *p);
/* One warning line: leak_check_signal is the program's own (handled or
 * ignored): no checks on it. */
void _mp_report_check_signal_taken(int sig);

/* One line: the program's __lsan_is_turned_off() said no leak check. */
void _mp_report_lsan_off(void);

/* What this process's report cannot vouch for: the checker is inactive
 * (another allocator's malloc is the one the program calls), or no leak
 * check ran (the program died inside the allocator).  Set once, the first
 * reason kept; said in one line by the exit report (_mp_report_unchecked)
 * and in the JSON file ("unchecked": {"reason", "why"}), which mpcheck
 * fails.  reason and why must be static strings (why may be copied). */
void _mp_report_set_unchecked(const char *reason, const char *why);
const char *_mp_report_unchecked_reason(void);
const char *_mp_report_unchecked_why(void);
void _mp_report_unchecked(void);

/* One line before abort_on_error aborts the process. */
void _mp_report_abort_note(void);

/* Forget the error log (mp_destroy) and reopen sinks after fork. */
void _mp_report_reset(void);
/* In a forked child: the report lock is made new (it is not held across
 * fork, see report.c). */
void _mp_report_fork_child(void);

#endif
