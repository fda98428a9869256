/* handoff.h - where the program handed control to the checker: the stack
 * pointer and registers the leak scan starts from. */
#ifndef MP_HANDOFF_H
#define MP_HANDOFF_H

#include <stdint.h>

#define MP_HANDOFF_REGS 23

struct mp_handoff {
	uintptr_t sp;                    /* the program's frames: [sp, top) */
	uintptr_t regs[MP_HANDOFF_REGS]; /* its live registers, in mcontext
					  * gregs order (dead ones 0) */
	int nregs;
};

/* Walk up from the caller past the checker's, the dynamic linker's and the
 * C library's frames (exit, _dl_fini, a destructor, the _exit shim) to the
 * first frame of the program's: its stack pointer at the call, and the
 * callee-saved registers as they were there.  Returns 0, or -1 when no such
 * frame was found (h then holds the highest frame reached). */
int _mp_handoff_here(struct mp_handoff *h);

/* A fatal signal's handler: the interrupted context is the handoff (with
 * the red zone below its stack pointer, and every general register).  The
 * next leak scan in this process starts there. */
void _mp_handoff_set_context(const void *ucontext);
/* The context set above, if any: 1 and *h filled, else 0. */
int _mp_handoff_context(struct mp_handoff *h);

/* A word the program is about to receive from the pool call it is in (the
 * block malloc returns): a live register at the handoff (0: none). */
void _mp_handoff_keep(uintptr_t word);

/* on: the next scans run on the checker thread (longrun.c), whose own
 * stack, registers and descriptor are no roots (sp 0); off: forget any
 * context, the next scan starts from its caller (_mp_handoff_here). */
void _mp_handoff_set_checker(int on);

#endif
