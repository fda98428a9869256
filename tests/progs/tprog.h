/* tprog.h - helpers shared by the integration test programs (tests/progs).
 *
 * The programs are built at -O0 and -O2 with -Werror: these keep the
 * optimizer from deleting the deliberate bugs or warning about them.  None
 * scrubs its stack: the leak scan must give the same kinds without it.
 */
#ifndef TPROG_H
#define TPROG_H

#include <stddef.h>
#include <stdlib.h>

/* Keep a function a real frame with its own name at -O2 (no inlining, no
 * .isra/.constprop clones), so stacks name it. */
#if defined(__clang__)
#define TP_NOINLINE __attribute__((noinline))
#else
#define TP_NOINLINE __attribute__((noipa))
#endif

/* Put after a call that must not become a tail call (which would drop the
 * calling function's frame from the recorded stack). */
#define TP_NO_TAILCALL() __asm__ volatile("" ::: "memory")

/* The same pointer, with its origin hidden from the compiler (no
 * -Wfree-nonheap-object / -Wuse-after-free, no malloc+free elision). */
static inline void *tp_launder(void *p)
{
	__asm__ volatile("" : "+r"(p));
	return p;
}

/* Make p (and what it points to) escape: stores before this are kept. */
static inline void tp_escape(void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

/* A size the compiler cannot see (no -Walloc-size-larger-than). */
static inline size_t tp_size(size_t n)
{
	__asm__ volatile("" : "+r"(n));
	return n;
}

/* A 5000-byte block held by a static, allocated first: served by the real
 * allocator's brk heap, it is the lowest-addressed live block, below every
 * slab.  Programs whose point is that some *other* block is reachable call
 * this first, so a root that happens to point at "the lowest block" cannot
 * make their check pass (see t_leakkinds.sh).  Reported as one reachable
 * 5000-byte block allocated in tp_anchor. */
static TP_NOINLINE __attribute__((unused)) void tp_anchor(void)
{
	static void *volatile anchor;
	anchor = malloc(5000); /* ANCHOR_SITE */
	tp_escape(anchor);
}

#endif
