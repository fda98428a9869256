/* options.h - run-time options, parsed once from MPWRAP_OPTIONS.
 *
 * One table (options.c) holds each option's name, default, range and help.
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

struct mp_options {
	long stack_depth;     /* frames kept per allocation, 0..64 */
	long exitcode;        /* exit status when findings exist; 0 = keep */
	long report_at_exit;  /* print the leak report at exit (preload) */
	long abort_on_error;  /* abort() after the first error report */
	long quarantine_mb;   /* bytes of freed blocks held before reuse */
	long show_reachable;  /* list reachable blocks with stacks */
	long leak_kinds;      /* MP_LEAK_* bits that count for exitcode */
	long leak_heuristics; /* MP_HEUR_* bits applied by the leak scan */
	long detect_leaks;    /* classify and report leaks at exit */
	long verbosity;       /* 0 quiet, 1 normal, 2 chatty */
	long check_every;     /* mp_check every N allocator calls, 0 = never */
	long max_leak_groups; /* leak groups listed in the text report; 0 = all */
	long guard_page_rate; /* 1 allocation in N gets a guard page; 0 = off */
	long guard_page_under;/* guard page before the block, not after */
	long unwinder;        /* 1 fast walker, 0 libunwind, 2 both compared */
	long alloc_dealloc_mismatch;   /* report deallocation by a wrong family */
	long new_delete_type_mismatch; /* report sized/aligned delete mismatch */
	long max_allocation_size;      /* bytes; 0 = PTRDIFF_MAX */
	long realloc_size_zero;        /* report realloc(p, 0) */
	long leak_check_signal;   /* signal that runs a leak check; 0 = none */
	long leak_check_interval; /* seconds between leak checks; 0 = none */
	long leak_check_new;      /* leak_check_mode=new: only new leaks */
	long leak_check_growth;   /* checks a site must grow at to be "growing" */
	char log_path[MP_PATH_MAX];  /* text report; "" = stderr; %p = pid */
	char json_path[MP_PATH_MAX]; /* JSON report; "" = none; %p = pid */
	char start_path[MP_PATH_MAX]; /* marker made at start, removed with
				       * the JSON report; "" = none */
};

extern struct mp_options _mp_opt;

/* Reset to defaults, then apply `spec` ("k=v:k=v" or space separated).
 * Warnings go to fd `warn_fd` (one line each).  Returns the number of
 * warnings.  Never allocates. */
int _mp_options_parse(const char *spec, int warn_fd);

/* "stdstring", ... for heuristic bit k (1 << k). */
const char *_mp_options_heuristic_name(int k);

/* "SIGUSR2" (or "signal N") for a signal number, written into buf. */
const char *_mp_options_signal_name(int sig, char *buf, size_t cap);

/* Write the option table (name, default, range, help) to fd. */
void _mp_options_help(int fd);

#endif
