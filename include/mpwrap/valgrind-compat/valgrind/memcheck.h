/* valgrind/memcheck.h as mpwrap reads it (see valgrind.h beside it):
 * memcheck's requests written from the manual.  Definedness and
 * addressability (MAKE_MEM_*, CHECK_*) need instrumentation that mpwrap
 * has not: they do nothing and yield 0 ("no problem found").  The leak
 * checks run mpwrap's own check on demand; COUNT_LEAKS and
 * COUNT_LEAK_BLOCKS give the latest one's figures: leaked = definite +
 * indirect, dubious = possible, reachable, suppressed = 0 (the program's
 * suppressions drop groups from the report before they are counted). */
#ifndef MPWRAP_VALGRIND_COMPAT_MEMCHECK_H
#define MPWRAP_VALGRIND_COMPAT_MEMCHECK_H

#include "valgrind.h"
#include <mempool.h>

#define VALGRIND_MAKE_MEM_NOACCESS(addr, len) MPWRAP_VG_NOP(addr, len)
/* the program takes bytes back (a pool's free-list link in a freed
 * block): no longer checked for writes after free; yields 0 */
static inline int mpwrap_vg_accessible_(const void *addr, size_t len)
{
	if (mp_mem_accessible)
		mp_mem_accessible(addr, len);
	return 0;
}
#define VALGRIND_MAKE_MEM_UNDEFINED(addr, len) \
	mpwrap_vg_accessible_((const void *)(addr), (size_t)(len))
#define VALGRIND_MAKE_MEM_DEFINED(addr, len) \
	mpwrap_vg_accessible_((const void *)(addr), (size_t)(len))
#define VALGRIND_MAKE_MEM_DEFINED_IF_ADDRESSABLE(addr, len) \
	mpwrap_vg_accessible_((const void *)(addr), (size_t)(len))
#define VALGRIND_CREATE_BLOCK(addr, len, desc) MPWRAP_VG_NOP(addr, len, desc)
#define VALGRIND_DISCARD(blkindex) MPWRAP_VG_NOP(blkindex)
#define VALGRIND_CHECK_MEM_IS_ADDRESSABLE(addr, len) MPWRAP_VG_NOP(addr, len)
#define VALGRIND_CHECK_MEM_IS_DEFINED(addr, len) MPWRAP_VG_NOP(addr, len)
#define VALGRIND_CHECK_VALUE_IS_DEFINED(lvalue) MPWRAP_VG_NOP(&(lvalue))
#define VALGRIND_GET_VBITS(addr, bits, nbytes) MPWRAP_VG_NOP(addr, bits, nbytes)
#define VALGRIND_SET_VBITS(addr, bits, nbytes) MPWRAP_VG_NOP(addr, bits, nbytes)
#define VALGRIND_DISABLE_ADDR_ERROR_REPORTING_IN_RANGE(addr, len) MPWRAP_VG_NOP(addr, len)
#define VALGRIND_ENABLE_ADDR_ERROR_REPORTING_IN_RANGE(addr, len) MPWRAP_VG_NOP(addr, len)

/* the leak checks: mpwrap's own check now (leak_check_mode decides
 * whether only new leaks are listed; memcheck's "added", "changed" and
 * "quick" variants run the same full check here) */
#define MPWRAP_VG_LEAK_CHECK_(why) \
	do { if (mp_pools_leak_check) (void)mp_pools_leak_check(why); } while (0)
#define VALGRIND_DO_LEAK_CHECK MPWRAP_VG_LEAK_CHECK_("VALGRIND_DO_LEAK_CHECK")
#define VALGRIND_DO_ADDED_LEAK_CHECK MPWRAP_VG_LEAK_CHECK_("VALGRIND_DO_ADDED_LEAK_CHECK")
#define VALGRIND_DO_CHANGED_LEAK_CHECK MPWRAP_VG_LEAK_CHECK_("VALGRIND_DO_CHANGED_LEAK_CHECK")
#define VALGRIND_DO_QUICK_LEAK_CHECK MPWRAP_VG_LEAK_CHECK_("VALGRIND_DO_QUICK_LEAK_CHECK")

#define MPWRAP_VG_COUNT_(leaked, dubious, reachable, suppressed, B)          \
	do {                                                                  \
		struct mp_leak_counts mpwrap_c_ = { 0 };                      \
		if (mp_pools_last_leaks)                                      \
			mp_pools_last_leaks(&mpwrap_c_);                      \
		(leaked) = mpwrap_c_.definite_##B + mpwrap_c_.indirect_##B;   \
		(dubious) = mpwrap_c_.possible_##B;                           \
		(reachable) = mpwrap_c_.reachable_##B;                        \
		(suppressed) = 0;                                             \
	} while (0)
#define VALGRIND_COUNT_LEAKS(leaked, dubious, reachable, suppressed) \
	MPWRAP_VG_COUNT_(leaked, dubious, reachable, suppressed, bytes)
#define VALGRIND_COUNT_LEAK_BLOCKS(leaked, dubious, reachable, suppressed) \
	MPWRAP_VG_COUNT_(leaked, dubious, reachable, suppressed, blocks)

#endif
