/* stack.h - call-stack capture: the fast walker (unwind.c), libunwind behind
 * it, or both compared (option unwinder). */
#ifndef MP_STACK_H
#define MP_STACK_H

#include <stdint.h>

/* Capture up to `max` frames starting at the frame that returns to
 * `caller_pc` (the return address of the public entry point), so the pool's
 * own frames are skipped.  Returns the number of frames stored in out.
 * Must be called with the reentrancy guard held. */
unsigned _mp_stack_capture(uintptr_t *out, unsigned max, uintptr_t caller_pc);

/* Capture with the configured depth and store in the depot; returns the
 * stack id, 0 when stacks are disabled.  Takes the reentrancy guard. */
uint32_t _mp_stack_here(uintptr_t caller_pc);

/* Per-process set-up (caching policy); safe to call more than once. */
void _mp_stack_init(void);

/* fork: unwinding walks the loader's module list under its lock, and glibc
 * leaves that lock held in the child if another thread was inside it at
 * fork time.  prepare waits (bounded) until no capture is inside the gate
 * below and holds new ones back; done lets them go again (parent and
 * child). */
void _mp_stack_fork_prepare(void);
void _mp_stack_fork_done(void);

/* The gate around everything that may take the loader's lock or read the
 * module set: libunwind, and the fast walker's rule derivation.  The fast
 * walk itself never enters it. */
void _mp_stack_gate_enter(void);
void _mp_stack_gate_leave(void);

/* At exit: with unwinder=2 the comparison counts, with verbosity=2 the fast
 * walker's statistics; one line each on the report sink. */
void _mp_stack_exit_note(void);

#endif
