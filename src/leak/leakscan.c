/* leakscan.c - classify live blocks by reachability, as memcheck and
 * LeakSanitizer do: reachable, possible, indirect, definite.
 *
 * Roots: writable segments of every loaded module but ours, the exiting
 * thread's stack, registers and static TLS, and the stacks of live threads.
 * Marking is a conservative scan of every aligned word; state lives in the
 * block flags (no extra memory per block), the work list is bounded and
 * overflows into a PENDING flag that a sweep picks up.
 *
 * Kinds: reachable = a chain of start pointers from a root; possible = a
 * chain from a root that uses an interior pointer; leaked blocks are
 * indirect when another leaked block points to them, else definite.  In a
 * cycle of leaked blocks that nothing else points to, the first member met
 * in address-table order stays definite and the others are indirect.
 *
 * Blocks the program describes (pool annotations, memcheck's client
 * requests: heap/custom.c) are graph nodes of their own, found before the
 * heap block they lie in; a heap block holding one is their container and
 * no node at all (memcheck's rule): marked at the start, never scanned.
 */
#define _GNU_SOURCE
#include "leakscan.h"
#include "heapsort.h"
#include "leakheur.h"
#include "scanblock.h"
#include "block.h"
#include "custom.h"
#include "large.h"
#include "leaks.h"
#include "options.h"
#include "slab.h"
#include "tcache.h"
#include "roots.h"
#include "depot.h"
#include "handoff.h"
#include "inherit.h"
#include "procmaps.h"
#include "threads.h"
#include "vm.h"

#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define WORK_CAP ((size_t)1 << 20)
/* every flag bit the scan owns (block.h), cleared when it starts */
#define F_SCAN (MP_F_MARK | MP_F_PENDING | MP_F_WEAK | MP_F_KIND_MASK)

enum mode { M_REACH, M_POSS, M_LEAK };

struct lrange {
	uintptr_t user;
	size_t size;
	uint8_t *flags;
	uint32_t stack;
	struct mp_large *le;
};

/* A forked child's exit report (_mp_leakscan_classify_own): the graph's
 * nodes are the child's own blocks only; the inherited ones are its
 * parent's, which judges them at its own exit, and count here as roots,
 * read where the child wrote them (inherit.c). */
static int own_only;
static size_t own_blocks, inherited_pages;

static struct mp_roots rt;
static uintptr_t *work;
static size_t nwork;
static struct lrange *larges; /* live large blocks sorted by address */
static size_t nlarges, larges_bytes;
static uintptr_t heap_lo, heap_hi, leader;

#define MAX_VIEWS 8192 /* threads read while stopped, as the registry */

static struct mp_thread_view views[MAX_VIEWS];
static struct mp_range *excl; /* never anonymous roots, sorted */
/* root regions registered now or before (roots.c): never anonymous roots */
static struct mp_range known[2 * 256];
static size_t nknown;
static struct mp_cindex cix;  /* described blocks, sorted, no containers */
static size_t nexcl, excl_bytes;

static int find_block(uintptr_t w, struct bref *b)
{
	if (w < heap_lo || w >= heap_hi)
		return 0;
	struct mp_cblock *c = cix.n ? _mp_custom_find(&cix, w) : NULL;
	if (c) {
		*b = (struct bref){ c->user, c->size, &c->flags, c->alloc_stack,
				    &c->aux, NULL };
		return w == c->user ? 1 : 2;
	}
	struct mp_slab *s = _mp_slab_of(w);
	if (s) {
		long off;
		uint32_t i = _mp_slab_locate(s, w, &off);
		if (i >= s->bump)
			return 0;
		struct mp_meta *m = &s->meta[i];
		if (_mp_meta_state(m) != MP_ST_LIVE || (m->flags & MP_F_INTERNAL) ||
		    off < 0 || (off > 0 && (size_t)off >= m->size) ||
		    (own_only && !_mp_slot_own(m)))
			return 0;
		*b = (struct bref){ w - (uintptr_t)off, m->size, &m->flags,
				    m->alloc_stack, &m->aux, NULL };
		return off == 0 ? 1 : 2;
	}
	size_t lo = 0, hi = nlarges;
	while (lo < hi) { /* last block starting at or below w */
		size_t mid = (lo + hi) / 2;
		if (larges[mid].user <= w)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return 0;
	struct lrange *l = &larges[lo - 1];
	if (w != l->user && w - l->user >= l->size)
		return 0;
	*b = (struct bref){ l->user, l->size, l->flags, l->stack, NULL, l->le };
	return w == l->user ? 1 : 2;
}

static size_t npending; /* blocks flagged MP_F_PENDING: work list overflow */

static void push(struct bref *b)
{
	if (nwork < WORK_CAP) {
		work[nwork++] = b->user;
	} else if (!(*b->flags & MP_F_PENDING)) {
		*b->flags |= MP_F_PENDING;
		npending++;
	}
}

static void drain(enum mode m);

/* ---- what kept each group (the report explains reachable and possible
 * blocks): the root the first chain to a block of the group started from.
 * Roots are scanned one range at a time and each is drained before the
 * next, so everything marked meanwhile is that root's. */
static struct mp_keeper croot;    /* the root being scanned or drained */
static int in_root;               /* scanning the root itself (direct) */
static intptr_t word_delta;       /* root address - address read from (a
				   * copy made by process_vm_readv) */
static struct mp_keeper *keepers; /* [stack id][0: reachable, 1: possible] */
static size_t nkeep, keepers_bytes;

static void keep(const struct bref *b, int poss, const uintptr_t *word,
		 int interior)
{
	if (!keepers || b->stack >= nkeep)
		return;
	struct mp_keeper *k = &keepers[(size_t)b->stack * 2 + (size_t)poss];
	if (k->kind)
		return;
	*k = croot;
	k->direct = (uint8_t)in_root;
	k->interior = (uint8_t)interior;
	if (in_root && croot.kind != MP_ROOT_REGISTER)
		k->where = (uintptr_t)word + (uintptr_t)word_delta;
}

void _mp_leakscan_keeper(uint32_t stack, int kind, struct mp_keeper *out)
{
	int poss = kind == MP_K_POSSIBLE;
	*out = (struct mp_keeper){ 0 };
	if (keepers && stack < nkeep && (poss || kind == MP_K_REACHABLE))
		*out = keepers[(size_t)stack * 2 + (size_t)poss];
}

/* Allocated by libc's tsearch (roots.h: a node pointed to as node + 1). */
static int tsearch_node(const struct bref *b)
{
	const uintptr_t *pcs;
	return rt.tsearch_text.hi && _mp_depot_get(b->stack, &pcs) &&
	       pcs[0] >= rt.tsearch_text.lo && pcs[0] < rt.tsearch_text.hi;
}

static void scan_words(const uintptr_t *w, size_t n, enum mode m)
{
	static int depth; /* nested drains */
	struct bref b;
	for (size_t k = 0; k < n; k++) {
		/* A full work list is drained on the spot (a block holding
		 * millions of pointers would otherwise overflow it into
		 * PENDING sweeps over every block); a few levels deep at most,
		 * then the PENDING flag takes over. */
		if (nwork == WORK_CAP && depth < 4) {
			int root = in_root;
			intptr_t delta = word_delta;
			in_root = 0;
			word_delta = 0;
			depth++;
			drain(m);
			depth--;
			in_root = root;
			word_delta = delta;
		}
		int hit = find_block(w[k], &b);
		if (!hit)
			continue;
		uint8_t f = *b.flags;
		if (m == M_REACH) {
			if (f & MP_F_MARK) {
				if (hit == 1 && _mp_leakheur_n) /* a start pointer after all */
					_mp_leakheur_forget(b.user);
				continue;
			}
			if (hit == 2 && w[k] == b.user + 1 && tsearch_node(&b))
				hit = 1; /* tsearch's coloured pointer */
			int h = hit == 1 ? 0 : _mp_leakheur_match(&b, w[k]);
			if (hit == 1 || h) {
				*b.flags |= MP_F_MARK;
				set_kind(b.flags, MP_K_REACHABLE);
				push(&b);
				keep(&b, 0, &w[k], h != 0);
				if (h)
					_mp_leakheur_note(&b, h);
			} else {
				*b.flags |= MP_F_WEAK;
				keep(&b, 1, &w[k], 1);
			}
		} else if (m == M_POSS) {
			if (f & MP_F_MARK)
				continue;
			*b.flags |= MP_F_MARK;
			set_kind(b.flags, MP_K_POSSIBLE);
			push(&b);
			keep(&b, 1, &w[k], hit == 2);
		} else if (!(f & MP_F_MARK) && b.user != leader &&
			   ((f & MP_F_KIND_MASK) >> MP_F_KIND_SHIFT) != MP_K_INDIRECT) {
			set_kind(b.flags, MP_K_INDIRECT);
			push(&b);
		}
	}
}

static void scan_part(uintptr_t lo, uintptr_t hi, void *arg)
{
	lo = (lo + 7) & ~(uintptr_t)7;
	if (hi > lo)
		scan_words((const uintptr_t *)lo, (hi - lo) / sizeof(uintptr_t),
			   *(enum mode *)arg);
}

/* Only what is readable: the program may have made parts of its memory
 * (a heap page, a stack guard zone) inaccessible. */
static void scan_range(uintptr_t lo, uintptr_t hi, enum mode m)
{
	_mp_readable_parts(lo, hi, scan_part, &m);
}

static void scan_read_cb(const uintptr_t *w, size_t n, uintptr_t from,
			 void *arg)
{
	(void)arg;
	word_delta = (intptr_t)(from - (uintptr_t)w);
	scan_words(w, n, M_REACH);
	word_delta = 0;
}

/* A foreign part of an anonymous mapping: scan it, minus what is never a
 * root there: large blocks in any state (the real allocator's chunks are
 * graph nodes while live, and a quarantined one is freed memory) and every
 * thread stack (live ones are read from their stack pointers, dead ones
 * that glibc keeps for reuse not at all). */
static void scan_foreign_cb(uintptr_t lo, uintptr_t hi, void *arg)
{
	(void)arg;
	size_t i = 0, j = nexcl;
	while (i < j) { /* first excluded range ending after lo */
		size_t mid = (i + j) / 2;
		if (excl[mid].hi <= lo)
			i = mid + 1;
		else
			j = mid;
	}
	uintptr_t cur = lo;
	for (; i < nexcl && excl[i].lo < hi; i++) {
		if (excl[i].lo > cur)
			_mp_roots_read(cur, excl[i].lo, scan_read_cb, NULL);
		if (excl[i].hi > cur)
			cur = excl[i].hi;
	}
	if (cur < hi)
		_mp_roots_read(cur, hi, scan_read_cb, NULL);
}

/* Blocks allocated by the dynamic linker are glibc's own and reachable, as
 * in LeakSanitizer: the TLS vectors of ended threads (whose stacks glibc
 * keeps for reuse, no roots) and of live ones, which their descriptors
 * point to as dtv + 1, an interior pointer (memcheck calls the latter
 * "possibly lost", a false positive its users suppress). */
static void ldso_cb(struct bref *b, void *arg)
{
	(void)arg;
	uint32_t id = b->stack;
	const uintptr_t *pcs;
	if (!(*b->flags & MP_F_MARK) && _mp_depot_get(id, &pcs) &&
	    pcs[0] >= rt.ldso_text.lo && pcs[0] < rt.ldso_text.hi) {
		*b->flags |= MP_F_MARK;
		set_kind(b->flags, MP_K_REACHABLE);
		push(b);
		keep(b, 0, NULL, 0);
	}
}

/* Visit every live heap block: fn(block, arg). Locks are held. */
static void each_heap_block(void (*fn)(struct bref *, void *), void *arg)
{
	for (int k = 0; k < MP_ARENAS * MP_NUM_CLASSES; k++)
		for (struct mp_slab *s = _mp_class_at(k)->slabs; s; s = s->next)
			for (uint32_t i = 0; i < s->bump &&
			     (!own_only || _mp_slab_has_own(s)); i++) {
				struct mp_meta *m = &s->meta[i];
				if (_mp_meta_state(m) != MP_ST_LIVE || (m->flags & MP_F_INTERNAL) ||
				    (own_only && !_mp_slot_own(m)))
					continue;
				struct bref b = { _mp_slot_user(s, i), m->size, &m->flags,
						  m->alloc_stack, &m->aux, NULL };
				fn(&b, arg);
			}
	for (size_t i = 0; i < nlarges; i++) {
		struct bref b = { larges[i].user, larges[i].size, larges[i].flags,
				  larges[i].stack, NULL, larges[i].le };
		fn(&b, arg);
	}
}

/* Visit every live user block, heap and described. */
static void each_block(void (*fn)(struct bref *, void *), void *arg)
{
	each_heap_block(fn, arg);
	for (size_t i = 0; i < cix.n; i++) {
		struct mp_cblock *c = cix.b[i];
		struct bref b = { c->user, c->size, &c->flags, c->alloc_stack,
				  &c->aux, NULL };
		fn(&b, arg);
	}
}

/* A heap block holding described blocks is their container: marked, so
 * that nothing scans it or counts it (leaks.c leaves it out too). */
static void container_cb(struct bref *b, void *arg)
{
	(void)arg;
	if (_mp_custom_holds(&cix, b->user, b->size)) {
		*b->flags |= MP_F_MARK;
		set_kind(b->flags, MP_K_REACHABLE);
	}
}


static void pending_cb(struct bref *b, void *arg)
{
	(void)arg;
	if ((*b->flags & MP_F_PENDING) && nwork < WORK_CAP) {
		*b->flags &= (uint8_t)~MP_F_PENDING;
		npending--;
		work[nwork++] = b->user;
	}
}

/* Empty the work list; sweep for overflowed (PENDING) blocks only when
 * there are some, so draining stays linear in what it marks. */
static void drain(enum mode m)
{
	do {
		while (nwork) {
			struct bref b;
			if (find_block(work[--nwork], &b))
				scan_range(b.user, b.user + b.size, m);
		}
		if (npending)
			each_block(pending_cb, NULL);
	} while (nwork);
}

static void reset_cb(struct bref *b, void *arg)
{
	(void)arg;
	own_blocks++;
	*b->flags &= (uint8_t)~F_SCAN; /* kind 0 = definite */
	/* judged now: fresh unless an earlier check judged it (mode new) */
	unsigned aux = get_aux(b);
	set_aux(b, (aux & (MP_AUX_IGNORED | MP_AUX_PRE | MP_AUX_SCOPED)) | MP_AUX_SEEN |
		       (aux & MP_AUX_SEEN ? 0 : MP_AUX_FRESH));
	uintptr_t end = b->user + b->size + 1;
	if (b->user < heap_lo)
		heap_lo = b->user;
	if (end > heap_hi)
		heap_hi = end;
}

static void weak_cb(struct bref *b, void *arg)
{
	(void)arg;
	if ((*b->flags & MP_F_WEAK) && !(*b->flags & MP_F_MARK)) {
		*b->flags |= MP_F_MARK;
		set_kind(b->flags, MP_K_POSSIBLE);
		push(b);
		croot = (struct mp_keeper){ .kind = MP_ROOT_POSSIBLE };
		drain(M_POSS);
	}
}

static void leader_cb(struct bref *b, void *arg)
{
	(void)arg;
	uint8_t f = *b->flags;
	if ((f & MP_F_MARK) ||
	    ((f & MP_F_KIND_MASK) >> MP_F_KIND_SHIFT) == MP_K_INDIRECT)
		return;
	leader = b->user;
	scan_range(b->user, b->user + b->size, M_LEAK);
	drain(M_LEAK);
}

HEAPSORT(sort_larges, struct lrange, user)
HEAPSORT(sort_ranges, struct mp_range, lo)

/* Sorted array of live large blocks, for interior-pointer lookups, and the
 * ranges that are never anonymous roots: every large block's chunk, in any
 * state, and (added once the threads are stopped) every thread stack. */
static int build_larges(void)
{
	size_t n = _mp_large_count_locked(), pos = 0;
	larges_bytes = (n ? n : 1) * sizeof *larges;
	larges = _mp_map(larges_bytes, 0);
	excl_bytes = (n + MAX_VIEWS + nknown + MP_MAX_ROOTS +
		      _mp_custom_live_locked()) * sizeof *excl;
	excl = _mp_map(excl_bytes, 0);
	if (!larges || !excl)
		return -1;
	nlarges = nexcl = 0;
	struct mp_large *e;
	while ((e = _mp_large_next_locked(&pos))) {
		if (!(e->flags & MP_F_GUARDPAGE) && nexcl < n)
			excl[nexcl++] = (struct mp_range){
				e->real, e->user + e->size + MP_GUARD_SIZE };
		if (e->state != MP_ST_LIVE || (e->flags & MP_F_INTERNAL) ||
		    (own_only && !_mp_large_own(e)))
			continue;
		larges[nlarges++] = (struct lrange){ e->user, e->size, &e->flags,
						     e->alloc_stack, e };
	}
	sort_larges(larges, nlarges);
	return 0;
}

/* LeakSanitizer's ignored objects (__lsan_ignore_object, __lsan_disable)
 * are no leaks, and what they point to is reachable: roots, as in LSan. */
static void ignored_cb(struct bref *b, void *arg)
{
	(void)arg;
	if (!(get_aux(b) & MP_AUX_IGNORED) || (*b->flags & MP_F_MARK))
		return;
	*b->flags |= MP_F_MARK;
	set_kind(b->flags, MP_K_REACHABLE);
	croot = (struct mp_keeper){ .kind = MP_ROOT_IGNORED };
	in_root = 1;
	keep(b, 0, NULL, 0);
	in_root = 0;
	push(b);
	drain(M_REACH);
}

static void region_cb(const uintptr_t *w, size_t n, uintptr_t from, void *arg)
{
	(void)arg;
	word_delta = (intptr_t)(from - (uintptr_t)w);
	scan_words(w, n, M_REACH);
	word_delta = 0;
}

/* __lsan_register_root_region: copied before the threads stop (the
 * table's lock could be held by one of them) */
#define MAX_REGIONS 256
static struct mp_range regions[MAX_REGIONS];
static size_t nregions;


/* Scan one root range, then everything it leads to, on behalf of it. */
static void root_range(uintptr_t lo, uintptr_t hi, int kind, int tid)
{
	croot = (struct mp_keeper){ .kind = (uint8_t)kind, .tid = tid };
	in_root = 1;
	scan_range(lo, hi, M_REACH);
	in_root = 0;
	drain(M_REACH);
}

/* n registers (mcontext gregs order) of thread tid. */
static void root_regs(const uintptr_t *regs, int n, int tid)
{
	for (int k = 0; k < n; k++) {
		croot = (struct mp_keeper){ .kind = MP_ROOT_REGISTER,
					  .reg = (int8_t)k, .tid = tid };
		in_root = 1;
		scan_words(&regs[k], 1, M_REACH);
		in_root = 0;
		drain(M_REACH);
	}
}

/* A forked child's inherited blocks, as roots (inherit.c): the parts
 * the child wrote since its fork. */
static void inherited_cb(uintptr_t lo, uintptr_t hi, void *arg)
{
	(void)arg;
	root_range(lo, hi, MP_ROOT_INHERITED, 0);
}

/* Mark what the program can reach: roots, registers, stopped threads. */
static void mark_reachable(const struct mp_handoff *h)
{
	int self = (int)syscall(SYS_gettid);
	size_t nthr = _mp_threads_stop(views, MAX_VIEWS);
	/* the memory map as it is now that nothing else runs */
	_mp_readable_refresh();
	nexcl += _mp_threads_all_stacks(excl + nexcl, MAX_VIEWS);
	memcpy(excl + nexcl, known, nknown * sizeof *known);
	nexcl += nknown;
	/* use_tls=0: this thread's TLS and descriptor are no roots, though the
	 * main thread's live in an anonymous mapping */
	for (size_t i = 0; !_mp_opt.use_tls && i < rt.nroot; i++)
		if (rt.root_kind[i] == MP_ROOT_TLS)
			excl[nexcl++] = rt.root[i];
	/* described blocks are graph nodes, never roots: a pool carved from
	 * mmap'd memory is anonymous memory (memcheck scans no block) */
	for (size_t i = 0; i < cix.n; i++)
		excl[nexcl++] = (struct mp_range){ cix.b[i]->user,
						   cix.b[i]->user + cix.b[i]->size };
	sort_ranges(excl, nexcl);
	heap_lo = UINTPTR_MAX;
	heap_hi = 0;
	nwork = npending = 0;
	each_block(reset_cb, NULL);
	if (cix.n)
		each_heap_block(container_cb, NULL);
	/* LeakSanitizer's use_globals, use_stacks, use_tls, use_registers
	 * (another thread's TLS sits at the top of its stack, read with it) */
	for (size_t i = 0; i < rt.nroot; i++) {
		int k = rt.root_kind[i];
		if ((k == MP_ROOT_GLOBAL && !_mp_opt.use_globals) ||
		    (k == MP_ROOT_STACK && !_mp_opt.use_stacks) ||
		    (k == MP_ROOT_TLS && !_mp_opt.use_tls))
			continue;
		root_range(rt.root[i].lo, rt.root[i].hi, k,
			   k == MP_ROOT_GLOBAL ? 0 : self);
	}
	if (_mp_opt.use_registers)
		root_regs(h->regs, h->nregs, self);
	for (size_t i = 0; i < nthr; i++) {
		if (_mp_opt.use_stacks)
			root_range(views[i].stack.lo, views[i].stack.hi,
				   MP_ROOT_STACK, views[i].tid);
		if (_mp_opt.use_registers)
			root_regs(views[i].regs, views[i].nregs, views[i].tid);
	}
	/* arguments of threads not started yet live only in the registry */
	uintptr_t args[64];
	size_t nargs = _mp_threads_pending_args(args, 64);
	croot = (struct mp_keeper){ .kind = MP_ROOT_THREAD_ARG };
	in_root = 1;
	scan_words(args, nargs, M_REACH);
	in_root = 0;
	drain(M_REACH);
	/* -1 (our registry overflowed): then we cannot tell our memory from
	 * the program's, and skip anonymous roots */
	for (size_t i = 0; i < rt.nanon; i++) {
		croot = (struct mp_keeper){ .kind = MP_ROOT_ANON };
		in_root = 1;
		int rc = _mp_vm_foreign_parts_locked(rt.anon[i].lo, rt.anon[i].hi,
						     scan_foreign_cb, NULL);
		in_root = 0;
		drain(M_REACH);
		if (rc != 0)
			break;
	}
	/* our helpers' own allocations are not graph nodes, but libc may have
	 * made one for the program while a helper ran (the second-level
	 * pthread_setspecific array): scan them */
	size_t pos = 0;
	struct mp_large *e;
	while ((e = _mp_large_next_locked(&pos)))
		if (e->flags & MP_F_INTERNAL)
			root_range(e->user, e->user + e->size, MP_ROOT_LIBC, 0);
	croot = (struct mp_keeper){ .kind = MP_ROOT_LDSO };
	in_root = 1;
	each_block(ldso_cb, NULL);
	in_root = 0;
	drain(M_REACH);
	for (size_t i = 0; _mp_opt.use_root_regions && i < nregions; i++) {
		croot = (struct mp_keeper){ .kind = MP_ROOT_REGION };
		in_root = 1;
		_mp_roots_read(regions[i].lo, regions[i].hi, region_cb, NULL);
		in_root = 0;
		drain(M_REACH);
	}
	each_block(ignored_cb, NULL);
	if (own_only)
		inherited_pages = _mp_inherited_parts(inherited_cb, NULL);
}

static int classify(void)
{
	struct mp_handoff h;
	if (!_mp_handoff_context(&h))
		_mp_handoff_here(&h); /* on failure: the highest frame reached */
	_mp_roots_collect(&rt, h.sp);
	nregions = _mp_roots_regions(regions, MAX_REGIONS);
	nknown = _mp_roots_regions_known(known, sizeof known / sizeof known[0]);
	work = _mp_map(WORK_CAP * sizeof *work, 1);
	if (!work)
		return -1;
	_mp_leakheur_begin();
	if (keepers) /* the previous check's */
		_mp_unmap(keepers, keepers_bytes);
	nkeep = (size_t)_mp_depot_count() + 1;
	keepers_bytes = nkeep * 2 * sizeof *keepers;
	keepers = _mp_map(keepers_bytes, 1); /* none: no explanations */
	/* lock order: snapshot, pools, vm registry, thread registry (in
	 * _mp_threads_stop): no thread is parked holding any of them */
	_mp_readable_begin();
	_mp_slab_lock_all();
	_mp_large_lock();
	_mp_custom_lock();
	int rc = build_larges();
	if (rc == 0)
		rc = _mp_custom_index_locked(&cix);
	if (rc == 0) {
		_mp_vm_lock();
		mark_reachable(&h);
		each_block(weak_cb, NULL);
		each_block(leader_cb, NULL);
		_mp_leakheur_count();
		_mp_threads_resume();
		_mp_vm_unlock();
	}
	_mp_custom_index_release(&cix);
	_mp_custom_unlock();
	_mp_large_unlock();
	_mp_slab_unlock_all();
	_mp_readable_end();
	if (larges)
		_mp_unmap(larges, larges_bytes);
	if (excl)
		_mp_unmap(excl, excl_bytes);
	larges = NULL;
	excl = NULL;
	_mp_leakheur_end();
	_mp_unmap(work, WORK_CAP * sizeof *work);
	return rc;
}

int _mp_leakscan_classify(void)
{
	own_only = 0;
	own_blocks = inherited_pages = 0;
	return classify();
}

int _mp_leakscan_classify_own(void)
{
	own_only = _mp_heap_gen != 0;
	own_blocks = inherited_pages = 0;
	int rc = classify();
	own_only = 0;
	return rc;
}

void _mp_leakscan_own_counts(size_t *blocks, size_t *pages)
{
	*blocks = own_blocks;
	*pages = inherited_pages;
}
