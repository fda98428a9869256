/* verdict.h - what detection found, as data: the error kinds and the
 * verdict one check hands to the report module, which alone words it.
 * Below the report layer so that every detector (the pool, the guard
 * pages, the checks) can build one without calling upward. */
#ifndef MP_VERDICT_H
#define MP_VERDICT_H

#include "block.h"

#include <stddef.h>
#include <stdint.h>

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
	MP_E_ALLOC_SIZE_ZERO,    /* aligned allocation of size 0 (option
				  * alloc_size_zero): arg = alignment */
	MP_E_FISHY_VALUE,        /* calloc(0, -1): arg = nmemb, arg2 = size */
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

/* Build a verdict; b may be NULL when the address is in no block. */
static inline struct mp_verdict _mp_verdict(enum mp_err kind, uintptr_t addr,
					    const struct mp_block *b, long offset,
					    size_t count, uint32_t access_stack,
					    const char *where)
{
	struct mp_verdict v = { .kind = kind, .addr = addr, .has_block = b != NULL,
				.offset = offset, .count = count,
				.access_stack = access_stack, .where = where };
	if (b)
		v.blk = *b;
	return v;
}

/* Guard verdicts (0, 1 or 2 written to v) for a live block whose guards
 * are front_len bytes before and rear bytes after it: an underflow and an
 * overflow at most.  Shared by free and mp_check (guard.c). */
int _mp_guard_verdicts(const struct mp_block *b, size_t front_len, size_t rear,
		       uint32_t access, const char *where, struct mp_verdict *v);

#endif
