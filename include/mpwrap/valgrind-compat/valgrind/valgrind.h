/* valgrind/valgrind.h as mpwrap reads it: a stand-in written from the
 * Valgrind manual's description of the client requests (no code of
 * Valgrind's header), for a program annotated for memcheck to rebuild
 * with one flag,
 *
 *     cc -I$(pkg-config --variable=includedir mpwrap)/mpwrap/valgrind-compat ...
 *
 * (or -I<mpwrap>/include/mpwrap/valgrind-compat), and run under
 * libmpwrap.so: the memory-pool and malloc-like requests go to mpwrap's
 * pool annotations (mpwrap/pools.h); without libmpwrap.so they do nothing,
 * as Valgrind's do outside Valgrind.
 *
 * RUNNING_ON_VALGRIND is 0: the program is not under Valgrind (code that
 * changes behaviour under Valgrind must not do so here).  MPWRAP_ACTIVE
 * says whether libmpwrap.so serves the process.  The requests of other
 * tools and of the core (VALGRIND_PRINTF, DISCARD_TRANSLATIONS, stack
 * registration, ...) do nothing and yield 0. */
#ifndef MPWRAP_VALGRIND_COMPAT_VALGRIND_H
#define MPWRAP_VALGRIND_COMPAT_VALGRIND_H

#include <mpwrap/pools.h>

#define MPWRAP_VALGRIND_COMPAT 1
#define RUNNING_ON_VALGRIND 0
#define MPWRAP_ACTIVE (mp_pools_active ? mp_pools_active() : 0)

/* an expression of value 0 that still evaluates its arguments once */
static inline int mpwrap_vg_eval_(int unused, ...) { return unused; }
#define MPWRAP_VG_NOP(...) mpwrap_vg_eval_(0, __VA_ARGS__)

/* the raw request mechanism: no Valgrind, so the default value */
#define VALGRIND_DO_CLIENT_REQUEST_EXPR(dflt, req, a1, a2, a3, a4, a5) (dflt)
#define VALGRIND_DO_CLIENT_REQUEST_STMT(req, a1, a2, a3, a4, a5) do { } while (0)
#define VALGRIND_DO_CLIENT_REQUEST(res, dflt, req, a1, a2, a3, a4, a5) \
	do { (res) = (dflt); } while (0)

/* ---- memory pools (the manual's "Memory Pools") ---------------------- */
#define VALGRIND_MEMPOOL_AUTO_FREE 1
#define VALGRIND_MEMPOOL_METAPOOL 2

#define VALGRIND_CREATE_MEMPOOL(pool, rzB, is_zeroed) \
	MP_POOL_CREATE((const void *)(pool), (size_t)(rzB), (int)(is_zeroed), 0u)
#define VALGRIND_CREATE_MEMPOOL_EXT(pool, rzB, is_zeroed, flags) \
	MP_POOL_CREATE((const void *)(pool), (size_t)(rzB), (int)(is_zeroed), \
		       (unsigned)(flags))
#define VALGRIND_DESTROY_MEMPOOL(pool) MP_POOL_DESTROY((const void *)(pool))
#define VALGRIND_MEMPOOL_ALLOC(pool, addr, size) \
	MP_POOL_ALLOC((const void *)(pool), (const void *)(addr), (size_t)(size))
#define VALGRIND_MEMPOOL_FREE(pool, addr) \
	MP_POOL_FREE((const void *)(pool), (const void *)(addr))
#define VALGRIND_MEMPOOL_TRIM(pool, addr, size) \
	MP_POOL_TRIM((const void *)(pool), (const void *)(addr), (size_t)(size))
#define VALGRIND_MOVE_MEMPOOL(poolA, poolB) \
	MP_POOL_MOVE((const void *)(poolA), (const void *)(poolB))
#define VALGRIND_MEMPOOL_CHANGE(pool, addrA, addrB, size) \
	MP_POOL_CHANGE((const void *)(pool), (const void *)(addrA), \
		       (const void *)(addrB), (size_t)(size))
#define VALGRIND_MEMPOOL_EXISTS(pool) \
	(mp_pool_exists ? mp_pool_exists((const void *)(pool)) : 0)

/* ---- malloc-like blocks ---------------------------------------------- */
#define VALGRIND_MALLOCLIKE_BLOCK(addr, sizeB, rzB, is_zeroed) \
	MP_BLOCK_ALLOC((const void *)(addr), (size_t)(sizeB), (size_t)(rzB), \
		       (int)(is_zeroed))
#define VALGRIND_FREELIKE_BLOCK(addr, rzB) \
	MP_BLOCK_FREE((const void *)(addr), (size_t)(rzB))
#define VALGRIND_RESIZEINPLACE_BLOCK(addr, oldSizeB, newSizeB, rzB) \
	MP_BLOCK_RESIZE((const void *)(addr), (size_t)(oldSizeB), \
			(size_t)(newSizeB), (size_t)(rzB))

/* ---- core requests with nothing to do here ---------------------------- */
#define VALGRIND_COUNT_ERRORS \
	(mp_pools_error_count ? (unsigned)mp_pools_error_count() : 0u)
#define VALGRIND_DISCARD_TRANSLATIONS(addr, len) MPWRAP_VG_NOP(addr, len)
#define VALGRIND_STACK_REGISTER(start, end) MPWRAP_VG_NOP(start, end)
#define VALGRIND_STACK_DEREGISTER(id) MPWRAP_VG_NOP(id)
#define VALGRIND_STACK_CHANGE(id, start, end) MPWRAP_VG_NOP(id, start, end)
#define VALGRIND_DISABLE_ERROR_REPORTING do { } while (0)
#define VALGRIND_ENABLE_ERROR_REPORTING do { } while (0)
#define VALGRIND_MONITOR_COMMAND(cmd) MPWRAP_VG_NOP(cmd)
#define VALGRIND_CLO_CHANGE(opt) MPWRAP_VG_NOP(opt)
#define VALGRIND_MAP_IP_TO_SRCLOC(addr, buf64) MPWRAP_VG_NOP(addr, buf64)
#define VALGRIND_LOAD_PDB_DEBUGINFO(fd, ptr, total_size, delta) \
	MPWRAP_VG_NOP(fd, ptr, total_size, delta)
#define VALGRIND_NON_SIMD_CALL0(f) MPWRAP_VG_NOP(f)
/* printf-like: nothing is printed (there is no Valgrind log) */
static inline int mpwrap_vg_printf_(const char *fmt, ...) { (void)fmt; return 0; }
#define VALGRIND_PRINTF mpwrap_vg_printf_
#define VALGRIND_PRINTF_BACKTRACE mpwrap_vg_printf_

#endif
