/* samplescan.c - sampled mode's leak check (sample_rate=N): which of the
 * live sampled blocks (heap/sampleslots.c) the program can still reach.
 *
 * The graph's nodes are the sampled blocks only, at most sample_slots of
 * them; everything else the program owns is a root, read conservatively:
 * module data and TLS, thread stacks and registers (threads stopped as for
 * the full scan), the program's anonymous memory, and - unlike the full
 * mode, where every block is a node - the C library's own heap: [heap]
 * (the main arena up to sbrk(0)), and its other arenas and mmap'd chunks,
 * which are anonymous mappings.  Freed glibc chunks are read too: a stale
 * pointer there makes a block reachable, never lost (the mode's promise is
 * that nothing reachable is called lost; a leak can be missed).  Our own
 * mappings (vm.c), our module's data (the slot table) and the slots region
 * itself are never roots.
 *
 * A forked child judges the blocks it made; its parent's are roots.
 * Any pointer into a block, to its start or inside it, reaches it (no
 * "possibly lost" in this mode).  Lost blocks pointed to by another lost
 * one are indirect; of a cycle, the first in slot order stays definite,
 * as in leakscan.c.  The groups are _mp_leaks_collect's shape, with the
 * rate set so the report scales them (leaks.h).
 */
#define _GNU_SOURCE
#include "samplescan.h"
#include "depot.h"
#include "handoff.h"
#include "procmaps.h"
#include "roots.h"
#include "sampleslots.h"
#include "threads.h"
#include "vm.h"

#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NODES MP_SLOTS_MAX
#define MAX_VIEWS 8192
#define MAX_EXCL (MAX_VIEWS + 2 * 256 + 2)

enum { UNSEEN = 0, REACHED, INDIRECT };

/* the live blocks, snapshot taken with the threads stopped */
static uintptr_t nuser[NODES];
static size_t nsize[NODES];
static uint32_t nstack[NODES];
static uint8_t live[NODES], state[NODES], inherited[NODES];
static unsigned work[NODES], nwork;
static int leak_walk; /* scanning lost blocks: mark INDIRECT */
static long leader = -1;

static struct mp_thread_view views[MAX_VIEWS];
static struct mp_range excl[MAX_EXCL], known[2 * 256];
static size_t nexcl;
static struct mp_roots *rt;

static void snap_cb(void *ctx, const struct mp_block *b)
{
	(void)ctx;
	long i = _mp_slots_index(b->user);
	if (i < 0 || i >= NODES)
		return;
	nuser[i] = b->user;
	nsize[i] = b->size;
	nstack[i] = b->alloc_stack;
	live[i] = 1;
	state[i] = UNSEEN;
	inherited[i] = (uint8_t)_mp_slots_inherited(i);
}

static void words(const uintptr_t *w, size_t n, uintptr_t from, void *arg)
{
	(void)from;
	(void)arg;
	for (size_t k = 0; k < n; k++) {
		if (!_mp_slots_owns((const void *)w[k]))
			continue;
		long i = _mp_slots_index(w[k]);
		if (i < 0 || i >= NODES || !live[i] || w[k] - nuser[i] >=
		    (nsize[i] ? nsize[i] : 1))
			continue;
		if (!leak_walk) {
			if (state[i] == REACHED)
				continue;
			state[i] = REACHED;
		} else {
			if (state[i] != UNSEEN || i == leader)
				continue;
			state[i] = INDIRECT;
		}
		work[nwork++] = (unsigned)i; /* each node pushed once */
	}
}

/* Everything reached from the work list (block contents, read safely). */
static void drain(void)
{
	while (nwork) {
		unsigned i = work[--nwork];
		_mp_roots_read(nuser[i], nuser[i] + nsize[i], words, NULL);
	}
}

static void root(uintptr_t lo, uintptr_t hi)
{
	_mp_roots_read(lo, hi, words, NULL);
	drain();
}

/* A part of an anonymous mapping that is not ours: minus the excluded
 * ranges (thread stacks, registered regions, the slots region). */
static void foreign_cb(uintptr_t lo, uintptr_t hi, void *arg)
{
	(void)arg;
	uintptr_t cur = lo;
	for (size_t i = 0; i < nexcl && cur < hi; i++) {
		if (excl[i].hi <= cur || excl[i].lo >= hi)
			continue;
		if (excl[i].lo > cur)
			root(cur, excl[i].lo);
		cur = excl[i].hi;
	}
	if (cur < hi)
		root(cur, hi);
}

/* The C library's main heap, [heap]: a root region in this mode. */
static int heap_cb(uintptr_t a, uintptr_t b, const char *perms,
		   const char *path, void *arg)
{
	(void)arg;
	if (perms[0] == 'r' && perms[1] == 'w' && strcmp(path, "[heap]") == 0)
		foreign_cb(a, b, NULL);
	return 0;
}

static void sort_excl(void)
{
	for (size_t i = 1; i < nexcl; i++) {
		struct mp_range r = excl[i];
		size_t j = i;
		while (j > 0 && excl[j - 1].lo > r.lo) {
			excl[j] = excl[j - 1];
			j--;
		}
		excl[j] = r;
	}
}

/* __lsan_register_root_region's table, copied before the threads stop
 * (one of them could hold its lock) */
static struct mp_range regions[256];
static size_t nregions, nknown;

static void mark_reachable(const struct mp_handoff *h)
{
	size_t nthr = _mp_threads_stop(views, MAX_VIEWS);
	_mp_readable_refresh();
	memset(live, 0, sizeof live);
	_mp_slots_each_live(snap_cb, NULL);
	nexcl = _mp_threads_all_stacks(excl, MAX_VIEWS);
	size_t nk = nknown;
	memcpy(excl + nexcl, known, nk * sizeof *known);
	nexcl += nk;
	excl[nexcl++] = (struct mp_range){ _mp_slots_lo, _mp_slots_hi };
	sort_excl();
	nwork = 0;
	leak_walk = 0;
	/* a forked child: its parent's blocks are roots (the parent judges
	 * them at its own exit) */
	for (unsigned i = 0; i < NODES; i++)
		if (live[i] && inherited[i]) {
			state[i] = REACHED;
			work[nwork++] = i;
		}
	drain();
	for (size_t i = 0; i < rt->nroot; i++)
		root(rt->root[i].lo, rt->root[i].hi);
	words(h->regs, (size_t)h->nregs, 0, NULL);
	drain();
	for (size_t i = 0; i < nthr; i++) {
		root(views[i].stack.lo, views[i].stack.hi);
		words(views[i].regs, (size_t)views[i].nregs, 0, NULL);
		drain();
	}
	uintptr_t args[64];
	words(args, _mp_threads_pending_args(args, 64), 0, NULL);
	drain();
	/* the program's anonymous memory, glibc's other arenas and mmap'd
	 * chunks among it; -1: our registry overflowed, ours and theirs
	 * cannot be told apart, and reading ours could only hide leaks */
	for (size_t i = 0; i < rt->nanon; i++)
		if (_mp_vm_foreign_parts_locked(rt->anon[i].lo, rt->anon[i].hi,
						foreign_cb, NULL) != 0)
			break;
	_mp_maps_each(heap_cb, NULL);
	for (size_t i = 0; i < nregions; i++)
		root(regions[i].lo, regions[i].hi);
	/* blocks the dynamic linker allocated (the TLS vectors of ended
	 * threads, kept with their cached stacks) are glibc's own and
	 * reachable, as in leakscan.c */
	for (unsigned i = 0; i < NODES; i++) {
		const uintptr_t *pcs;
		if (live[i] && state[i] == UNSEEN && rt->ldso_text.hi &&
		    _mp_depot_get(nstack[i], &pcs) && pcs[0] >= rt->ldso_text.lo &&
		    pcs[0] < rt->ldso_text.hi) {
			state[i] = REACHED;
			work[nwork++] = i;
			drain();
		}
	}
	/* lost blocks: what each leader leads to is indirect */
	leak_walk = 1;
	for (unsigned i = 0; i < NODES; i++) {
		if (!live[i] || state[i] != UNSEEN)
			continue;
		leader = i;
		work[nwork++] = i;
		drain();
	}
	leader = -1;
	leak_walk = 0;
	_mp_threads_resume();
}

/* group (stack, kind), largest first within a kind */
static void add_group(struct mp_leak_set *ls, size_t cap, uint32_t stack,
		      int kind, size_t bytes)
{
	size_t i;
	for (i = 0; i < ls->n; i++)
		if (ls->g[i].stack == stack && ls->g[i].kind == kind)
			break;
	if (i == ls->n) {
		if (ls->n == cap)
			return;
		ls->g[ls->n++] = (struct mp_leak_group){ .stack = stack,
							.kind = (uint8_t)kind };
	}
	ls->g[i].bytes += bytes;
	ls->g[i].blocks++;
	ls->bytes[kind] += bytes;
	ls->blocks[kind]++;
	ls->total_bytes += bytes;
	ls->total_blocks++;
}

static void sort_groups(struct mp_leak_set *ls)
{
	for (size_t i = 1; i < ls->n; i++) {
		struct mp_leak_group g = ls->g[i];
		size_t j = i;
		while (j > 0 && (ls->g[j - 1].kind > g.kind ||
				 (ls->g[j - 1].kind == g.kind &&
				  ls->g[j - 1].bytes < g.bytes))) {
			ls->g[j] = ls->g[j - 1];
			j--;
		}
		ls->g[j] = g;
	}
}

int _mp_samplescan_collect(struct mp_leak_set *ls)
{
	memset(ls, 0, sizeof *ls);
	ls->sample_rate = _mp_slots_rate();
	if (!_mp_slots_lo || !_mp_slots_live())
		return 0; /* nothing to classify: no scan, at no cost */
	struct mp_handoff h;
	if (!_mp_handoff_context(&h))
		_mp_handoff_here(&h);
	rt = _mp_map(sizeof *rt, 1);
	size_t cap = NODES;
	ls->map_bytes = cap * sizeof *ls->g;
	ls->g = _mp_map(ls->map_bytes, 1);
	if (!rt || !ls->g) {
		if (rt)
			_mp_unmap(rt, sizeof *rt);
		if (ls->g)
			_mp_unmap(ls->g, ls->map_bytes);
		ls->g = NULL;
		return -1;
	}
	_mp_roots_collect(rt, h.sp);
	nregions = _mp_roots_regions(regions, sizeof regions / sizeof *regions);
	nknown = _mp_roots_regions_known(known, sizeof known / sizeof *known);
	_mp_readable_begin();
	_mp_vm_lock();
	mark_reachable(&h);
	_mp_vm_unlock();
	_mp_readable_end();
	_mp_unmap(rt, sizeof *rt);
	rt = NULL;
	for (unsigned i = 0; i < NODES; i++)
		if (live[i] && !inherited[i])
			add_group(ls, cap, nstack[i],
				  state[i] == REACHED ? MP_K_REACHABLE
				  : state[i] == INDIRECT ? MP_K_INDIRECT
				  : MP_K_DEFINITE, nsize[i]);
	sort_groups(ls);
	return 0;
}
