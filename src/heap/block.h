/* block.h - block layout, per-block metadata and the locks that guard them.
 *
 * Shared by the slab, large-block table, guard, quarantine and leak code.
 * Metadata lives out of band (never next to user bytes), so an overflow or
 * underflow can damage guards but never the pool's own bookkeeping.
 */
#ifndef MP_BLOCK_H
#define MP_BLOCK_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "mempool.h"

/*
 * Slab block ("slot") of class C, requested size n (0 <= n <= C):
 *
 *   slot              user = slot + 16        user + n      user + n + 16   slot + stride
 *   |                 |                       |             |               |
 *   v                 v                       v             v               v
 *   +-----------------+-----------------------+-------------+---------------+
 *   | front guard 16 B| user bytes [0, n)     | rear guard  | slack: never  |
 *   | all 0xAB        | freed: first 256 B    | 16 B, 0xAB  | written nor   |
 *   |                 | poisoned 0xA0         |             | checked       |
 *   +-----------------+-----------------------+-------------+---------------+
 *   stride = C + 32: the rear guard starts right after byte n-1, not after the
 *   class rounding, so a one-byte overflow of a 100-byte block is caught.
 *   Only the 32 guard bytes are written per allocation: filling the slack
 *   too would double the memory traffic of a churn for little gain.
 *
 * Large block (n > 4096, or alignment > 16), from the real allocator:
 *
 *   real ... user - 16 | front guard 16 B | user bytes [0, n) | rear guard 16 B |
 *
 * Invariants:
 *  - user pointers are 16-byte aligned (slabs are mmap'd, stride % 16 == 0);
 *  - a slab is MP_SLAB_SIZE bytes, aligned to MP_SLAB_SIZE, one class only;
 *    the page map (slab.c) maps its address to its descriptor;
 *  - metadata of a slot survives its free (state FREED) until the slot is
 *    reused, so a late double free still names both stacks;
 *  - stack ids index the stack depot; 0 means "no stack";
 *  - every block remembers the family of the call that allocated it (enum
 *    mp_family: malloc, new, new[], aligned new, aligned new[]), so a
 *    deallocation by another family is reported: 3 bits beside the 13-bit
 *    size of a slot (sizes are <= 4096), one byte of struct mp_large with the
 *    alignment of an aligned new.  Aligned news always take the large path,
 *    whatever their alignment, so a slot never needs one.
 *
 * Arenas: each class exists MP_ARENAS times (_mp_classes[arena][class]);
 * a thread allocates from one arena, chosen round-robin at its first
 * allocation, so threads on different arenas share no lock and no cache
 * line on the allocation path.  A slab belongs to one arena for life and
 * every operation on its slots (free from any thread, eviction, checks)
 * takes that arena's class lock: the locking rules below are per arena.
 *
 * Locking:
 *  - struct mp_class.lock guards that (arena, class)'s slab list, every
 *    struct mp_meta of its slabs, its free lists and its counters; one
 *    exception: a slot in a thread's cache (MP_ST_CACHED) is made LIVE by
 *    that thread without the lock, state last with a release store
 *    (tcache.h has the rules; readers load the state with _mp_meta_state);
 *  - the large table lock (large.c) guards struct mp_large entries;
 *  - each quarantine shard's lock (quarantine.c) guards that FIFO only;
 *  - lock order: quarantine, then class or large; never two class locks,
 *    never two quarantine locks (except fork and the leak scan below).
 *  - the whole process, in one order (the fork ranks of procgate.h):
 *    [readable-map snapshot, procmaps.c] -> quarantine -> depot -> every
 *    class lock -> thread-cache registry (tcache.c, fork only) -> large ->
 *    vm registry -> thread registry (threads.c).
 *    fork takes the symbolizer's lock, the loader gate, the walker's
 *    table and quarantine..vm through procgate.c; the leak scan takes
 *    snapshot, classes, large, vm, then the registry, and then stops the
 *    other threads, none of which can be parked holding any of these.
 *    One scan at a time: a check while running holds leakscan.c's scan
 *    gate before all of them; the exit report waits for it and lets no
 *    check begin after.  The report lock and the thread registry take no
 *    part in fork (renewed in the child): a report's writer may wait for
 *    the fork in the loader gate.
 *  - no lock is held while capturing stacks, symbolizing, printing or
 *    unmapping; reports are built from copies taken under the lock.
 */

#define MP_GUARD_SIZE 16
#define MP_GUARD_BYTE 0xAB   /* guard zones */
/* User bytes of a freed, quarantined block.  0xA0 (README, "Use after
 * free"): every common read-modify-write changes it (as a double or float
 * it is a tiny negative number, so `x += 3.0` stores 3.0's bytes, where
 * 0xFD.. was a huge one that absorbs the addition; every byte even, so `|= 1`
 * shows), and any 8 bytes of it are a non-canonical address that faults. */
#define MP_FREE_BYTE 0xA0
#define MP_ALIGN 16

#define MP_SLAB_SHIFT 20
#define MP_SLAB_SIZE ((size_t)1 << MP_SLAB_SHIFT)

enum mp_state {
	MP_ST_UNUSED = 0, /* never handed out */
	MP_ST_LIVE,       /* allocated */
	MP_ST_QUAR,       /* freed, in quarantine, poisoned */
	MP_ST_FREED,      /* freed, back on the free list */
	MP_ST_CACHED,     /* free, in a thread's cache (tcache.h); reports
			   * and checks see it as FREED */
};

enum mp_flags {
	MP_F_INTERNAL = 1,  /* served while the reentrancy guard was held */
	MP_F_REPORTED = 2,  /* guard/poison damage already reported */
	MP_F_MARK = 4,      /* leak scan: reached */
	MP_F_PENDING = 8,   /* leak scan: reached, contents not read yet */
	/* bits 4-5: leak kind from the last scan (enum mp_leak_kind) */
	MP_F_WEAK = 64,     /* leak scan: reached only by an interior pointer */
	MP_F_GUARDPAGE = 128, /* large table only: a guard-page block */
};
#define MP_F_KIND_SHIFT 4
#define MP_F_KIND_MASK (3 << MP_F_KIND_SHIFT)
/* A new block's kind bits say "reachable" (enum mp_leak_kind 3): the leak
 * scan resets every block's kind when it starts, so a block allocated by
 * another thread after the scan, while the report is being written, is not
 * judged by it (it would otherwise read as "definite"). */
#define MP_F_KIND_UNJUDGED (3 << MP_F_KIND_SHIFT)

/* Per-block facts that outlive a leak scan (checks while the program
 * runs, LeakSanitizer's interface): the aux word of a live slot, the aux
 * bits of a large entry.  Set at allocation and by the scan, under the
 * block's lock. */
enum mp_aux {
	MP_AUX_IGNORED = 1, /* __lsan_ignore_object, or made under __lsan_disable:
			     * never a leak, and a root */
	MP_AUX_SEEN = 2,    /* judged by an earlier leak check */
	MP_AUX_FRESH = 4,   /* first judged by the latest check (leak_check_mode=new) */
	MP_AUX_PRE = 8,     /* live when the open scope began (mp_scope_begin
			     * marks every live block): not the scope's own */
	MP_AUX_SCOPED = 16, /* lost, and reported by a scope's check: no later
			     * check nor the exit report lists it again */
};
#define MP_AUX_BITS 31u
/* Bits 5-31 of a live slot's aux word (and struct mp_large's gen): the
 * fork generation of the process that allocated the block.  A forked child
 * counts one more than its parent (_mp_heap_fork_child), so a block is the
 * child's own when its generation is the current one, and the inherited
 * ones are told apart without writing into them (their metadata pages stay
 * shared with the parent).  Generation 0: never forked, every block own. */
#define MP_AUX_GEN_SHIFT 5
extern unsigned _mp_heap_gen;
extern unsigned _mp_heap_gen_aux; /* the same, shifted into place */
/* Whether this process forked a child of its own since it was forked:
 * pages it wrote may then be shared with that child (leakscan.c). */
extern int _mp_heap_forked_again;
static inline unsigned _mp_gen_of_aux(uint32_t aux)
{
	return aux >> MP_AUX_GEN_SHIFT;
}

/* The allocating family of a block: a deallocation must come from the same
 * one (alloc-dealloc-mismatch).  The whole malloc family (malloc, calloc,
 * realloc, memalign, ...) is one: free() releases any of them. */
enum mp_family {
	MP_FAM_MALLOC = 0,
	MP_FAM_NEW,             /* operator new (plain or nothrow) */
	MP_FAM_NEW_ARRAY,       /* operator new[] */
	MP_FAM_NEW_ALIGNED,     /* operator new(std::align_val_t) */
	MP_FAM_NEW_ARRAY_ALIGNED,
	MP_FAM_COUNT
};
#define MP_FAM_BITS 3
#define MP_FAM_MASK ((1u << MP_FAM_BITS) - 1)
#define MP_SLOT_SIZE_BITS 13 /* requested bytes of a slot: 0..4096 */

/* Out-of-band metadata of one slab slot: 16 bytes. */
struct mp_meta {
	uint32_t alloc_stack;
	uint32_t free_stack;
	union {
		uint32_t next_free; /* free-list link (slot index), FREED only */
		uint32_t aux;       /* LIVE: enum mp_aux bits */
	};
	uint16_t size : MP_SLOT_SIZE_BITS; /* requested bytes */
	uint16_t family : MP_FAM_BITS;     /* enum mp_family */
	uint8_t state;        /* enum mp_state */
	uint8_t flags;        /* enum mp_flags */
};
_Static_assert(sizeof(struct mp_meta) == 16, "slot metadata stays 16 bytes");
_Static_assert(MP_MAX_CLASS < (1 << MP_SLOT_SIZE_BITS), "slot sizes fit");
_Static_assert(MP_FAM_COUNT <= (1 << MP_FAM_BITS), "families fit their bits");

/* A slot's state as a reader must load it: a thread's cache makes a slot
 * LIVE without the class lock, its metadata and guards first and the state
 * last (release), so a reader under the lock sees it free or whole. */
static inline uint8_t _mp_meta_state(const struct mp_meta *m)
{
	return __atomic_load_n(&m->state, __ATOMIC_ACQUIRE);
}

struct mp_slab {
	uintptr_t base;          /* MP_SLAB_SIZE aligned */
	struct mp_meta *meta;    /* nslots entries, separate mapping */
	size_t meta_bytes;
	struct mp_slab *next;    /* all slabs of the class */
	struct mp_slab *next_avail; /* slabs with a free or unused slot */
	uint32_t stride;
	uint32_t nslots;
	uint32_t bump;           /* slots [bump, nslots) never used */
	uint32_t free_head;      /* FREED slot list, MP_NO_SLOT = empty */
	uint32_t in_use;         /* live + quarantined slots */
	uint32_t populated;      /* slots [0, populated) have their pages */
	uint32_t gen;            /* latest fork generation that allocated a
				  * slot here: a forked child's exit report
				  * skips the slabs it never allocated from */
	uint8_t cls;
	uint8_t arena;
	uint8_t on_avail;
};

#define MP_NO_SLOT UINT32_MAX

/* Threads allocating at once without sharing a lock: 8 covers the cores of
 * the machines we run on several times over; arenas cost nothing unused. */
#define MP_ARENAS 8

struct mp_class {
	pthread_mutex_t lock;
	struct mp_slab *slabs;
	struct mp_slab *avail;
	size_t total, live, quarantined;
	size_t allocs, frees;    /* counted here, under the lock already held,
				  * rather than in shared atomics */
	uint32_t size;
} __attribute__((aligned(64))); /* one lock per cache line: no false sharing */

extern struct mp_class _mp_classes[MP_ARENAS][MP_NUM_CLASSES];

/* Every (arena, class) in turn: k in [0, MP_ARENAS * MP_NUM_CLASSES). */
static inline struct mp_class *_mp_class_at(int k)
{
	return &_mp_classes[k / MP_NUM_CLASSES][k % MP_NUM_CLASSES];
}

/* The (arena, class) that owns slab s. */
static inline struct mp_class *_mp_slab_class(const struct mp_slab *s)
{
	return &_mp_classes[s->arena][s->cls];
}

/* A copy of one block's facts, taken under its lock, for verdicts/reports. */
struct mp_block {
	uintptr_t user;
	size_t size;
	int cls;             /* -1: large block */
	uint32_t alloc_stack;
	uint32_t free_stack;
	uint8_t state;
	uint8_t flags;
	uint8_t family;      /* enum mp_family */
	uint8_t align_log;   /* aligned new: log2 of the alignment asked for */
};

#endif
