/* sampleslots.h - the guarded slots of sampled mode (sample_rate): one
 * reserved region, each slot a page between inaccessible pages. */
#ifndef MP_SAMPLESLOTS_H
#define MP_SAMPLESLOTS_H

#include <stddef.h>
#include <stdint.h>

#include "block.h"
#include "verdict.h"

#define MP_SLOTS_MAX 4096 /* sample_slots' upper bound */

/* [lo, hi): the slots region, 0/0 until mapped (every free of the process
 * asks _mp_slots_owns, two loads and two compares). */
extern uintptr_t _mp_slots_lo, _mp_slots_hi;

static inline int _mp_slots_owns(const void *p)
{
	return (uintptr_t)p - _mp_slots_lo < _mp_slots_hi - _mp_slots_lo;
}

/* The per-thread countdown to the next sampled allocation: only its
 * decrement is paid by an unsampled one; at zero _mp_slots_draw refills it
 * (a uniform interval of mean `rate`, from a per-thread generator) and
 * says whether this allocation is sampled (not the first of a thread, nor
 * before the region exists). */
extern __thread long _mp_slots_countdown __attribute__((tls_model("initial-exec")));
int _mp_slots_draw(void);
static inline int _mp_slots_tick(void)
{
	return __builtin_expect(--_mp_slots_countdown <= 0, 0) && _mp_slots_draw();
}

/* Map the region of `slots` slots (once; 0 when mapped), sampling one
 * allocation in `rate`.  -1: no memory (nothing is ever sampled). */
int _mp_slots_init(unsigned slots, unsigned long rate);

/* A slot for n bytes aligned to align (both at most a page): the block
 * against the next slot's guard page (over) or after the previous one
 * (under), sides alternating; the rest of the page filled with guard
 * bytes.  NULL when every slot is in use or another thread holds the lock
 * (the caller then goes to the C library: never a wait). */
void *_mp_slots_take(size_t n, size_t align, uint32_t stack, unsigned family);

/* What the slot of p holds (p anywhere in the region): 0 when p is in no
 * slot ever used; else fills *b (state MP_ST_LIVE or MP_ST_QUAR, the
 * slot's last block) and returns 1. */
int _mp_slots_block(const void *p, struct mp_block *b);

/* The slot whose page holds p (0..slots-1), -1 outside the region or on
 * a guard page; and how many slots there are. */
long _mp_slots_index(uintptr_t p);
unsigned _mp_slots_count(void);
/* Live sampled blocks now (a count over the slots, lock-free). */
unsigned _mp_slots_live(void);

/* Guard bytes of the slot of live block b changed: up to two verdicts
 * (underflow, overflow) into v, as _mp_guard_verdicts. */
int _mp_slots_verdicts(const struct mp_block *b, uint32_t stack,
		       const char *where, struct mp_verdict *v);

/* Free the live block at user (a slot's start): its page becomes
 * inaccessible and the slot goes to the tail of the free list (reused as
 * late as possible); 0 when it is not live (freed by another thread). */
int _mp_slots_put(uintptr_t user, uint32_t free_stack);

/* Fault at addr: a slot's guard page or a freed slot?  Fills *v as
 * _mp_gp_fault does and returns 1.  Lock-free (the SIGSEGV handler). */
int _mp_slots_fault(uintptr_t addr, uint32_t access_stack, int access,
		    struct mp_verdict *v);

/* Every live block (leak estimate at exit): fn(ctx, b) for each. */
void _mp_slots_each_live(void (*fn)(void *ctx, const struct mp_block *b),
			 void *ctx);

/* Sampled allocations so far (all threads, approximate), the rate. */
unsigned long _mp_slots_sampled(void);
unsigned long _mp_slots_rate(void);

/* Around fork (procgate MP_FORK_SAMPLE); the child's handler also
 * starts a new generation. */
void _mp_slots_lock(void);
void _mp_slots_unlock(void);
void _mp_slots_fork_child(void);
/* Slot i's block was taken before this process was forked (its parent's:
 * a leak root here, judged by the parent). */
int _mp_slots_inherited(long i);

#endif
