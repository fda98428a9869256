/* deepstack.h - run the library's deep work on a stack of its own. */
#ifndef MP_DEEPSTACK_H
#define MP_DEEPSTACK_H

#include <stdint.h>

/* Call fn(arg) on this thread's library stack (mapped at the first call,
 * freed at the thread's exit), or on the caller's stack when already on it,
 * when a signal handler interrupted deep work on it, or when there is no
 * memory for one.  What must describe the caller (its stack, for a
 * capture) is taken before the call. */
void _mp_deep_call(void (*fn)(void *), void *arg);

/* The program's context at the switch (a ucontext_t) when sp lies on this
 * thread's library stack while it runs deep work, else NULL: the leak scan
 * reads the program's registers and stack from there, not ours. */
const void *_mp_deep_caller(uintptr_t sp);

/* Is deep work running on this thread's library stack now? */
int _mp_deep_active(void);

#endif
