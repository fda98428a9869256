/* quarantine.h - bounded FIFO of freed blocks held back from reuse. */
#ifndef MP_QUARANTINE_H
#define MP_QUARANTINE_H

#include <stddef.h>
#include <stdint.h>

struct mp_qent {
	uintptr_t user;
	size_t size;
};

#define MP_Q_BATCH 32

/* The byte budget (weights: size + 32) shared out among the arenas in use:
 * quarantine_mb=N MiB, or with quarantine_mb=auto (-1, the default)
 * MP_Q_AUTO_FLOOR plus the peak of live heap bytes last given to
 * _mp_quarantine_set_peak, at most MP_Q_AUTO_CAP (docs/quarantine.md). */
#define MP_Q_AUTO_FLOOR ((size_t)2 << 20)
#define MP_Q_AUTO_CAP ((size_t)64 << 20)
size_t _mp_quarantine_budget(void);
void _mp_quarantine_set_peak(size_t live);

/* Append a freed block; then move up to `max` of the oldest blocks that
 * exceed the budget into out.  Returns how many were moved: the caller
 * releases them and calls _mp_quarantine_drain until it returns 0. */
size_t _mp_quarantine_push(uintptr_t user, size_t size, struct mp_qent *out,
			   size_t max);
size_t _mp_quarantine_drain(struct mp_qent *out, size_t max);

/* Give back the whole pages of [lo, hi), bytes of a big block (`size` >=
 * MP_Q_DROP_MIN) entering the quarantine that no check reads (past the
 * poisoned first MP_POISON_MAX bytes, before the rear guard): a quarantine
 * of big freed buffers holds address space, not memory.  They read as zeros
 * until reused.  Smaller blocks keep their pages: the real allocator hands
 * their memory out again after eviction, and every dropped page would then
 * fault in afresh (python's lists and dicts: 316k page faults instead of
 * 50k, 1.5x the time).  Nothing is dropped either when the block would
 * leave the quarantine at once (quarantine_mb=0, or over the budget). */
#define MP_Q_DROP_MIN ((size_t)1 << 20) /* ~memcheck's --freelist-big-blocks (10^6) */
void _mp_quarantine_drop_pages(uintptr_t lo, uintptr_t hi, size_t size);

/* Call fn for every quarantined block, oldest first, under the quarantine
 * lock (fn must not free, print or take the quarantine lock). */
void _mp_quarantine_foreach(void (*fn)(const struct mp_qent *, void *),
			    void *arg);

/* The same for the blocks this process freed itself: in a forked child,
 * only those pushed since the fork.  The exit check of a child uses it: the
 * inherited ones are the parent's, which checks its own copies, and
 * checking them in every child made each child's exit cost as much as the
 * parent's whole quarantine (bash subshells).  Counts the blocks visited
 * (_mp_quarantine_own_visited, for the JSON report's stats). */
void _mp_quarantine_foreach_own(void (*fn)(const struct mp_qent *, void *),
				void *arg);
size_t _mp_quarantine_own_visited(void);
/* fork's child handler: unlock every shard (as _mp_quarantine_unlock) and
 * mark what is inherited. */
void _mp_quarantine_fork_child(void);

/* Forget everything (mp_destroy: blocks are released by their owners). */
void _mp_quarantine_reset(void);
void _mp_quarantine_lock(void);
void _mp_quarantine_unlock(void);

#endif
