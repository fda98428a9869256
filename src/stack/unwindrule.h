/* unwindrule.h - the fast walker's rule word: what unwindcfi.c derives from
 * a pc's CFI and unwind.c caches and walks with.  Shared by those two only.
 */
#ifndef MP_UNWINDRULE_H
#define MP_UNWINDRULE_H

#include <stdint.h>

/* One 64-bit word: kind in bits 0-1, flags, the offset from the CFA where
 * the caller's rbp is saved in bits 16-31, the CFA offset in bits 32-63.
 * The return address is always at CFA-8 and the caller's rsp is the CFA
 * (derive() refuses anything else), so neither needs storing. */
enum { R_NONE = 0, R_NORMAL = 1, R_END = 2, R_UNSUP = 3 };
#define R_KIND(r) ((unsigned)(r) & 3u)
#define R_CFA_RBP 4u    /* CFA = rbp + off; else rsp + off */
#define R_RBP_SAVED 8u  /* caller's rbp at CFA + rbp_off; else unchanged */
#define R_NOMODULE 16u  /* R_UNSUP: no module covered the pc (yet) */

static inline uint64_t r_make(unsigned flags, int32_t cfa_off, int16_t rbp_off)
{
	return (uint64_t)(uint32_t)cfa_off << 32 | (uint64_t)(uint16_t)rbp_off << 16 |
	       flags;
}

static inline int32_t r_cfa_off(uint64_t r) { return (int32_t)(uint32_t)(r >> 32); }
static inline int16_t r_rbp_off(uint64_t r) { return (int16_t)(uint16_t)(r >> 16); }

#endif
