/* depot.c - the stack depot.
 *
 * Blocks keep a 32-bit stack id instead of up to 64 program counters, so
 * per-block metadata stays at 16 bytes with millions of blocks sharing a few
 * thousand distinct stacks.  Records are immutable once published: lookups
 * walk hash chains with acquire loads and no lock; only inserts lock.
 * Memory is reserved with mmap(MAP_NORESERVE) and touched as it fills, in
 * chunks that grow geometrically as stacks arrive (never the whole 2 GiB a
 * worst case needs at once): under `ulimit -v` a program keeps its address
 * space for itself.  Records never move (ids and chains hold their
 * addresses), so a chunk is never remapped or grown in place; the id table
 * is a directory of fixed chunks for the same reason.  When no chunk can be
 * mapped the depot says so once (the hook set by _mp_depot_on_full) and
 * blocks get no stack from then on.
 */
#define _GNU_SOURCE
#include "mpassert.h"
#include "depot.h"
#include "options.h"
#include "symbolize.h"
#include "vm.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

struct rec {
	uint32_t next;   /* id of the next record in the bucket, 0 = end */
	uint32_t hash;
	uint32_t depth;
	uint32_t gen;    /* modules unloaded before its capture (the
			  * symbolizer's dlclose count): frames in a module
			  * unloaded since are named after it, not after what
			  * was loaded at the same address later */
	uintptr_t pc[];
};

/* Bucket tables in levels of 4x growth: a program with a few thousand
 * stacks touches 16 KiB of buckets, not 1 MiB (a hashed table is touched
 * everywhere at once: its resident size is its whole size).  New records go
 * into the newest level; records are immutable, so older levels are never
 * rehashed and a lookup walks one chain per level, newest first.  The last
 * level takes any number of records, as the single table did. */
#define LEVELS 4
#define LEVEL0_BITS 12
#define LEVEL_GROWTH_BITS 2
#define LEVEL_BITS(l) (LEVEL0_BITS + LEVEL_GROWTH_BITS * (l))
#define NBUCKETS (((size_t)1 << LEVEL_BITS(0)) + ((size_t)1 << LEVEL_BITS(1)) + \
		  ((size_t)1 << LEVEL_BITS(2)) + ((size_t)1 << LEVEL_BITS(3)))
_Static_assert(LEVELS == 4, "NBUCKETS sums every level");
#define MAX_IDS ((size_t)1 << 24)
#define ARENA_BYTES ((size_t)1 << 31) /* records of all chunks, at most */
/* Arena chunks: the first 256 KiB (a few thousand stacks), each next one
 * twice the last up to 64 MiB; one that cannot be mapped is asked for at
 * half the size down to CHUNK_MIN before the depot gives up. */
#define CHUNK_FIRST ((size_t)256 << 10)
#define CHUNK_MAX ((size_t)64 << 20)
#define CHUNK_MIN ((size_t)64 << 10)
#define MAX_CHUNKS 128
/* The id table: a directory of IDS_PER_DIR-entry pages (512 KiB each). */
#define IDS_SHIFT 16
#define IDS_PER_DIR ((size_t)1 << IDS_SHIFT)
#define IDS_DIRS (MAX_IDS / IDS_PER_DIR)

static pthread_mutex_t depot_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic uint32_t *buckets;     /* NBUCKETS heads, level by level */
static _Atomic int level;             /* the level new records go into */
/* records by id: ids[id >> IDS_SHIFT][id & (IDS_PER_DIR - 1)]; a page is
 * published (release) before any id in it */
static _Atomic(_Atomic(struct rec *) *) ids[IDS_DIRS];
static struct chunk {
	char *base;
	size_t len;
} chunks[MAX_CHUNKS];
static unsigned nchunks;
static size_t chunk_used;             /* bytes used of the last chunk */
static size_t arena_used;             /* bytes of records, every chunk */
static _Atomic uint32_t nids;         /* last id handed out */
static _Atomic int ready;
static int full;                      /* said it: no more stacks */
static void (*on_full)(void);

void _mp_depot_on_full(void (*hook)(void))
{
	on_full = hook;
}

static void *reserve(size_t n)
{
	return _mp_map(n, 1);
}

static _Atomic(struct rec *) *id_slot(uint32_t id)
{
	_Atomic(struct rec *) *page = atomic_load_explicit(
		&ids[id >> IDS_SHIFT], memory_order_acquire);
	return &page[id & (IDS_PER_DIR - 1)];
}

/* depot_lock held */
static int setup_locked(void)
{
	if (atomic_load(&ready))
		return 0;
	if (!buckets)
		buckets = reserve(NBUCKETS * sizeof *buckets);
	if (!buckets)
		return -1;
	arena_used = chunk_used = 0;
	nchunks = 0;
	atomic_store(&nids, 0);
	atomic_store(&level, 0);
	atomic_store_explicit(&ready, 1, memory_order_release);
	return 0;
}

/* Room for `need` bytes of record, a new chunk if the last is full;
 * NULL when none can be mapped.  depot_lock held. */
static char *room_locked(size_t need)
{
	if (nchunks && chunk_used + need <= chunks[nchunks - 1].len) {
		char *r = chunks[nchunks - 1].base + chunk_used;
		chunk_used += need;
		return r;
	}
	if (nchunks == MAX_CHUNKS || arena_used + need > ARENA_BYTES)
		return NULL;
	size_t len = nchunks ? chunks[nchunks - 1].len * 2 : CHUNK_FIRST;
	if (len > CHUNK_MAX)
		len = CHUNK_MAX;
	char *m = NULL;
	for (; len >= CHUNK_MIN && !(m = reserve(len)); len /= 2)
		;
	if (!m)
		return NULL;
	chunks[nchunks++] = (struct chunk){ m, len };
	chunk_used = need;
	return m;
}

/* The id page for id exists (mapped now if not).  depot_lock held. */
static int id_page_locked(uint32_t id)
{
	size_t d = id >> IDS_SHIFT;
	if (atomic_load_explicit(&ids[d], memory_order_relaxed))
		return 0;
	_Atomic(struct rec *) *page = reserve(IDS_PER_DIR * sizeof *page);
	if (!page)
		return -1;
	atomic_store_explicit(&ids[d], page, memory_order_release);
	return 0;
}

/* The module generation is part of the key: the same program counters
 * before and after a dlclose may be two functions of two libraries loaded
 * at the same address.  A program that never unloads a library has one
 * generation; one that does stores its repeated stacks once per
 * generation in which they occur. */
static uint32_t hash_pcs(const uintptr_t *pcs, unsigned n, uint32_t gen)
{
	uint64_t h = (0xcbf29ce484222325ULL ^ n) + gen * 0x9E3779B97F4A7C15ULL;
	for (unsigned i = 0; i < n; i++) {
		h ^= pcs[i];
		h *= 0x100000001b3ULL;
		h ^= h >> 29;
	}
	return (uint32_t)(h ^ (h >> 32));
}

/* The head of h's chain in level l. */
static _Atomic uint32_t *bucket(int l, uint32_t h)
{
	size_t first = 0;
	for (int k = 0; k < l; k++)
		first += (size_t)1 << LEVEL_BITS(k);
	return &buckets[first + (h & (((size_t)1 << LEVEL_BITS(l)) - 1))];
}

static uint32_t lookup(uint32_t h, const uintptr_t *pcs, unsigned n,
		       uint32_t gen)
{
	for (int l = atomic_load_explicit(&level, memory_order_acquire); l >= 0; l--) {
		uint32_t id = atomic_load_explicit(bucket(l, h), memory_order_acquire);
		while (id) {
			struct rec *r = atomic_load_explicit(id_slot(id), memory_order_acquire);
			if (r->hash == h && r->depth == n && r->gen == gen &&
			    memcmp(r->pc, pcs, n * sizeof *pcs) == 0)
				return id;
			id = r->next;
		}
	}
	return 0;
}

/* Per-thread cache of the last stacks put: a program allocates from a few
 * sites over and over, and comparing a handful of program counters with the
 * ones of the last call costs less than hashing them and walking a shared
 * bucket chain.  Entries carry the depot's epoch (bumped by a reset) and
 * the module generation, so a stale entry is never taken. */
#define LAST_N 4        /* entries per thread */
#define LAST_DEPTH 16   /* deeper stacks are not cached */
struct last {
	uint32_t id, depth, gen, epoch;
	uintptr_t pc[LAST_DEPTH];
};
static __thread struct {
	struct last e[LAST_N];
	unsigned next;
} last_put __attribute__((tls_model("initial-exec")));
static _Atomic uint32_t epoch = 1; /* 0: an empty cache entry */

static uint32_t last_find(const uintptr_t *pcs, unsigned n, uint32_t gen,
			  uint32_t ep)
{
	for (int k = 0; k < LAST_N; k++) {
		const struct last *e = &last_put.e[k];
		/* pc[0], the call site, tells most entries apart at once */
		if (e->pc[0] != pcs[0] || e->epoch != ep || e->depth != n ||
		    e->gen != gen)
			continue;
		/* a few words: an inline loop beats a call to memcmp */
		uintptr_t diff = 0;
		for (unsigned j = 0; j < n; j++)
			diff |= e->pc[j] ^ pcs[j];
		if (!diff)
			return e->id;
	}
	return 0;
}

static void last_note(const uintptr_t *pcs, unsigned n, uint32_t gen,
		      uint32_t ep, uint32_t id)
{
	if (!id || n > LAST_DEPTH)
		return;
	struct last *e = &last_put.e[last_put.next++ % LAST_N];
	e->id = id;
	e->depth = n;
	e->gen = gen;
	e->epoch = ep;
	memcpy(e->pc, pcs, n * sizeof *pcs);
}

static uint32_t put_slow(const uintptr_t *pcs, unsigned n, uint32_t gen);

uint32_t _mp_depot_put(const uintptr_t *pcs, unsigned n)
{
	if (n == 0)
		return 0;
	uint32_t gen = (uint32_t)_mp_symbolize_generation();
	uint32_t ep = atomic_load_explicit(&epoch, memory_order_relaxed);
	uint32_t id = n <= LAST_DEPTH ? last_find(pcs, n, gen, ep) : 0;
	if (id)
		return id;
	id = put_slow(pcs, n, gen);
	last_note(pcs, n, gen, ep, id);
	return id;
}

static uint32_t put_slow(const uintptr_t *pcs, unsigned n, uint32_t gen)
{
	uint32_t h = hash_pcs(pcs, n, gen);
	if (atomic_load_explicit(&ready, memory_order_acquire)) {
		uint32_t id = lookup(h, pcs, n, gen);
		if (id)
			return id;
	}
	pthread_mutex_lock(&depot_lock);
	uint32_t id = 0;
	int say = 0;
	if (setup_locked() == 0) {
		id = lookup(h, pcs, n, gen);
		size_t need = sizeof(struct rec) + n * sizeof(uintptr_t);
		uint32_t next_id = atomic_load(&nids) + 1;
		struct rec *r = NULL;
		if (!id && next_id < MAX_IDS && id_page_locked(next_id) == 0)
			r = (struct rec *)room_locked(need);
		if (!id && !r && !full)
			say = full = 1;
		if (r) {
			arena_used += need;
			r->hash = h;
			r->depth = n;
			r->gen = gen;
			memcpy(r->pc, pcs, n * sizeof *pcs);
			int l = atomic_load(&level);
			/* one record per bucket on average, then the next level */
			if (l < LEVELS - 1 && next_id > ((uint32_t)1 << LEVEL_BITS(l)))
				atomic_store_explicit(&level, ++l, memory_order_release);
			_Atomic uint32_t *b = bucket(l, h);
			r->next = atomic_load(b);
			id = next_id;
			atomic_store_explicit(id_slot(id), r, memory_order_release);
			atomic_store(&nids, id);
			atomic_store_explicit(b, id, memory_order_release);
		}
	} else if (!full) {
		say = full = 1;
	}
	pthread_mutex_unlock(&depot_lock);
	if (say && on_full) /* said with no lock of ours held */
		on_full();
	return id;
}

unsigned _mp_depot_get(uint32_t id, const uintptr_t **pcs)
{
	if (!id || !atomic_load_explicit(&ready, memory_order_acquire) ||
	    id > atomic_load(&nids))
		return 0;
	struct rec *r = atomic_load_explicit(id_slot(id), memory_order_acquire);
	MP_DCHECK(r && r->depth <= MP_MAX_DEPTH);
	*pcs = r->pc;
	return r->depth;
}

uint32_t _mp_depot_count(void) { return atomic_load(&nids); }

uint32_t _mp_depot_gen(uint32_t id)
{
	if (!id || !atomic_load_explicit(&ready, memory_order_acquire) ||
	    id > atomic_load(&nids))
		return 0;
	return atomic_load_explicit(id_slot(id), memory_order_acquire)->gen;
}

size_t _mp_depot_bytes(void)
{
	/* touched memory: arena plus the id entries in use (buckets are
	 * touched sparsely and not counted) */
	return arena_used + (size_t)atomic_load(&nids) * sizeof(void *);
}

void _mp_depot_lock(void) { pthread_mutex_lock(&depot_lock); }
void _mp_depot_unlock(void) { pthread_mutex_unlock(&depot_lock); }

void _mp_depot_reset(void)
{
	pthread_mutex_lock(&depot_lock);
	if (atomic_load(&ready)) {
		atomic_store(&ready, 0);
		_mp_unmap((void *)buckets, NBUCKETS * sizeof *buckets);
		for (size_t d = 0; d < IDS_DIRS; d++) {
			_Atomic(struct rec *) *page = atomic_load(&ids[d]);
			if (page)
				_mp_unmap((void *)page, IDS_PER_DIR * sizeof *page);
			atomic_store(&ids[d], NULL);
		}
		for (unsigned c = 0; c < nchunks; c++)
			_mp_unmap(chunks[c].base, chunks[c].len);
		nchunks = 0;
		chunk_used = 0;
		full = 0;
		buckets = NULL;
		arena_used = 0; /* _mp_depot_bytes reads it before the next setup */
		atomic_store(&nids, 0);
	}
	/* every thread's cached ids name records of the old depot */
	uint32_t ep = atomic_load(&epoch) + 1;
	atomic_store(&epoch, ep ? ep : 1);
	pthread_mutex_unlock(&depot_lock);
}
