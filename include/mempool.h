/* mempool.h - public API of mpwrap's debugging memory pool.
 *
 * Small requests (1..4096 bytes) are served from slabs of eight size
 * classes; larger ones from the real allocator.  Every block is fenced by
 * 16-byte guard zones, carries its allocation stack and is tracked until it
 * is freed, so overflows, bad frees and leaks are reported with stacks.
 *
 * Thread safety: every function below may be called from any thread at any
 * time, concurrently with all the others, unless its note says otherwise.
 */
#ifndef MEMPOOL_H
#define MEMPOOL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MP_NUM_CLASSES 8   /* 32, 64, 128, 256, 512, 1024, 2048, 4096 */
#define MP_MAX_CLASS   4096

/* Initialise the pool (idempotent).  Options come from the environment
 * variable MPWRAP_OPTIONS.  Returns 0, or -1 with errno set.
 * Thread-safe; every other entry point initialises implicitly. */
int mp_init(void);

/* Allocate n bytes (n == 0 gives a unique, freeable pointer).  16-byte
 * aligned.  Returns NULL with errno = ENOMEM on failure.  Thread-safe. */
void *mp_alloc(size_t n);

/* Like calloc: zeroed, NULL + ENOMEM when nmemb * size overflows.
 * Thread-safe. */
void *mp_calloc(size_t nmemb, size_t size);

/* Like realloc: NULL p allocates; n == 0 frees p and returns NULL (glibc's
 * behaviour); contents are kept up to min(old, n).  An invalid p is
 * reported and NULL returned with errno = EINVAL.  Thread-safe. */
void *mp_realloc(void *p, size_t n);

/* Free a block.  NULL is ignored.  A pointer the pool does not own, an
 * interior pointer or a double free is reported and otherwise ignored; guard
 * damage is reported, then the block is freed.  Thread-safe. */
void mp_free(void *p);

/* Requested size of a live block, 0 for anything else.  Thread-safe. */
size_t mp_usable_size(const void *p);

/* Validate the guards of every live block and the poison of every
 * quarantined one; report each damaged block once.  Returns the number of
 * damaged blocks found by this call.  Thread-safe. */
int mp_check(void);

struct mp_class_stats {
	size_t size;        /* class size in bytes */
	size_t total;       /* blocks carved from slabs */
	size_t in_use;      /* live blocks */
	size_t quarantined; /* freed, waiting in quarantine before reuse */
	size_t free;        /* ready for reuse: total - in_use - quarantined
			     * (slots in threads' caches included) */
};

struct mp_stats {
	struct mp_class_stats cls[MP_NUM_CLASSES];
	size_t large_blocks;  /* live blocks from the real allocator */
	size_t large_bytes;   /* their requested bytes */
	size_t bytes_in_use;  /* requested bytes of all live blocks */
	size_t peak_bytes;    /* high-water mark of bytes_in_use: exact while
			       * one thread allocates; with several, counted per
			       * thread, a peak reached by other threads' growth
			       * may be noted up to 256 allocations late */
	size_t allocs;        /* successful allocations since mp_init */
	size_t frees;         /* successful frees since mp_init */
	size_t errors;        /* errors reported since mp_init */
	size_t stacks;        /* distinct allocation stacks stored */
};

/* Fill *out with a consistent-enough snapshot (each class is read under its
 * own lock).  Thread-safe. */
void mp_get_stats(struct mp_stats *out);

/* Print the per-class statistics table.  Thread-safe. */
void mp_dump_stats(void);

/* Print every live block grouped by allocation stack, largest group first,
 * then a total line.  Returns the number of live blocks.  Thread-safe. */
size_t mp_dump_leaks(void);

/* What one leak check found (mp_leak_check). */
struct mp_leak_counts {
	unsigned long check;   /* this check's number in the process: 1, 2, ... */
	int classified;        /* 1: reachability scan (libmpwrap.so); 0: no
				* scan (libmempool.a): every live block is
				* counted as definite */
	size_t definite_bytes, definite_blocks;
	size_t indirect_bytes, indirect_blocks;
	size_t possible_bytes, possible_blocks;
	size_t reachable_bytes, reachable_blocks;
	size_t gated_blocks;   /* of the kinds option leak_kinds counts */
	size_t growing_sites;  /* reachable bytes grew at each of the last
				* leak_check_growth checks */
};

/* Run a leak check now and print its report ("leak check #N (mp_leak_check)";
 * a JSON file too with json_path); the program continues.  Under
 * libmpwrap.so the live blocks are classified by reachability from the
 * calling thread's stack, the other threads (stopped meanwhile), globals
 * and TLS; leak_check_mode=new reports only lost blocks allocated since
 * the previous check.  In libmempool.a (no thread registry, no roots) it
 * lists every live block as mp_dump_leaks does, counted as definite, and
 * sets classified = 0.  Fills *out (may be NULL); returns gated_blocks, or
 * -1 when no check could run (the process is exiting, say).  Thread-safe;
 * not from a signal handler (leak_check_signal does that). */
long mp_leak_check(struct mp_leak_counts *out);

/* Scopes: leak checks of one part of a program, such as one test.
 * mp_scope_begin opens a scope named name (copied, up to 255 bytes); the
 * blocks allocated from then on, by any thread, are the scope's.
 * mp_scope_end checks them: under libmpwrap.so, a reachability scan as
 * mp_leak_check's, and the scope's blocks no root reaches are reported as
 * "leaks in scope 'NAME'" (with their stacks; in the JSON report with the
 * scope's name as their test) and never again, by a later scope or at exit;
 * in libmempool.a (no scan) every block of the scope still live counts.
 * mp_scope_end returns the lost blocks of the kinds leak_kinds gates on (0:
 * none; a test fails itself on > 0), or -1 when no scope is open or no
 * check could run.  Options: scope_warmups=N, the first N scopes of a name
 * check nothing (caches filled on a first run); scope_budget=BYTES, fewer
 * lost bytes than that are not counted.  One scope at a time per process:
 * mp_scope_begin while one is open returns -1 (scopes do not nest).
 * Thread-safe (a scope begun on one thread may end on another); not from a
 * signal handler.  A program that may run without the library declares
 * them weak: include/mpwrap/scope.h. */
int mp_scope_begin(const char *name);
long mp_scope_end(void);
/* The text of the report the last mp_scope_end wrote (empty when it found
 * nothing), also when log_path sends reports to a file: its first cap - 1
 * bytes copied into buf, NUL-terminated (buf may be NULL); returns its
 * whole length (up to 64 KiB kept).  For a runner's failure message.
 * Thread-safe. */
size_t mp_scope_report(char *buf, size_t cap);

/* Print statistics and leaks, then release every slab and large block.
 * mp_init may be called again afterwards.  Not to be called while other
 * threads still use the pool. */
void mp_destroy(void);

#ifdef __cplusplus
}
#endif
#endif /* MEMPOOL_H */
