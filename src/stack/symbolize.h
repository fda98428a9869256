/* symbolize.h - program counter -> function, source file:line, module+offset.
 *
 * Report-time only: never called on the allocation hot path.  May allocate
 * (libdw does); callers hold the per-thread reentrancy guard so those
 * allocations go to the real allocator, and hold no pool lock.
 */
#ifndef MP_SYMBOLIZE_H
#define MP_SYMBOLIZE_H

#include <stdint.h>

#define MP_SYM_NAME_MAX 256

struct mp_symbol {
	char function[MP_SYM_NAME_MAX]; /* demangled; "" when unknown */
	char file[MP_SYM_NAME_MAX];     /* source file; "" when unknown */
	int line;                       /* 0 when unknown */
	char module[MP_SYM_NAME_MAX];   /* path of the ELF object; "" when unknown */
	uintptr_t offset;               /* pc - module load bias; 0 when unknown */
};

/* Called by the dlclose shim before the real dlclose: remember the path,
 * load bias and address range of the module behind `handle` so frames in it
 * can still be symbolized after it is unloaded.  Must not call malloc. */
void _mp_symbolize_before_dlclose(void *handle);

/* Fill *out for a return address / pc.  `pc` is the value stored in the
 * stack (a return address for every frame but the innermost); the lookup
 * itself uses pc - 1 so the call line, not the next line, is named.
 * Returns 1 when at least module or function is known, 0 otherwise.
 * Thread-safe (serialised internally). */
int _mp_symbolize(uintptr_t pc, struct mp_symbol *out);

/* How many modules were unloaded so far (dlclose): a stack captured at
 * generation g names its frames as of then with _mp_symbolize_at, even
 * where another module was loaded at the same addresses since. */
unsigned long _mp_symbolize_generation(void);
int _mp_symbolize_at(uintptr_t pc, unsigned long gen, struct mp_symbol *out);

/* 1 when `pc` is the C runtime's frame that calls main, known from its
 * caller `outer` alone: `outer` is __libc_start_main and `pc` lies in the
 * same object (glibc 2.34+: __libc_start_call_main, which only libc's
 * separate debug file names; before 2.34 the frame it calls is main, in the
 * program).  dladdr only: nothing is opened, where naming `pc` would read
 * libc's whole debug symbol table (~0.9 MiB resident at exit, for a frame no
 * report prints). */
int _mp_symbolize_crt_frame(uintptr_t pc, uintptr_t outer);

/* Drop cached debug information (mp_destroy, after fork in the child). */
void _mp_symbolize_reset(void);

#endif
