/* lazylibs.h - libunwind, libdw and libelf, loaded on first need.
 *
 * libmpwrap.so links none of them: mapping and relocating them (and zlib,
 * liblzma, libbz2 behind libdw) cost every process ~0.4 ms of CPU and ~1 MB
 * of RSS at start, which sampled mode (most processes take no sample),
 * system_passthrough and clean short processes never needed.  lazylibs.c
 * dlopens them and fills _mp_lazy; the macros below send every call of
 * the files that include this header through that table, so the call
 * sites read as plain library calls.
 *
 * Include it instead of the libraries' headers (it includes them); a file
 * that uses libunwind defines UNW_LOCAL_ONLY first.
 * Before calling into the table, an entry point asks _mp_lazylibs_need()
 * (or _ready(), which never loads) for the group it uses; a group that
 * could not be loaded leaves its pointers NULL.
 */
#ifndef MP_LAZYLIBS_H
#define MP_LAZYLIBS_H

#include <stdatomic.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>

/* The groups: libunwind; libdw with libelf (one is no use without the
 * other). */
enum { MP_LZ_UNWIND = 1, MP_LZ_DW = 2, MP_LZ_ALL = 3 };

/* X(group, name): name as the headers spell it (a libunwind name is a
 * macro for the real symbol, which dlsym is given). */
#define MP_LAZY_DW_FUNCS(X)                                                  \
	X(MP_LZ_DW, dwfl_begin)                                              \
	X(MP_LZ_DW, dwfl_end)                                                \
	X(MP_LZ_DW, dwfl_report_begin)                                       \
	X(MP_LZ_DW, dwfl_report_end)                                         \
	X(MP_LZ_DW, dwfl_report_elf)                                         \
	X(MP_LZ_DW, dwfl_linux_proc_report)                                  \
	X(MP_LZ_DW, dwfl_addrmodule)                                         \
	X(MP_LZ_DW, dwfl_getmodules)                                         \
	X(MP_LZ_DW, dwfl_module_info)                                        \
	X(MP_LZ_DW, dwfl_module_getelf)                                      \
	X(MP_LZ_DW, dwfl_module_getsrc)                                      \
	X(MP_LZ_DW, dwfl_module_nextcu)                                      \
	X(MP_LZ_DW, dwfl_module_addrinfo)                                    \
	X(MP_LZ_DW, dwfl_module_getsymtab)                                   \
	X(MP_LZ_DW, dwfl_module_getsymtab_first_global)                      \
	X(MP_LZ_DW, dwfl_module_getsym_info)                                 \
	X(MP_LZ_DW, dwfl_module_eh_cfi)                                      \
	X(MP_LZ_DW, dwfl_module_dwarf_cfi)                                   \
	X(MP_LZ_DW, dwfl_lineinfo)                                           \
	X(MP_LZ_DW, dwfl_linux_proc_find_elf)                                \
	X(MP_LZ_DW, dwfl_build_id_find_elf)                                  \
	X(MP_LZ_DW, dwfl_standard_find_debuginfo)                            \
	X(MP_LZ_DW, dwfl_build_id_find_debuginfo)                            \
	X(MP_LZ_DW, dwfl_offline_section_address)                            \
	X(MP_LZ_DW, dwarf_getsrc_die)                                        \
	X(MP_LZ_DW, dwarf_haspc)                                             \
	X(MP_LZ_DW, dwarf_lineno)                                            \
	X(MP_LZ_DW, dwarf_linesrc)                                           \
	X(MP_LZ_DW, dwarf_cfi_addrframe)                                     \
	X(MP_LZ_DW, dwarf_frame_info)                                        \
	X(MP_LZ_DW, dwarf_frame_cfa)                                         \
	X(MP_LZ_DW, dwarf_frame_register)                                    \
	X(MP_LZ_DW, elf_begin)                                               \
	X(MP_LZ_DW, gelf_getehdr)

#define MP_LAZY_FIELD(g, name) __typeof__(name) *lz_##name;
struct mp_lazylibs {
	MP_LAZY_DW_FUNCS(MP_LAZY_FIELD)
};
extern struct mp_lazylibs _mp_lazy;

/* libunwind's part: only for files that define UNW_LOCAL_ONLY (the
 * others may not want <ucontext.h>'s register names) */
#ifdef UNW_LOCAL_ONLY
#include <libunwind.h>
#define MP_LAZY_UNW_FUNCS(X)                                                 \
	X(MP_LZ_UNWIND, unw_init_local)                                      \
	X(MP_LZ_UNWIND, unw_step)                                            \
	X(MP_LZ_UNWIND, unw_get_reg)                                         \
	X(MP_LZ_UNWIND, unw_backtrace)                                       \
	X(MP_LZ_UNWIND, unw_set_caching_policy)
struct mp_lazyunw {
	MP_LAZY_UNW_FUNCS(MP_LAZY_FIELD)
	/* data, and the one function that is a macro with arguments */
	__typeof__(unw_local_addr_space) *lz_unw_local_addr_space;
	__typeof__(unw_tdep_getcontext) *lz_unw_getcontext;
};
extern struct mp_lazyunw _mp_lazy_unw;
#endif
#undef MP_LAZY_FIELD

/* 1 when every group in `groups` is loaded, loading them now if that was
 * never tried; 0 when one is missing (one line on stderr said why), when
 * this thread may not load (a fatal-signal handler: see
 * _mp_lazylibs_no_load_here), or when another thread's load did not end
 * in time (it may be waiting for a loader lock this thread holds).
 * Loads under the reentrancy guard and the loader gate: call it with no
 * lock of ours held. */
int _mp_lazylibs_need(int groups);
/* -1 once a load has ended (found or not): the hot path's one load, so a
 * stack capture calls _mp_lazylibs_need only until then */
extern atomic_int _mp_lazylibs_state;
static inline int _mp_lazylibs_settled(void)
{
	return atomic_load_explicit(&_mp_lazylibs_state, memory_order_acquire) == -1;
}
/* The same, never loading: an acquire load. */
int _mp_lazylibs_ready(int groups);
/* This thread is in a fatal-signal handler: it never dlopens (the signal
 * may have stopped it inside the loader or glibc's malloc); what it
 * reports without the libraries goes by module+offset (dladdr). */
void _mp_lazylibs_no_load_here(void);

/* The four entry points libdwfl takes as callbacks, as real functions so
 * that static Dwfl_Callbacks initializers stay constant. */
int _mp_lz_proc_find_elf(Dwfl_Module *, void **, const char *, Dwarf_Addr,
			 char **, Elf **);
int _mp_lz_build_id_find_elf(Dwfl_Module *, void **, const char *,
			     Dwarf_Addr, char **, Elf **);
int _mp_lz_section_address(Dwfl_Module *, void **, const char *, Dwarf_Addr,
			   const char *, GElf_Word, const GElf_Shdr *,
			   Dwarf_Addr *);
int _mp_lz_build_id_find_debuginfo(Dwfl_Module *, void **, const char *,
				   Dwarf_Addr, const char *, const char *,
				   GElf_Word, char **);

#ifndef MP_LAZYLIBS_NO_MACROS
#ifdef UNW_LOCAL_ONLY
#undef unw_init_local
#undef unw_step
#undef unw_get_reg
#undef unw_set_caching_policy
#undef unw_local_addr_space
#undef unw_getcontext
#define unw_getcontext(uc) (_mp_lazy_unw.lz_unw_getcontext(uc))
#define unw_local_addr_space (*_mp_lazy_unw.lz_unw_local_addr_space)
#define unw_init_local (_mp_lazy_unw.lz_unw_init_local)
#define unw_step (_mp_lazy_unw.lz_unw_step)
#define unw_get_reg (_mp_lazy_unw.lz_unw_get_reg)
#define unw_backtrace (_mp_lazy_unw.lz_unw_backtrace)
#define unw_set_caching_policy (_mp_lazy_unw.lz_unw_set_caching_policy)
#endif
#define dwfl_begin (_mp_lazy.lz_dwfl_begin)
#define dwfl_end (_mp_lazy.lz_dwfl_end)
#define dwfl_report_begin (_mp_lazy.lz_dwfl_report_begin)
#define dwfl_report_end (_mp_lazy.lz_dwfl_report_end)
#define dwfl_report_elf (_mp_lazy.lz_dwfl_report_elf)
#define dwfl_linux_proc_report (_mp_lazy.lz_dwfl_linux_proc_report)
#define dwfl_addrmodule (_mp_lazy.lz_dwfl_addrmodule)
#define dwfl_getmodules (_mp_lazy.lz_dwfl_getmodules)
#define dwfl_module_info (_mp_lazy.lz_dwfl_module_info)
#define dwfl_module_getelf (_mp_lazy.lz_dwfl_module_getelf)
#define dwfl_module_getsrc (_mp_lazy.lz_dwfl_module_getsrc)
#define dwfl_module_nextcu (_mp_lazy.lz_dwfl_module_nextcu)
#define dwfl_module_addrinfo (_mp_lazy.lz_dwfl_module_addrinfo)
#define dwfl_module_getsymtab (_mp_lazy.lz_dwfl_module_getsymtab)
#define dwfl_module_getsymtab_first_global                                   \
	(_mp_lazy.lz_dwfl_module_getsymtab_first_global)
#define dwfl_module_getsym_info (_mp_lazy.lz_dwfl_module_getsym_info)
#define dwfl_module_eh_cfi (_mp_lazy.lz_dwfl_module_eh_cfi)
#define dwfl_module_dwarf_cfi (_mp_lazy.lz_dwfl_module_dwarf_cfi)
#define dwfl_lineinfo (_mp_lazy.lz_dwfl_lineinfo)
#define dwfl_linux_proc_find_elf _mp_lz_proc_find_elf
#define dwfl_build_id_find_elf _mp_lz_build_id_find_elf
#define dwfl_standard_find_debuginfo (_mp_lazy.lz_dwfl_standard_find_debuginfo)
#define dwfl_build_id_find_debuginfo _mp_lz_build_id_find_debuginfo
#define dwfl_offline_section_address _mp_lz_section_address
#define dwarf_getsrc_die (_mp_lazy.lz_dwarf_getsrc_die)
#define dwarf_haspc (_mp_lazy.lz_dwarf_haspc)
#define dwarf_lineno (_mp_lazy.lz_dwarf_lineno)
#define dwarf_linesrc (_mp_lazy.lz_dwarf_linesrc)
#define dwarf_cfi_addrframe (_mp_lazy.lz_dwarf_cfi_addrframe)
#define dwarf_frame_info (_mp_lazy.lz_dwarf_frame_info)
#define dwarf_frame_cfa (_mp_lazy.lz_dwarf_frame_cfa)
#define dwarf_frame_register (_mp_lazy.lz_dwarf_frame_register)
#define elf_begin (_mp_lazy.lz_elf_begin)
#define gelf_getehdr (_mp_lazy.lz_gelf_getehdr)
#endif

#endif
