/* unwindcfi.c - the fast walker's rules from DWARF CFI (libdw), one pc at a time.
 *
 * One concern: turning a pc into a rule word (unwindrule.h): the Dwfl of
 * this process, kept in line with the loader's module set, and the CFI row
 * of the pc classified into the few plain x86-64 forms the walker caches.
 * Separate from unwind.c, which caches the rules lock-free and walks with
 * them on every capture: this side is libdw's, slow, and runs only on a
 * miss, on the library's own stack, under unwind.c's uw_lock (every
 * function here: the callers hold it).
 */
#define _GNU_SOURCE
#include "unwindcfi.h"
#include "unwindrule.h"

#include <dwarf.h>
#include "lazylibs.h"
#include <stdlib.h>
#include <unistd.h>

/* DWARF register numbers (x86-64 psABI) */
#define REG_RBP 6
#define REG_RSP 7
#define REG_RA 16

/* Dwfl state, under uw_lock (unwind.c) */
static Dwfl *uw_dwfl;                    /* this process, for CFI only */
static unsigned long long uw_adds, uw_subs; /* loader counters at the report */
static bool uw_counted;                  /* uw_adds/subs are meaningful */
static bool uw_blind_rereport;           /* no counters: re-reported once */

/* libdwfl would mmap each module's file; a mapping made after a dlclose can
 * land in the hole the library left, and the symbolizer, which learns the
 * module set from /proc/self/maps, then attributes the closed library's pcs
 * to that file (pl_dlopen's leak was reported in "main").  libunwind maps
 * nothing, so neither do we: libelf reads the sections it needs with
 * pread (ELF_C_READ), into memory taken from glibc while we are busy. */
static int find_elf(Dwfl_Module *mod, void **ud, const char *name, Dwarf_Addr base,
		    char **file_name, Elf **elfp)
{
	int fd = dwfl_linux_proc_find_elf(mod, ud, name, base, file_name, elfp);
	if (fd >= 0 && *elfp == NULL)
		*elfp = elf_begin(fd, ELF_C_READ, NULL); /* NULL: libdwfl's own */
	return fd;
}

static const Dwfl_Callbacks callbacks = {
	.find_elf = find_elf,
	/* the build-id tree only: never debuginfod (see symbolize.c) */
	.find_debuginfo = dwfl_build_id_find_debuginfo,
};

static bool report_modules(void)
{
	if (!_mp_lazylibs_ready(MP_LZ_DW)) /* missing: every pc declined */
		return false;
	if (!uw_dwfl && (uw_dwfl = dwfl_begin(&callbacks)) == NULL)
		return false;
	dwfl_report_begin(uw_dwfl);
	/* a partial report (one unreadable mapping) is still useful */
	dwfl_linux_proc_report(uw_dwfl, getpid());
	if (dwfl_report_end(uw_dwfl, NULL, NULL) != 0) {
		dwfl_end(uw_dwfl);
		uw_dwfl = NULL;
		return false;
	}
	return true;
}

/* Bring the Dwfl and the table in line with the loader's module set.  A
 * dlclose (subs moved) may leave rules for addresses that a later dlopen
 * reuses; a dlopen (adds moved) may cover pcs cached as "no module". */
void _mp_unwind_sync_modules(const unsigned long long *c, bool nomodule,
			     void (*flush)(void))
{
	if (uw_dwfl && c && uw_counted && c[0] == uw_adds && c[1] == uw_subs)
		return;
	if (uw_dwfl && !c && !uw_counted)
		return; /* no counters: reported once, see derive() */
	if (uw_dwfl && (!c || c[1] != uw_subs || nomodule))
		flush();
	report_modules();
	uw_counted = c != NULL;
	uw_adds = c ? c[0] : 0;
	uw_subs = c ? c[1] : 0;
}

static bool is_cfa_plus(const Dwarf_Op *ops, size_t n, int64_t *off)
{
	if (n < 1 || n > 2 || ops[0].atom != DW_OP_call_frame_cfa)
		return false;
	if (n == 1) {
		*off = 0;
		return true;
	}
	if (ops[1].atom != DW_OP_plus_uconst)
		return false;
	*off = (int64_t)ops[1].number; /* libdw stores a negative offset
					* as its two's complement */
	return true;
}

/* The rule of one CFI row, or R_UNSUP.  libdw's forms (libdw.h, cfi.c):
 * CFA reg+off is one DW_OP_bregx {reg, off}; "saved at CFA+N" is
 * DW_OP_call_frame_cfa [DW_OP_plus_uconst N]; a value rule (val_offset)
 * ends in DW_OP_stack_value; no ops with *ops == NULL is same-value, with
 * *ops == ops_mem undefined. */
static uint64_t classify(Dwarf_Frame *fr)
{
	Dwarf_Addr start, end;
	bool signalp;
	Dwarf_Op mem[3], *ops;
	size_t n;
	int64_t off, rbp_off = 0;
	unsigned flags = R_NORMAL;

	if (dwarf_frame_info(fr, &start, &end, &signalp) != REG_RA || signalp)
		return R_UNSUP;
	if (dwarf_frame_register(fr, REG_RA, mem, &ops, &n) != 0)
		return R_UNSUP;
	if (n == 0) /* undefined: the outermost frame (_start, clone) */
		return ops ? R_END : R_UNSUP;
	if (!is_cfa_plus(ops, n, &off) || off != -8)
		return R_UNSUP;
	/* the caller's rsp must be the CFA itself (val_offset 0) */
	if (dwarf_frame_register(fr, REG_RSP, mem, &ops, &n) != 0 || n != 2 ||
	    ops[0].atom != DW_OP_call_frame_cfa || ops[1].atom != DW_OP_stack_value)
		return R_UNSUP;
	if (dwarf_frame_register(fr, REG_RBP, mem, &ops, &n) != 0)
		return R_UNSUP;
	if (n != 0) {
		if (!is_cfa_plus(ops, n, &rbp_off) || rbp_off > -16 ||
		    rbp_off < INT16_MIN || (rbp_off & 7))
			return R_UNSUP;
		flags |= R_RBP_SAVED;
	} else if (ops) {
		return R_UNSUP; /* rbp undefined in the caller */
	}
	if (dwarf_frame_cfa(fr, &ops, &n) != 0 || n != 1 || ops[0].atom != DW_OP_bregx)
		return R_UNSUP;
	off = (int64_t)ops[0].number2;
	if (ops[0].number == REG_RBP)
		flags |= R_CFA_RBP;
	else if (ops[0].number != REG_RSP)
		return R_UNSUP;
	if (off < 8 || off > INT32_MAX)
		return R_UNSUP;
	return r_make(flags, (int32_t)off, (int16_t)rbp_off);
}

uint64_t _mp_unwind_derive(uintptr_t addr, unsigned long *derived)
{
	Dwfl_Module *m = uw_dwfl ? dwfl_addrmodule(uw_dwfl, addr) : NULL;
	if (!m && !uw_counted && !uw_blind_rereport) {
		/* without the loader's counters a dlopen goes unseen: look
		 * once more (then cache the failure) */
		uw_blind_rereport = true;
		if (report_modules())
			m = dwfl_addrmodule(uw_dwfl, addr);
	}
	if (!m)
		return R_UNSUP | R_NOMODULE;
	(*derived)++;
	Dwarf_Addr bias;
	Dwarf_Frame *fr = NULL;
	Dwarf_CFI *cfi = dwfl_module_eh_cfi(m, &bias);
	if (!cfi || dwarf_cfi_addrframe(cfi, addr - bias, &fr) != 0) {
		fr = NULL;
		cfi = dwfl_module_dwarf_cfi(m, &bias);
		if (!cfi || dwarf_cfi_addrframe(cfi, addr - bias, &fr) != 0)
			return R_UNSUP;
	}
	uint64_t r = classify(fr);
	free(fr); /* malloc'd by libdw, from glibc: we are busy */
	return r;
}

/* A forked child that raced a derivation: the Dwfl may be half updated;
 * dropped (it leaks, once) and made again at the next miss. */
void _mp_unwind_cfi_drop(void)
{
	uw_dwfl = NULL;
}
