/* leaks.h - group live blocks by allocation stack (and leak kind). */
#ifndef MP_LEAKS_H
#define MP_LEAKS_H

#include <stddef.h>
#include <stdint.h>

enum mp_leak_kind {
	MP_K_DEFINITE = 0,
	MP_K_INDIRECT,
	MP_K_POSSIBLE,
	MP_K_REACHABLE,
	MP_K_NKINDS
};

#define MP_LEAK_HEURS 4 /* memcheck's leak heuristics (options.h) */

/* What kept a reachable or possibly lost block: the root the first chain
 * to a block of its group started from (leakscan.c), for the report. */
enum mp_root_kind {
	MP_ROOT_NONE = 0,
	MP_ROOT_GLOBAL,     /* a module's data, bss or relro */
	MP_ROOT_STACK,      /* a live thread's stack */
	MP_ROOT_REGISTER,   /* a live thread's register */
	MP_ROOT_TLS,        /* a thread's TLS or descriptor */
	MP_ROOT_ANON,       /* the program's own anonymous memory (mmap) */
	MP_ROOT_THREAD_ARG, /* the argument of a thread not started yet */
	MP_ROOT_LDSO,       /* allocated by the dynamic linker (glibc's own) */
	MP_ROOT_LIBC,       /* the C library's data made for the program */
	MP_ROOT_POSSIBLE,   /* another possibly lost block */
	MP_ROOT_IGNORED,    /* a block LeakSanitizer's interface ignores */
	MP_ROOT_REGION,     /* __lsan_register_root_region */
	MP_ROOT_INHERITED,  /* a forked child: a block its parent made */
	MP_ROOT_NKINDS
};

struct mp_keeper {
	uint8_t kind;      /* enum mp_root_kind */
	uint8_t direct;    /* the root points at this block itself, not
			    * through other blocks */
	uint8_t interior;  /* the pointer that reached it points inside */
	int8_t reg;        /* REGISTER: index in mcontext gregs order */
	int32_t tid;       /* STACK, REGISTER, TLS: the thread */
	uintptr_t where;   /* GLOBAL, STACK, TLS, ANON: the root word */
};

struct mp_leak_group {
	size_t bytes, blocks;
	uint32_t stack;
	uint8_t kind;
	struct mp_keeper keeper; /* reachable and possible groups */
};

struct mp_leak_set {
	struct mp_leak_group *g;  /* sorted: kind, then bytes descending */
	size_t n;
	size_t map_bytes;
	size_t bytes[MP_K_NKINDS], blocks[MP_K_NKINDS];
	size_t total_bytes, total_blocks;
	/* of the reachable ones, kept by each leak heuristic (1 << k) */
	size_t heur_bytes[MP_LEAK_HEURS], heur_blocks[MP_LEAK_HEURS];
	/* lost, but the program's __lsan_default_suppressions covers them */
	size_t supp_bytes, supp_blocks;
	/* sampled mode (samplescan.c): the groups are samples, one
	 * allocation in sample_rate; 0 in the full mode */
	unsigned long sample_rate;
};

/* A leak check while the program runs (longrun.c): which one, why, and
 * the sites whose reachable bytes grew at each of the last checks. */
struct mp_growth {
	uint32_t stack;
	size_t bytes, blocks; /* reachable now */
	size_t from;          /* reachable bytes before the growth began */
	unsigned long since;  /* the check that measured `from` */
	unsigned checks;      /* consecutive checks it grew at */
};

struct mp_check_info {
	unsigned long seq;       /* 1, 2, ... in this process */
	const char *trigger;     /* "on SIGUSR2", "periodic", "mp_leak_check" */
	int mode_new;            /* lost blocks only if new since check seq-1 */
	const struct mp_growth *grow; /* the first ngrow growing sites */
	size_t ngrow, grow_total; /* listed, and all of them */
	const char *scope;       /* mp_scope_end: the scope's name; its blocks
				  * only, no growth */
};

/* Snapshot every live user block into groups.  by_kind: use the kinds set
 * by the last classification (leakscan.c); otherwise every block counts as
 * one kind (MP_K_DEFINITE).  by_kind | MP_COLLECT_FRESH: lost blocks only
 * if the last classification was the first to judge them.  Memory is
 * mmap'd; 0 or -1. */
#define MP_COLLECT_FRESH 2
/* by_kind | MP_COLLECT_OWN: only the blocks this process made since its
 * fork (a forked child's exit report; block.h) */
#define MP_COLLECT_OWN 4
/* by_kind | MP_COLLECT_SCOPE: only the blocks allocated since the open
 * scope began (mp_scope_begin; those without MP_AUX_PRE).  Every collect
 * leaves out the lost blocks a scope reported (MP_AUX_SCOPED). */
#define MP_COLLECT_SCOPE 8
int _mp_leaks_collect(struct mp_leak_set *ls, int by_kind);
void _mp_leaks_release(struct mp_leak_set *ls);

const char *_mp_leak_kind_name(int kind);

/* Scopes: MP_SCOPE_BEGIN marks every live block as older than the scope
 * (MP_AUX_PRE); MP_SCOPE_CLAIM marks the scope's lost blocks as reported
 * (MP_AUX_SCOPED; lost = not reachable by the last classification when
 * classified, else every live one).  Takes the pool locks in turn. */
enum { MP_SCOPE_BEGIN, MP_SCOPE_CLAIM };
void _mp_leaks_scope_mark(int op, int classified);

/* Whether the text report lists groups of this kind: all but the still
 * reachable ones, which show_reachable=1 adds. */
int _mp_leak_kind_listed(int kind);


#endif
