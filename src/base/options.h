/* options.h - run-time options, parsed once from MPWRAP_OPTIONS.
 *
 * MP_OPTION_LIST below holds each option's name, default, range and help;
 * the struct and the parser's table (options.c) are generated from it.
 * A bad key or value is one warning line; the default is kept.
 */
#ifndef MP_OPTIONS_H
#define MP_OPTIONS_H

#include <stddef.h>

#define MP_PATH_MAX 512
#define MP_MAX_DEPTH 64

/* leak kinds as bits, for leak_kinds */
enum {
	MP_LEAK_DEFINITE = 1,
	MP_LEAK_INDIRECT = 2,
	MP_LEAK_POSSIBLE = 4,
	MP_LEAK_REACHABLE = 8,
};

/* memcheck's leak heuristics (leak_heuristics): an interior pointer of one
 * of these shapes keeps a block reachable, as a start pointer would */
enum {
	MP_HEUR_STDSTRING = 1,
	MP_HEUR_LENGTH64 = 2,
	MP_HEUR_NEWARRAY = 4,
	MP_HEUR_MULTIPLEINHERITANCE = 8,
	MP_HEUR_N = 4,
};

/* Every option, once: X(name, field, type, default, min, max, help).
 * The struct, the parser's table and the help text are generated from it.
 * Types: INT (min..max), KINDS (leak kinds), HEURS (leak heuristics),
 * SIDE (over/under: a 0/1 field), PATH (a path template, %p = pid),
 * SIGNAL (SIGUSR2, USR2 or a number; off), MODE (all/new),
 * SITES (allocation sites, parsed into gpsites.c's table; the field says
 * whether any was given). */
#define MP_OPTION_LIST(X) \
	X(stack_depth, stack_depth, INT, 10, 0, MP_MAX_DEPTH, \
	  "frames recorded per allocation (0 disables stacks)") \
	X(free_stack_depth, free_stack_depth, INT, -1, -1, MP_MAX_DEPTH, \
	  "frames recorded per free, at most stack_depth (-1: stack_depth; " \
	  "1: the freeing call only, taken without a walk)") \
	X(exitcode, exitcode, INT, 0, 0, 255, \
	  "exit status when errors or gated leaks were found (0: keep the program's)") \
	X(report_at_exit, report_at_exit, INT, 1, 0, 1, \
	  "print errors summary and leak report when the program exits") \
	X(detect_leaks, detect_leaks, INT, 1, 0, 1, \
	  "look for leaks at exit") \
	X(leak_check_at_exit, leak_check_at_exit, INT, 1, 0, 1, \
	  "LeakSanitizer's: the leak check at exit (0: only an explicit " \
	  "__lsan_do_leak_check or mp_leak_check checks; errors are still reported)") \
	X(use_globals, use_globals, INT, 1, 0, 1, \
	  "LeakSanitizer's: root set includes global variables (.data, .bss)") \
	X(use_stacks, use_stacks, INT, 1, 0, 1, \
	  "LeakSanitizer's: root set includes thread stacks") \
	X(use_registers, use_registers, INT, 1, 0, 1, \
	  "LeakSanitizer's: root set includes thread registers") \
	X(use_tls, use_tls, INT, 1, 0, 1, \
	  "LeakSanitizer's: root set includes TLS and thread-specific data") \
	X(use_root_regions, use_root_regions, INT, 1, 0, 1, \
	  "LeakSanitizer's: root set includes __lsan_register_root_region regions") \
	X(abort_on_error, abort_on_error, INT, 0, 0, 1, \
	  "after the first error report, write the leak report and JSON, then abort()") \
	X(quarantine_mb, quarantine_mb, INT, -1, -1, 65536, \
	  "MiB of freed blocks held back from reuse (double free, use after free); " \
	  "auto (-1): 2 MiB + the peak live heap, at most 64") \
	X(thread_cache, thread_cache, INT, 1, 0, 1, \
	  "per-thread caches of free slots: an allocation takes no lock (0: " \
	  "every slot goes through its class lock)") \
	X(show_reachable, show_reachable, INT, 0, 0, 1, \
	  "list still-reachable blocks with their stacks") \
	X(leak_kinds, leak_kinds, KINDS, MP_LEAK_DEFINITE | MP_LEAK_INDIRECT, 0, 0, \
	  "leak kinds that count for exitcode: definite,indirect,possible,reachable,all") \
	X(leak_heuristics, leak_heuristics, HEURS, MP_HEUR_STDSTRING | \
	  MP_HEUR_LENGTH64 | MP_HEUR_NEWARRAY | MP_HEUR_MULTIPLEINHERITANCE, 0, 0, \
	  "interior pointers that keep a block reachable, as memcheck's: " \
	  "stdstring,length64,newarray,multipleinheritance,all,none") \
	X(max_leak_groups, max_leak_groups, INT, 1000, 0, 1000000000, \
	  "leak groups listed with stacks in the text report (0: all; the JSON " \
	  "lists every group of its kinds)") \
	X(check_every, check_every, INT, 0, 0, 1000000000, \
	  "validate every guard and quarantined block every N allocator calls") \
	X(guard_page_rate, guard_page_rate, INT, 0, 0, 1000000000, \
	  "one allocation in N sits against an inaccessible page (0: off)") \
	X(guard_page_side, guard_page_under, SIDE, 0, 0, 1, \
	  "over: the page follows the block (overflows); under: it precedes it") \
	X(guard_page_sites, guard_page_sites, SITES, 0, 0, 0, \
	  "every block allocated at these sites gets a guard page: " \
	  "[under@]MODULE+0xOFFSET[/MODULE+0xOFFSET...], comma-separated, as " \
	  "reports of late damage and mpcheck --locate name them") \
	X(sample_rate, sample_rate, INT, 0, 0, 1000000000, \
	  "sampled mode for production: the C library serves every allocation " \
	  "but one in N on average, which gets a guarded slot and its stack " \
	  "(0: off, the full checker)") \
	X(sample_slots, sample_slots, INT, 128, 1, 4096, \
	  "sampled mode: guarded slots (blocks of at most a page live at once; " \
	  "when all are in use, allocations go unsampled)") \
	X(unwinder, unwinder, INT, 1, 0, 2, \
	  "1: fast walker with cached CFI rules (libunwind for what it declines); " \
	  "0: libunwind only; 2: both, mismatches reported") \
	X(alloc_dealloc_mismatch, alloc_dealloc_mismatch, INT, 1, 0, 1, \
	  "report a block freed by another family (new[]/delete, new/free, ...)") \
	X(new_delete_type_mismatch, new_delete_type_mismatch, INT, 1, 0, 1, \
	  "report a sized or aligned delete whose size or alignment is not " \
	  "the block's") \
	X(max_allocation_size, max_allocation_size, INT, 0, 0, PTRDIFF_MAX, \
	  "larger requests are reported and fail with ENOMEM " \
	  "(0: only sizes above PTRDIFF_MAX)") \
	X(alloc_size_zero, alloc_size_zero, INT, 1, 0, 1, \
	  "report posix_memalign, memalign and aligned_alloc of size 0 " \
	  "(alloc-size-zero: the result is implementation-defined), as " \
	  "memcheck 3.22 does") \
	X(realloc_size_zero, realloc_size_zero, INT, 1, 0, 1, \
	  "report realloc(p, 0), which frees p and returns NULL (memcheck's " \
	  "default since 3.21)") \
	X(leak_check_signal, leak_check_signal, SIGNAL, 0, 0, 0, \
	  "a signal (e.g. SIGUSR2) that runs a leak check while the program " \
	  "keeps running, if the program has no handler of its own; default off") \
	X(leak_check_interval, leak_check_interval, INT, 0, 0, 31536000, \
	  "run a leak check every N seconds while the program runs (0: never)") \
	X(leak_check_mode, leak_check_new, MODE, 0, 0, 1, \
	  "all: each leak check reports every lost block; new: only those " \
	  "allocated since the previous check") \
	X(leak_check_growth, leak_check_growth, INT, 3, 0, 64, \
	  "a site whose reachable bytes grew at each of the last N leak checks " \
	  "is reported as growing (0: off)") \
	X(scope_warmups, scope_warmups, INT, 0, 0, 1000000, \
	  "mp_scope_end checks nothing the first N times a scope of that name " \
	  "ends (caches a first run fills on purpose are no leaks)") \
	X(scope_budget, scope_budget, INT, 0, 0, PTRDIFF_MAX, \
	  "a scope whose lost blocks total fewer bytes than this reports " \
	  "nothing and counts 0 (they stay for the exit report)") \
	X(verbosity, verbosity, INT, 1, 0, 2, \
	  "0: findings only, nothing for a clean process; 1: also one line for " \
	  "a clean process; 2: statistics too") \
	X(system_passthrough, system_passthrough, INT, 0, 0, 1, \
	  "a process whose executable is a system program (/usr/bin, /bin, " \
	  "/usr/lib...; not an interpreter) runs unchecked, every call passed " \
	  "to the C library's allocator (mpcheck sets it)") \
	X(passthrough_path, passthrough_path, PATH, 0, 0, 0, \
	  "file a process run unchecked by system_passthrough appends its " \
	  "executable's path to (%p = pid; mpcheck counts them); default none") \
	X(log_path, log_path, PATH, 0, 0, 0, \
	  "text report file (%p = pid), a regular file of the user's, new, empty " \
	  "or a log of ours; /dev/stderr, /dev/null as named; a relative path " \
	  "means the starting directory; default stderr") \
	X(log_force, log_force, INT, 0, 0, 1, \
	  "1: append to log_path even when it does not look like a log of ours, " \
	  "or is a device") \
	X(json_path, json_path, PATH, 0, 0, 0, \
	  "JSON report file (%p = pid); replaces only an earlier report or an " \
	  "empty file (keeping its mode), else goes beside it as " \
	  "PATH.mpwrap-PID.json; default none") \
	X(json_environ, json_environ, INT, 0, 0, 1, \
	  "the JSON report lists the process's initial environment (mpcheck " \
	  "--locate sets it, to rerun the process as it was run)") \
	X(profile, profile, INT, 0, 0, 1, \
	  "heap profile by allocation site (allocations, bytes, peak, " \
	  "temporaries, heap size over time) in the JSON report's \"profile\"") \
	X(start_path, start_path, PATH, 0, 0, 0, \
	  "marker file made when a process starts (%p = pid) and removed once its " \
	  "JSON report is in place: what remains names processes that died " \
	  "without one (mpcheck uses it); default none")

#define MP_OPT_FIELD_INT(f) long f;
#define MP_OPT_FIELD_KINDS(f) long f;
#define MP_OPT_FIELD_HEURS(f) long f;
#define MP_OPT_FIELD_SIDE(f) long f;
#define MP_OPT_FIELD_PATH(f) char f[MP_PATH_MAX];
#define MP_OPT_FIELD_SIGNAL(f) long f; /* a signal number; 0 = none */
#define MP_OPT_FIELD_MODE(f) long f;   /* leak_check_mode: 1 = new */
#define MP_OPT_FIELD_SITES(f) long f; /* sites given (gpsites.c holds them) */
#define MP_OPT_FIELD(name, field, type, def, min, max, help) MP_OPT_FIELD_##type(field)

struct mp_options {
	MP_OPTION_LIST(MP_OPT_FIELD)
};

extern struct mp_options _mp_opt;

/* Reset to defaults, then apply `spec` ("k=v:k=v" or space separated).
 * Warnings go to fd `warn_fd` (one line each).  Returns the number of
 * warnings.  Never allocates. */
int _mp_options_parse(const char *spec, int warn_fd);

/* The last value spec gives `name` (length in *len), or NULL; nothing is
 * parsed, set or warned about: for the pass-through decision (passthru.c),
 * made at the first allocation, before the options are parsed. */
const char *_mp_options_peek(const char *spec, const char *name, size_t *len);

/* LeakSanitizer's flags that are ours too (use_stacks, use_registers,
 * use_globals, use_tls, use_root_regions, leak_check_at_exit,
 * detect_leaks), from an
 * LSan option string (`src` names it in warnings: "LSAN_OPTIONS",
 * "__lsan_default_options"), applied over the current values except where
 * MPWRAP_OPTIONS gave the key; LSan's other keys are left to LSan.  Called
 * lowest precedence first.  Returns the number of warnings. */
int _mp_options_parse_lsan(const char *spec, int warn_fd, const char *src);

/* "definite", "indirect", "possible", "reachable" for leak-kind bit k
 * (1 << k; enum mp_leak_kind has the same order): the one table of the
 * kinds' names, for leak_kinds, the JSON report and mpcheck's input. */
const char *_mp_options_kind_name(int k);

/* "SIGUSR2" (or "signal N") for a signal number, written into buf. */
const char *_mp_options_signal_name(int sig, char *buf, size_t cap);

/* "stdstring", ... for heuristic bit k (1 << k). */
const char *_mp_options_heuristic_name(int k);

/* Write the option table (name, default, range, help) to fd. */
void _mp_options_help(int fd);

#endif
