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

/* A leak scope (mp_scope_begin .. mp_scope_end) checked from the thread
 * that began it: frames made after it began and returned since are dead by
 * definition (the test body has returned), but the live frames the glue
 * puts over them leave slots unwritten that still hold the body's
 * pointers.  So that thread's stack is a root from the frame that spans the
 * scope (that called the glue, or mp_scope_begin and mp_scope_end itself)
 * up, with its callee-saved registers as they are there; its caller's
 * frame is identified by its stack pointer and the return address of the
 * call it is in, the same at both ends. */
#define MP_SCOPE_FRAMES 64
struct mp_frames {
	int n;
	uintptr_t sp[MP_SCOPE_FRAMES], ip[MP_SCOPE_FRAMES]; /* innermost first */
};
/* The program's frames above the caller (past ours, ld.so's and libc's):
 * 0, or -1 when none was found (f->n 0). */
int _mp_handoff_frames(struct mp_frames *f);
/* f (frames from _mp_handoff_frames at the scope's begin): the next
 * _mp_handoff_here calls walk on up to the frame the scope began in, and
 * hand off there; a walk on another thread's stack finds none and stops at
 * the first program frame as usual.  NULL: none. */
void _mp_handoff_set_scope(const struct mp_frames *f);

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
