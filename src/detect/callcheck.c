/* callcheck.c - what a call's own arguments say is wrong, before or
 * without any damage to a block.
 *
 * One concern: the errors of a call as such: a deallocation by another
 * family than allocated the block, or a sized or aligned delete that
 * disagrees with it (whether the program's operator new is ours decides
 * if families mean anything), and the shims' argument errors (a size too
 * big, an invalid alignment, size zero).  Separate from pool.c, which
 * allocates and frees: these are verdicts on the call, made from the
 * block's record and the arguments, and never touch the pool's state.
 */
#define _GNU_SOURCE
#include "pool.h"
#include "options.h"
#include "reent.h"
#include "report.h"
#include "stack.h"

#include <stdint.h>

static int foreign_new;    /* operator new or delete is someone else's */

void _mp_set_foreign_new(int yes)
{
	foreign_new = yes;
}

/* The deallocation d of live block b is by the wrong family, or a sized or
 * aligned delete disagrees with the allocation: the kind, else MP_E_NONE.
 * The block is freed all the same: every family is released alike here. */
static enum mp_err dealloc_kind(const struct mp_block *b,
				const struct mp_dealloc *d)
{
	if (foreign_new || (b->flags & MP_F_INTERNAL))
		return MP_E_NONE;
	if (b->family != d->family)
		return _mp_opt.alloc_dealloc_mismatch ? MP_E_ALLOC_DEALLOC_MISMATCH
						      : MP_E_NONE;
	if (!_mp_opt.new_delete_type_mismatch)
		return MP_E_NONE;
	if ((d->sized && d->size != b->size) ||
	    (d->align && d->align != (size_t)1 << b->align_log))
		return MP_E_NEW_DELETE_TYPE_MISMATCH;
	return MP_E_NONE;
}

/* Add the verdict of a mismatched deallocation to v[*nv], if any. */
void _mp_dealloc_verdict(const struct mp_block *b,
			 const struct mp_dealloc *d, uint32_t stack,
			 struct mp_verdict *v, int *nv)
{
	enum mp_err k = dealloc_kind(b, d);
	if (k == MP_E_NONE)
		return;
	v[*nv] = _mp_verdict(k, b->user, b, 0, 0, stack, d->where);
	v[*nv].arg_sized = d->sized;
	v[*nv].arg = d->size;
	v[*nv].arg2 = d->align;
	(*nv)++;
}

/* ---- argument checks ---------------------------------------------------- */

void _mp_call_error(int kind, const char *where, size_t a, size_t b,
		    uintptr_t caller)
{
	/* our own helpers' calls are not the program's errors */
	if (_mp_busy() || _mp_ensure_init() != 0)
		return;
	if (kind == MP_E_ALLOC_SIZE_ZERO && !_mp_opt.alloc_size_zero)
		return;
	struct mp_verdict v = _mp_verdict((enum mp_err)kind, 0, NULL, 0, 0,
					  _mp_stack_here(caller), where);
	v.arg = a;
	v.arg2 = b;
	_mp_report_error(&v);
}

int _mp_too_big(size_t n, const char *where, uintptr_t caller)
{
	size_t max = _mp_opt.max_allocation_size ? (size_t)_mp_opt.max_allocation_size
						 : (size_t)PTRDIFF_MAX;
	if (__builtin_expect(n <= max, 1))
		return 0;
	_mp_call_error(MP_E_SIZE_TOO_BIG, where, n, max, caller);
	return 1;
}
