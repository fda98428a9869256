/* shim.h - what every file defining libc's symbols shares: the export
 * attribute, the caller's address and the pass-through tests.
 */
#ifndef MP_SHIM_H
#define MP_SHIM_H

#include "passthru.h"

#include <stdint.h>

#define SHIM __attribute__((visibility("default"), noinline))
#define CALLER ((uintptr_t)__builtin_return_address(0))

/* In a set-user-ID program (AT_SECURE), and in a system program with
 * system_passthrough=1, every call goes straight to the real allocator:
 * no options are parsed, nothing is tracked or reported (passthru.c). */
#define SECURE() __builtin_expect(_mp_passthrough(), 0)
/* Sampled mode (sample_rate=N) is the pass-through plus its slots: the
 * shims forward as above, but one allocation in N (a thread-local
 * countdown) goes to a guarded slot, and a free, realloc or size query
 * of a pointer in the slots region (one range check) comes back to it. */
#define SAMPLED() __builtin_expect(_mp_passthrough_sampled(), 0)

#endif
