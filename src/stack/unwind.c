/* unwind.c - the fast stack walker: one CFI rule per distinct pc, cached.
 *
 * Debian's programs and libraries have no frame pointers, so every frame is
 * unwound by its DWARF CFI; deriving a rule (libdw: unwindcfi.c) costs
 * microseconds, so it is done once per pc and published in a lock-free table
 * that every thread reads.  A capture is then a probe and two or three loads per frame.  Only
 * the plain x86-64 forms are cached as usable; anything else (expression CFA,
 * stack realignment, signal frames, code without CFI) is left to libunwind.
 */
#define _GNU_SOURCE
#include "unwind.h"
#include "unwindcfi.h"
#include "unwindrule.h"
#include "deepstack.h"
#include "depot.h"
#include "loaderprobe.h"
#include "procgate.h"
#include "vm.h"
#include "out.h" /* _mp_lowfd_hold */

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>


/* ---- the table -----------------------------------------------------------
 *
 * Open addressing on key = (lookup address + 1): a return address is its own
 * key (its rule is looked up at pc-1, inside the call), the walk's first
 * frame, whose pc is exact, uses pc+1.  Written under uw_lock only, read
 * without any lock: an insert stores the rule, then the key (release); a
 * flush clears keys, then rules, and a reader re-reads the key after the
 * rule, so a rule it returns was stored for that key.  Half full at most, so
 * probes stay short; past that, new pcs go to libunwind.
 *
 * The table starts small and doubles (under uw_lock) up to TAB_SIZE: a
 * hashed table is touched all over at once, and 2 MiB of it was a third of
 * the resident memory mpwrap added to a small program.  A doubling copies
 * the rules into the new table, publishes it, then clears the old one and
 * gives its pages back (MADV_DONTNEED reads as zeros, i.e. empty slots): a
 * reader still probing the old table sees a miss, as after a flush, and
 * takes the slow path.  The old mapping stays reserved (readers may hold
 * it); it costs address space only. */
#define TAB_BITS 17
#define TAB_SIZE ((size_t)1 << TAB_BITS)
#define TAB_FIRST_BITS 10 /* 16 KiB */
#define TAB_PAGE 4096
#define PROBE_MAX 32

struct slot {
	_Atomic uint64_t key;
	_Atomic uint64_t rule;
};

/* tab[-1].rule holds the table's bits: a reader's table and its size are
 * one load */
static _Atomic(struct slot *) tab;
static _Atomic unsigned tab_gen; /* moves at every flush (per-thread copies) */

/* the full product: the table takes its top bits, the per-thread copy
 * (L1) the same bits as with a table of TAB_SIZE */
static inline uint64_t tab_hash(uint64_t key)
{
	return key * 0x9e3779b97f4a7c15ull;
}

static inline unsigned tab_bits(struct slot *t)
{
	return (unsigned)atomic_load_explicit(&t[-1].rule, memory_order_relaxed);
}

static inline uint64_t tab_get(struct slot *t, uint64_t h, uint64_t key)
{
	unsigned bits = tab_bits(t);
	size_t mask = ((size_t)1 << bits) - 1;
	size_t i = (size_t)(h >> (64 - bits));
	for (int p = 0; p < PROBE_MAX; p++, i = (i + 1) & mask) {
		uint64_t k = atomic_load_explicit(&t[i].key, memory_order_acquire);
		if (k == key) {
			uint64_t r = atomic_load_explicit(&t[i].rule, memory_order_acquire);
			if (atomic_load_explicit(&t[i].key, memory_order_relaxed) != key)
				return R_NONE; /* a flush got in between */
			return r;
		}
		if (k == 0)
			return R_NONE;
	}
	return R_NONE;
}

/* ---- per thread (~21 KiB, mapped at the thread's first walk) -------------
 *
 * Stack bounds: every address the walk reads lies in [sp, top of this
 * thread's stack), and the first sp must lie in the stack itself (a handler
 * on sigaltstack, a coroutine stack: libunwind).  Computed at the thread's
 * first capture, reentrancy guard held (pthread_getattr_np allocates).
 *
 * A direct-mapped copy of the rules used last: the shared table spreads
 * over 2 MiB, and in a program with a big working set (cc1) most probes of
 * it missed the cache, one dependent miss per frame.
 *
 * And the keys and rules of its last walks, by depth, one memo per hash of
 * caller_pc (the entry path below it and the callers above it tend to be
 * the same from one call site): when frame k's pc is the one the memo
 * predicts, its rule is known without waiting for a probe that depends on
 * the pc just loaded, so the loads of successive frames overlap.
 *
 * Both copies are emptied when a flush moves the table's generation. */
#define L1_SIZE 1024

#define MEMO_BITS 2
#define MEMO_N (1 << MEMO_BITS)
#define MEMO_DEPTH 24

struct uw_memo {
	uint64_t key[MEMO_DEPTH];
	uint64_t rule[MEMO_DEPTH];
};

struct uw_thread {
	uintptr_t lo, hi;
	int state; /* 0 unknown, 1 known, 2 unavailable */
	unsigned gen; /* of the copies in uw_cache */
	int deriving; /* inside slow_rule (which holds uw_lock) */
};

/* A replay of the last successful walk from each memo slot: the walk is a
 * function of its start (sp, fp, caller_pc, max; ip is fixed), of the rules
 * (fixed within a generation) and of the stack words it read.  When the
 * start is the same and every word read last time still holds the value it
 * had, the walk would take the same steps to the same result: the words are
 * compared with independent loads instead of a chain of dependent steps. */
#define REPLAY_READS 32 /* two per frame at most: return address, saved rbp */
#define REPLAY_OUT 16   /* deeper stacks are walked */
#define REPLAY_N 4      /* call sites remembered per thread */

struct uw_replay {
	uintptr_t sp, fp, caller;
	unsigned max, nout, nreads; /* nout 0: empty */
	bool fp_used;           /* the walk's result depends on the entry fp */
	uintptr_t addr[REPLAY_READS], val[REPLAY_READS];
	uintptr_t out[REPLAY_OUT];
	/* the depot id of out (stack.c): cleared with every new note, so
	 * that it always names these frames */
	struct mp_depot_memo memo;
};

struct uw_cache {
	struct { uint64_t key, rule; } l1[L1_SIZE];
	struct uw_memo memo[MEMO_N];
	struct uw_replay replay[REPLAY_N];
	unsigned replay_next; /* round-robin victim */
};

static __thread struct uw_thread uw_me __attribute__((tls_model("initial-exec")));
/* The caches live in a mapping of their own, reached by one pointer of
 * static TLS: 21 KB of TLS in every thread made a 16 KiB pthread_create
 * fail with EINVAL (glibc takes static TLS from the thread's stack).  No
 * malloc (we are inside it); unmapped at the thread's exit by a key
 * destructor; a thread that allocates again after it gets a new one. */
static __thread struct uw_cache *uw_cache_p __attribute__((tls_model("initial-exec")));
static pthread_key_t uw_key;
static int uw_key_ok;

static void cache_free(void *p)
{
	if (p && p == uw_cache_p) {
		uw_cache_p = NULL;
		_mp_unmap(p, sizeof(struct uw_cache));
	}
}

__attribute__((constructor)) static void cache_key_init(void)
{
	/* made this early, the key has a low index: setspecific then needs
	 * no memory */
	uw_key_ok = pthread_key_create(&uw_key, cache_free) == 0;
}

__attribute__((noinline, cold)) static struct uw_cache *cache_new(unsigned gen)
{
	struct uw_cache *c = _mp_map(sizeof *c, 0); /* zeros: every slot empty */
	if (!c)
		return NULL;
	uw_me.gen = gen; /* empty is right for any generation */
	uw_cache_p = c;
	if (uw_key_ok)
		pthread_setspecific(uw_key, c);
	return c;
}

/* ---- derivation state: all under uw_lock, taken only inside stack.c's fork
 * gate (the loader's counters, /proc/self/maps, ELF files; see
 * _mp_unwind_fork_prepare); the Dwfl and its module set are unwindcfi.c's */
static pthread_mutex_t uw_lock = PTHREAD_MUTEX_INITIALIZER;
static size_t tab_used;
static unsigned long n_nomodule;         /* R_NOMODULE entries in the table */
static struct mp_unwind_stats stats;

/* Empty t's slots (uw_lock held): keys first, then rules. */
static void tab_clear(struct slot *t)
{
	size_t n = (size_t)1 << tab_bits(t);
	for (size_t i = 0; i < n; i++) {
		if (!atomic_load_explicit(&t[i].key, memory_order_relaxed))
			continue;
		atomic_store_explicit(&t[i].key, 0, memory_order_relaxed);
		atomic_store_explicit(&t[i].rule, 0, memory_order_relaxed);
	}
}

static void flush_locked(void)
{
	struct slot *t = atomic_load_explicit(&tab, memory_order_relaxed);
	if (!t || !tab_used)
		return;
	tab_clear(t);
	tab_used = 0;
	n_nomodule = 0;
	stats.rules = stats.unusable = 0;
	stats.full = 0;
	stats.flushes++;
	atomic_store_explicit(&tab_gen, atomic_load_explicit(&tab_gen, memory_order_relaxed) + 1,
			      memory_order_release);
}

/* A table of 2^bits slots after its header slot, or NULL. */
static struct slot *tab_new(unsigned bits)
{
	struct slot *m = _mp_map((((size_t)1 << bits) + 1) * sizeof *m, 1);
	if (!m)
		return NULL;
	atomic_store_explicit(&m[0].rule, bits, memory_order_relaxed);
	return m + 1;
}

/* Store (key, rule) in t, which has room; uw_lock held. */
static int tab_insert(struct slot *t, uint64_t key, uint64_t rule)
{
	unsigned bits = tab_bits(t);
	size_t mask = ((size_t)1 << bits) - 1;
	size_t i = (size_t)(tab_hash(key) >> (64 - bits));
	for (int p = 0; p < PROBE_MAX; p++, i = (i + 1) & mask) {
		if (atomic_load_explicit(&t[i].key, memory_order_relaxed))
			continue;
		/* release: a reader that sees this rule also sees any flush
		 * that emptied the slot before */
		atomic_store_explicit(&t[i].rule, rule, memory_order_release);
		atomic_store_explicit(&t[i].key, key, memory_order_release);
		return 0;
	}
	return -1; /* a long cluster: rare at half load */
}

/* Double t (uw_lock held): copy, publish, then empty and release the old
 * table (see above).  NULL: no memory, keep t. */
static struct slot *tab_grow(struct slot *t)
{
	unsigned bits = tab_bits(t);
	struct slot *nt = tab_new(bits + 1);
	if (!nt)
		return NULL;
	for (size_t i = 0; i < (size_t)1 << bits; i++) {
		uint64_t k = atomic_load_explicit(&t[i].key, memory_order_relaxed);
		if (k)
			tab_insert(nt, k, atomic_load_explicit(&t[i].rule,
							       memory_order_relaxed));
	}
	atomic_store_explicit(&tab, nt, memory_order_release);
	tab_clear(t);
	/* the header's page stays: a reader may still read the bits */
	uintptr_t lo = (uintptr_t)(t - 1) + TAB_PAGE; /* mmap'd: page aligned */
	uintptr_t hi = (uintptr_t)(t + ((size_t)1 << bits)) & ~(uintptr_t)(TAB_PAGE - 1);
	if (hi > lo)
		madvise((void *)lo, hi - lo, MADV_DONTNEED);
	return nt;
}

static void tab_put(uint64_t key, uint64_t rule)
{
	struct slot *t = atomic_load_explicit(&tab, memory_order_relaxed);
	if (!t && (t = tab_new(TAB_FIRST_BITS)) != NULL)
		atomic_store_explicit(&tab, t, memory_order_release);
	if (t && tab_used >= ((size_t)1 << tab_bits(t)) / 2 &&
	    tab_bits(t) < TAB_BITS) {
		struct slot *nt = tab_grow(t);
		if (nt)
			t = nt;
	}
	/* A probe run longer than PROBE_MAX: grow rather than give up.  In a
	 * small table such a cluster comes well below half load, and where it
	 * comes depends on the load addresses (ASLR): "full" there sent every
	 * new pc to libunwind in 1 gcc run of 4 (t_unwind). */
	while (t && tab_used < ((size_t)1 << tab_bits(t)) / 2 &&
	       tab_insert(t, key, rule) != 0) {
		struct slot *nt = tab_bits(t) < TAB_BITS ? tab_grow(t) : NULL;
		if (!nt) {
			t = NULL;
			break;
		}
		t = nt;
	}
	/* half full at most */
	if (!t || tab_used >= ((size_t)1 << tab_bits(t)) / 2) {
		stats.full = 1;
		return;
	}
	tab_used++;
	if (R_KIND(rule) == R_UNSUP)
		stats.unusable++;
	else
		stats.rules++;
	if (rule & R_NOMODULE)
		n_nomodule++;
}

struct derive_args {
	uint64_t key, rule;
};

static void slow_rule_deep(void *a);

/* A pc not in the table: derive its rule (cached, failures too).  libdw
 * goes deep: on the library's stack (the walk itself only reads the
 * program's, whose words it already has). */
static uint64_t slow_rule(uint64_t key)
{
	if (uw_me.deriving)
		return R_UNSUP; /* a signal handler's capture, inside our own */
	if (!_mp_loader_ok())
		return R_UNSUP; /* a forked child's loader is locked for good */
	struct derive_args da = { key, R_UNSUP };
	uw_me.deriving = 1;
	_mp_deep_call(slow_rule_deep, &da);
	uw_me.deriving = 0;
	return da.rule;
}

static void slow_rule_deep(void *a)
{
	struct derive_args *da = a;
	uint64_t key = da->key;
	unsigned long long c[2];
	const unsigned long long *cp;
	uint64_t r;

	_mp_loader_gate_enter();
	/* libdw keeps the module files it opens: above 0..2 (out.h) */
	unsigned held = _mp_lowfd_hold();
	/* the loader call stays outside uw_lock, as in symbolize.c */
	cp = _mp_loader_counters(c);
	pthread_mutex_lock(&uw_lock);
	_mp_unwind_sync_modules(cp, n_nomodule != 0, flush_locked);
	struct slot *t = atomic_load_explicit(&tab, memory_order_relaxed);
	r = t ? tab_get(t, tab_hash(key), key) : R_NONE; /* done meanwhile? */
	if (r == R_NONE) {
		if (stats.full) {
			r = R_UNSUP; /* no room: leave new pcs to libunwind */
		} else {
			r = _mp_unwind_derive((uintptr_t)key - 1, &stats.derived);
			tab_put(key, r);
		}
	}
	pthread_mutex_unlock(&uw_lock);
	_mp_lowfd_release(held);
	_mp_loader_gate_leave();
	da->rule = r;
}

/* ---- per-thread helpers ------------------------------------------------- */

/* A capture from a signal handler may interrupt one in this thread: never
 * let it see a key next to a rule meant for another. */
static inline void cache_set(uint64_t *k, uint64_t *r, uint64_t key, uint64_t rule)
{
	*k = 0;
	atomic_signal_fence(memory_order_seq_cst);
	*r = rule;
	atomic_signal_fence(memory_order_seq_cst);
	*k = key;
}

/* pthread_getattr_np holds the thread's own lock while it calls realloc:
 * asked for from inside a malloc shim, it can deadlock on itself (the
 * program called it, its realloc came to us, our first capture on this
 * thread asked it again).  So under the preload the bounds are set where
 * no lock can be held (thread start, the library's constructor) and a
 * thread without them is left to libunwind; only the plain mp_* API, which
 * glibc never calls into, asks lazily. */
static atomic_int lazy_bounds = 1;

void _mp_unwind_no_lazy_bounds(void)
{
	atomic_store(&lazy_bounds, 0);
}

void _mp_unwind_thread_bounds(uintptr_t lo, uintptr_t hi)
{
	uw_me.lo = lo;
	uw_me.hi = hi;
	uw_me.state = hi > lo ? 1 : 2;
}

__attribute__((noinline, cold)) static void bounds_first(void)
{
	uw_me.state = 2;
	if (!atomic_load_explicit(&lazy_bounds, memory_order_relaxed))
		return;
	uintptr_t l, h;
	if (_mp_thread_stack_of_self(&l, &h)) {
		uw_me.lo = l;
		uw_me.hi = h;
		uw_me.state = 1;
	}
}

/* inline in the walk: a call here was 2% of a malloc churn */
static inline __attribute__((always_inline)) bool stack_bounds(uintptr_t *lo,
							       uintptr_t *hi)
{
	if (__builtin_expect(uw_me.state == 0, 0))
		bounds_first();
	*lo = uw_me.lo;
	*hi = uw_me.hi;
	return uw_me.state == 1;
}

int _mp_unwind_known_bounds(uintptr_t *lo, uintptr_t *hi)
{
	*lo = uw_me.lo;
	*hi = uw_me.hi;
	return uw_me.state == 1;
}

void _mp_unwind_prepare_thread(void)
{
	uintptr_t lo, hi;
	stack_bounds(&lo, &hi);
}

/* ---- the walk ------------------------------------------------------------ */

#if defined(__x86_64__)
static inline void replay_read(uintptr_t *addr, uintptr_t *val, unsigned *n,
			       uintptr_t at, uintptr_t v)
{
	if (*n < REPLAY_READS) {
		addr[*n] = at;
		val[*n] = v;
	}
	if (*n <= REPLAY_READS)
		(*n)++;
}

/* Remember this walk in rp; false: too long to replay. */
static bool replay_note(struct uw_replay *rp, uintptr_t sp, uintptr_t fp,
			bool fp_used, uintptr_t caller, unsigned max, const uintptr_t *out,
			unsigned nout, const uintptr_t *addr,
			const uintptr_t *val, unsigned nreads)
{
	rp->memo.id = 0;
	if (nreads > REPLAY_READS || nout > REPLAY_OUT) {
		rp->nout = 0;
		return false;
	}
	rp->sp = sp;
	rp->fp = fp;
	rp->fp_used = fp_used;
	rp->caller = caller;
	rp->max = max;
	rp->nreads = nreads;
	memcpy(rp->addr, addr, nreads * sizeof *addr);
	memcpy(rp->val, val, nreads * sizeof *val);
	memcpy(rp->out, out, nout * sizeof *out);
	rp->nout = nout;
	return true;
}

/* Reads the stack of its callers: nothing for the sanitizers to check.
 * Inlined into both entry points, whose frame is the walk's first. */
static inline __attribute__((always_inline, no_sanitize_address,
			     no_sanitize_thread)) int
walk(uintptr_t *out, unsigned max, uintptr_t caller_pc,
     struct mp_depot_memo **memo)
{
	uintptr_t ip, sp, fp, lo, hi;

	/* one asm so the three belong to the same instruction boundary;
	 * early-clobbers, or the compiler could hand %rbp out as an output */
	__asm__ volatile("leaq 0(%%rip), %0\n\t"
			 "movq %%rsp, %1\n\t"
			 "movq %%rbp, %2"
			 : "=&r"(ip), "=&r"(sp), "=&r"(fp));
	if (max == 0 || !stack_bounds(&lo, &hi) || sp < lo || sp >= hi)
		return MP_UW_OFF_STACK;
	unsigned gen = atomic_load_explicit(&tab_gen, memory_order_acquire);
	struct uw_cache *c = uw_cache_p;
	if (__builtin_expect(!c, 0) && !(c = cache_new(gen)))
		return MP_UW_NO_RULE; /* no memory: libunwind, which needs none */
	if (__builtin_expect(uw_me.gen != gen, 0)) {
		memset(c, 0, sizeof *c);
		uw_me.gen = gen;
	}
	struct slot *t = atomic_load_explicit(&tab, memory_order_acquire);
	size_t mi = (caller_pc * 0x9e3779b97f4a7c15ull) >> (64 - MEMO_BITS);
	struct uw_memo *m = &c->memo[mi];
	/* by caller, not by the memo's hash: two call sites of a loop
	 * sharing a hash slot would evict each other at every call */
	struct uw_replay *rp = NULL;
	for (int k = 0; k < REPLAY_N; k++)
		if (c->replay[k].caller == caller_pc) {
			rp = &c->replay[k];
			break;
		}
	if (!rp)
		rp = &c->replay[c->replay_next++ % REPLAY_N];
	if (rp->nout && rp->sp == sp && (rp->fp == fp || !rp->fp_used) &&
	    rp->caller == caller_pc && rp->max == max) {
		/* every address was in [sp, hi) of this thread's stack then,
		 * with the same sp: readable now */
		uintptr_t diff = 0;
		for (unsigned j = 0; j < rp->nreads; j++)
			diff |= *(const volatile uintptr_t *)rp->addr[j] ^ rp->val[j];
		if (!diff) {
			/* a few words: a loop, not a call to memcpy */
			for (unsigned j = 0; j < rp->nout; j++)
				out[j] = rp->out[j];
			if (memo)
				*memo = &rp->memo;
			return (int)rp->nout;
		}
	}
	const uintptr_t sp0 = sp, fp0 = fp;
	/* the entry rbp is any register value in code without frame
	 * pointers: it matters only if a rule uses it before it is reloaded */
	bool fp_used = false;
	uintptr_t fp_src = 0; /* where fp was loaded from, 0: the entry rbp */
	unsigned nreads = 0; /* REPLAY_READS + 1: too many to replay */
	uintptr_t raddr[REPLAY_READS], rval[REPLAY_READS];
	uintptr_t pc = ip, key = ip + 1; /* ip is exact: its row is at ip */
	unsigned n = 0;
	for (unsigned step = 0;; step++) {
		if (n || pc == caller_pc) {
			out[n++] = pc;
			if (n == max) {
				if (replay_note(rp, sp0, fp0, fp_used, caller_pc, max,
						out, n, raddr, rval, nreads) && memo)
					*memo = &rp->memo;
				return (int)n;
			}
		} else if (step >= MP_SKIP_MAX) {
			return MP_UW_NO_CALLER;
		}
		uint64_t r;
		if (step < MEMO_DEPTH && m->key[step] == key) {
			r = m->rule[step];
		} else {
			uint64_t h = tab_hash(key);
			size_t i1 = (size_t)(h >> (64 - TAB_BITS)) & (L1_SIZE - 1);
			if (__builtin_expect(c->l1[i1].key == key, 1)) {
				r = c->l1[i1].rule;
			} else {
				r = t ? tab_get(t, h, key) : R_NONE;
				if (__builtin_expect(r == R_NONE, 0)) {
					r = slow_rule(key);
					t = atomic_load_explicit(&tab, memory_order_acquire);
				}
				cache_set(&c->l1[i1].key, &c->l1[i1].rule, key, r);
			}
			if (step < MEMO_DEPTH)
				cache_set(&m->key[step], &m->rule[step], key, r);
		}
		if (R_KIND(r) == R_END) { /* _start, clone: the frame above is the last */
			if (!n)
				return MP_UW_NO_CALLER;
			if (replay_note(rp, sp0, fp0, fp_used, caller_pc, max, out,
					n, raddr, rval, nreads) && memo)
				*memo = &rp->memo;
			return (int)n;
		}
		if (R_KIND(r) != R_NORMAL)
			return MP_UW_NO_RULE;
		/* a saved rbp is a program value (a loop counter, a pointer)
		 * until a rule uses it as the CFA: only then is it a read the
		 * result depends on */
		if ((r & R_CFA_RBP) && !fp_src)
			fp_used = true;
		else if (r & R_CFA_RBP)
			replay_read(raddr, rval, &nreads, fp_src, fp);
		uintptr_t cfa = ((r & R_CFA_RBP) ? fp : sp) + (uintptr_t)(intptr_t)r_cfa_off(r);
		/* the CFA moves up the stack, and the slots we read lie in
		 * [sp, cfa): a bad rule or a corrupt frame stops the walk
		 * instead of faulting */
		if (cfa < sp + 8 || cfa > hi || (cfa & 7))
			return MP_UW_BAD_FRAME;
		if (r & R_RBP_SAVED) {
			uintptr_t at = cfa + (uintptr_t)(intptr_t)r_rbp_off(r);
			if (at < sp)
				return MP_UW_BAD_FRAME;
			fp = *(const uintptr_t *)at;
			fp_src = at;
		}
		pc = *(const uintptr_t *)(cfa - 8);
		replay_read(raddr, rval, &nreads, cfa - 8, pc);
		sp = cfa;
		key = pc;
		/* glibc ends its stacks with CFI (R_END above), so a zero here
		 * is more likely a broken chain than a bottom: let libunwind
		 * judge it rather than return a stack cut short */
		if (pc == 0)
			return MP_UW_BAD_FRAME;
	}
}

__attribute__((noinline, no_sanitize_address, no_sanitize_thread))
int _mp_unwind_fast(uintptr_t *out, unsigned max, uintptr_t caller_pc)
{
	return walk(out, max, caller_pc, NULL);
}

__attribute__((noinline, no_sanitize_address, no_sanitize_thread))
int _mp_unwind_fast_memo(uintptr_t *out, unsigned max, uintptr_t caller_pc,
			 struct mp_depot_memo **memo)
{
	*memo = NULL;
	return walk(out, max, caller_pc, memo);
}
#else
int _mp_unwind_fast(uintptr_t *out, unsigned max, uintptr_t caller_pc)
{
	(void)out, (void)max, (void)caller_pc;
	return MP_UW_NO_RULE; /* the walk knows x86-64 frames only */
}

int _mp_unwind_fast_memo(uintptr_t *out, unsigned max, uintptr_t caller_pc,
			 struct mp_depot_memo **memo)
{
	*memo = NULL;
	return _mp_unwind_fast(out, max, caller_pc);
}
#endif

/* ---- fork, flush, statistics ------------------------------------------- */

static bool fork_locked;
static pid_t fork_pid;

void _mp_unwind_fork_prepare(void)
{
	/* free unless the gate's bounded wait gave up on a capture that is
	 * still deriving: then the child must not trust lock nor Dwfl */
	fork_pid = getpid();
	fork_locked = pthread_mutex_trylock(&uw_lock) == 0;
}

void _mp_unwind_fork_done(void)
{
	if (fork_locked) {
		fork_locked = false;
		pthread_mutex_unlock(&uw_lock);
	} else if (getpid() != fork_pid) {
		/* the child of a fork that raced a derivation: its lock holder
		 * is gone and the Dwfl may be half updated; drop both (the
		 * Dwfl leaks, once).  The table stays valid: same mappings,
		 * and a half-done insert has no key yet. */
		pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
		uw_lock = fresh;
		_mp_unwind_cfi_drop();
	}
}

void _mp_unwind_flush(void)
{
	_mp_loader_gate_enter();
	pthread_mutex_lock(&uw_lock);
	flush_locked();
	pthread_mutex_unlock(&uw_lock);
	_mp_loader_gate_leave();
}

void _mp_unwind_stats(struct mp_unwind_stats *st)
{
	_mp_loader_gate_enter();
	pthread_mutex_lock(&uw_lock);
	*st = stats;
	pthread_mutex_unlock(&uw_lock);
	_mp_loader_gate_leave();
}
