/* stack.h - call-stack capture: the fast walker (unwind.c), libunwind behind
 * it, or both compared (option unwinder). */
#ifndef MP_STACK_H
#define MP_STACK_H

#include "unwind.h"

#include <stdint.h>

/* Capture up to `max` frames starting at the frame that returns to
 * `caller_pc` (the return address of the public entry point), so the pool's
 * own frames are skipped.  Returns the number of frames stored in out.
 * Must be called with the reentrancy guard held. */
unsigned _mp_stack_capture(uintptr_t *out, unsigned max, uintptr_t caller_pc);

/* Capture with the configured depth and store in the depot; returns the
 * stack id, 0 when stacks are disabled.  Takes the reentrancy guard. */
uint32_t _mp_stack_here(uintptr_t caller_pc);

/* The same for a free (or another deallocation): free_stack_depth frames
 * (-1: stack_depth), at most stack_depth. */
uint32_t _mp_stack_here_free(uintptr_t caller_pc);

/* Per-process set-up (caching policy); safe to call more than once. */
void _mp_stack_init(void);

/* What the walkers did, for the report at exit: walks left to libunwind
 * by reason (unwind.h MP_UW_*), and in compare mode (unwinder=2) the
 * captures compared and how many differed (only the first mismatch_lines
 * of them were passed to the mismatch hook). */
struct mp_stack_counts {
	unsigned long declined[MP_UW_NREASONS];
	unsigned long compared, mismatches, mismatch_lines;
};
void _mp_stack_counts(struct mp_stack_counts *c);

/* Compare mode: where a difference goes (the report module registers its
 * printer at initialisation; stack capture never prints). */
void _mp_stack_on_mismatch(void (*hook)(unsigned at, const uintptr_t *fast,
					unsigned nf, const uintptr_t *ref,
					unsigned nr));

#endif
