/* depot.c - the stack depot.
 *
 * Blocks keep a 32-bit stack id instead of up to 64 program counters, so
 * per-block metadata stays at 16 bytes with millions of blocks sharing a few
 * thousand distinct stacks.  Records are immutable once published: lookups
 * probe an open-addressed index with acquire loads and no lock; only
 * inserts lock.
 * Memory is reserved with mmap(MAP_NORESERVE) and touched as it fills, in
 * chunks that grow geometrically as stacks arrive (never the whole 2 GiB a
 * worst case needs at once): under `ulimit -v` a program keeps its address
 * space for itself.  Records never move (ids and the index hold their
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
#include <sys/mman.h>

struct rec {
	uint32_t hash;
	uint32_t depth;
	uint32_t gen;    /* modules unloaded before its capture (the
			  * symbolizer's dlclose count): frames in a module
			  * unloaded since are named after it, not after what
			  * was loaded at the same address later */
	uintptr_t pc[];
};

/* The index: open addressing over (hash, id) tags, each beside the
 * record's address, so a lookup is one probe into the index and one load of
 * the record (the former chains of bucket levels took a bucket, an id slot
 * and a record per level and per chained record: 8.6% of gcc's time with
 * quarantine_mb=0, 19k stacks in 3 levels).  It starts at 16 KiB (a hashed
 * table is touched everywhere at once: its resident size is its whole
 * size) and doubles, under depot_lock, at half load: the entries are copied
 * into the new table, which is then published, and the old one's pages are
 * given back (MADV_DONTNEED reads as zeros, i.e. empty entries): a reader
 * still probing it sees a miss and takes the locked path, which looks
 * again in the current table.  The old mapping stays reserved (readers may
 * hold it) until a reset. */
#define IDX_FIRST_BITS 10
#define IDX_MAX_BITS 25 /* MAX_IDS at half load */
#define IDX_PAGE 4096
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
struct ent {
	_Atomic uint64_t tag;        /* hash << 32 | id; 0: empty */
	_Atomic(struct rec *) rec;   /* stored before the tag (release) */
};
static pthread_mutex_t depot_lock = PTHREAD_MUTEX_INITIALIZER;
/* idx[-1].tag holds the table's bits: a reader's table and its size are
 * one load; the tables replaced by a doubling, kept mapped until a reset */
static _Atomic(struct ent *) idx;
static struct ent *idx_retired[IDX_MAX_BITS];
static unsigned nretired;
static size_t idx_used;               /* entries in the current table */
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

static struct ent *idx_new(unsigned bits);

/* depot_lock held */
static int setup_locked(void)
{
	if (atomic_load(&ready))
		return 0;
	if (!atomic_load_explicit(&idx, memory_order_relaxed)) {
		struct ent *t = idx_new(IDX_FIRST_BITS);
		if (!t)
			return -1;
		idx_used = 0;
		atomic_store_explicit(&idx, t, memory_order_release);
	}
	arena_used = chunk_used = 0;
	nchunks = 0;
	atomic_store(&nids, 0);
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

static inline unsigned idx_bits(const struct ent *t)
{
	return (unsigned)atomic_load_explicit(&t[-1].tag, memory_order_relaxed);
}

static inline size_t idx_home(uint32_t h, unsigned bits)
{
	return (size_t)(((uint64_t)h * 0x9E3779B97F4A7C15ULL) >> (64 - bits));
}

static uint32_t lookup(uint32_t h, const uintptr_t *pcs, unsigned n,
		       uint32_t gen)
{
	struct ent *t = atomic_load_explicit(&idx, memory_order_acquire);
	if (!t)
		return 0;
	unsigned bits = idx_bits(t);
	size_t mask = ((size_t)1 << bits) - 1;
	size_t i = idx_home(h, bits);
	for (size_t p = 0; p <= mask; p++, i = (i + 1) & mask) {
		uint64_t tag = atomic_load_explicit(&t[i].tag, memory_order_acquire);
		if (!tag)
			return 0;
		if ((uint32_t)(tag >> 32) != h)
			continue;
		/* NULL: a doubling emptied this table meanwhile (a miss) */
		const struct rec *r = atomic_load_explicit(&t[i].rec, memory_order_relaxed);
		if (!r)
			return 0;
		if (r->depth == n && r->gen == gen &&
		    memcmp(r->pc, pcs, n * sizeof *pcs) == 0)
			return (uint32_t)tag;
	}
	return 0;
}

/* A table of 2^bits entries after its header entry, or NULL. */
static struct ent *idx_new(unsigned bits)
{
	struct ent *m = reserve((((size_t)1 << bits) + 1) * sizeof *m);
	if (!m)
		return NULL;
	atomic_store_explicit(&m[0].tag, bits, memory_order_relaxed);
	return m + 1;
}

static size_t idx_map_len(const struct ent *t)
{
	return (((size_t)1 << idx_bits(t)) + 1) * sizeof *t;
}

/* Store (tag, r) in t, which has room; depot_lock held. */
static void idx_insert(struct ent *t, uint64_t tag, struct rec *r)
{
	unsigned bits = idx_bits(t);
	size_t mask = ((size_t)1 << bits) - 1;
	size_t i = idx_home((uint32_t)(tag >> 32), bits);
	while (atomic_load_explicit(&t[i].tag, memory_order_relaxed))
		i = (i + 1) & mask;
	atomic_store_explicit(&t[i].rec, r, memory_order_relaxed);
	atomic_store_explicit(&t[i].tag, tag, memory_order_release);
}

/* Room for one more entry at half load: the current table, or its double
 * (see above); NULL when none can be mapped.  depot_lock held. */
static struct ent *idx_room_locked(void)
{
	struct ent *t = atomic_load_explicit(&idx, memory_order_relaxed);
	unsigned bits = idx_bits(t);
	if (idx_used + 1 <= ((size_t)1 << bits) / 2)
		return t;
	if (bits >= IDX_MAX_BITS || nretired == IDX_MAX_BITS)
		return NULL;
	struct ent *nt = idx_new(bits + 1);
	if (!nt)
		return NULL;
	for (size_t i = 0; i < (size_t)1 << bits; i++) {
		uint64_t tag = atomic_load_explicit(&t[i].tag, memory_order_relaxed);
		if (tag)
			idx_insert(nt, tag, atomic_load_explicit(&t[i].rec,
								 memory_order_relaxed));
	}
	atomic_store_explicit(&idx, nt, memory_order_release);
	idx_retired[nretired++] = t;
	/* the header's page stays: a reader may still read the bits */
	uintptr_t lo = (uintptr_t)(t - 1) + IDX_PAGE; /* mmap'd: page aligned */
	uintptr_t hi = (uintptr_t)(t + ((size_t)1 << bits)) & ~(uintptr_t)(IDX_PAGE - 1);
	if (hi > lo)
		madvise((void *)lo, hi - lo, MADV_DONTNEED);
	return nt;
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
static uint32_t put_shared(uint32_t h, const uintptr_t *pcs, unsigned n,
			   uint32_t gen);

static inline uint32_t put_gen(const uintptr_t *pcs, unsigned n,
				uint32_t gen, uint32_t ep)
{
	uint32_t id = n <= LAST_DEPTH ? last_find(pcs, n, gen, ep) : 0;
	if (id)
		return id;
	id = put_slow(pcs, n, gen);
	last_note(pcs, n, gen, ep, id);
	return id;
}

uint32_t _mp_depot_put(const uintptr_t *pcs, unsigned n)
{
	if (n == 0)
		return 0;
	uint32_t gen = (uint32_t)_mp_symbolize_generation();
	uint32_t ep = atomic_load_explicit(&epoch, memory_order_relaxed);
	return put_gen(pcs, n, gen, ep);
}

uint32_t _mp_depot_put_memo(const uintptr_t *pcs, unsigned n,
			    struct mp_depot_memo *m)
{
	if (n == 0)
		return 0;
	uint32_t gen = (uint32_t)_mp_symbolize_generation();
	uint32_t ep = atomic_load_explicit(&epoch, memory_order_relaxed);
	if (m->id && m->gen == gen && m->epoch == ep)
		return m->id;
	uint32_t id = put_gen(pcs, n, gen, ep);
	m->id = id; /* 0 (the depot full): stays empty */
	m->gen = gen;
	m->epoch = ep;
	return id;
}

/* Behind the last stacks, a per-thread direct-mapped table of the (hash,
 * id) tags this thread put recently: a program with thousands of stacks
 * (cc1: 19k, two thirds of its puts missing the last 4) finds 42% of those
 * here, in 4 KiB it touched lately, instead of in the shared index (512
 * entries: 42%; 1,024: 47%; 4,096: 59%).
 * A tag is only a hint: the record it names is compared in full, and an id
 * past the depot's count (a reset since) is not looked at.  The table is a
 * mapping of its own reached by one pointer of static TLS (static TLS comes
 * out of every thread's stack: see unwind.c's cache), mapped at the
 * thread's first miss of the last stacks and unmapped at its exit. */
#define RECENT_BITS 9
#define RECENT_BYTES (sizeof(uint64_t) << RECENT_BITS)
static __thread uint64_t *recent __attribute__((tls_model("initial-exec")));
static pthread_key_t recent_key;
static int recent_key_ok;

static void recent_free(void *p)
{
	if (p && p == recent) {
		recent = NULL;
		_mp_unmap(p, RECENT_BYTES);
	}
}

__attribute__((constructor)) static void recent_key_init(void)
{
	/* made this early, the key has a low index: setspecific then needs
	 * no memory */
	recent_key_ok = pthread_key_create(&recent_key, recent_free) == 0;
}

__attribute__((noinline, cold)) static uint64_t *recent_new(void)
{
	uint64_t *t = _mp_map(RECENT_BYTES, 0); /* zeros: every tag empty */
	if (!t)
		return NULL;
	recent = t;
	if (recent_key_ok)
		pthread_setspecific(recent_key, t);
	return t;
}

static inline uint64_t *recent_slot(uint64_t *t, uint32_t h)
{
	return &t[(h * 0x9E3779B1u) >> (32 - RECENT_BITS)];
}

static uint32_t recent_find(uint64_t *t, uint32_t h, const uintptr_t *pcs,
			    unsigned n, uint32_t gen)
{
	uint64_t tag = *recent_slot(t, h);
	uint32_t id = (uint32_t)tag;
	if ((uint32_t)(tag >> 32) != h || !id ||
	    !atomic_load_explicit(&ready, memory_order_acquire) ||
	    id > atomic_load_explicit(&nids, memory_order_acquire))
		return 0;
	const struct rec *r = atomic_load_explicit(id_slot(id), memory_order_acquire);
	if (r && r->hash == h && r->depth == n && r->gen == gen &&
	    memcmp(r->pc, pcs, n * sizeof *pcs) == 0)
		return id;
	return 0;
}

static uint32_t put_slow(const uintptr_t *pcs, unsigned n, uint32_t gen)
{
	uint32_t h = hash_pcs(pcs, n, gen);
	uint64_t *t = recent;
	if (__builtin_expect(!t, 0))
		t = recent_new();
	uint32_t id = t ? recent_find(t, h, pcs, n, gen) : 0;
	if (id)
		return id;
	id = put_shared(h, pcs, n, gen);
	if (id && t)
		*recent_slot(t, h) = (uint64_t)h << 32 | id;
	return id;
}

static uint32_t put_shared(uint32_t h, const uintptr_t *pcs, unsigned n,
			   uint32_t gen)
{
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
		struct ent *t = NULL;
		if (!id && next_id < MAX_IDS && (t = idx_room_locked()) != NULL &&
		    id_page_locked(next_id) == 0)
			r = (struct rec *)room_locked(need);
		if (!id && !r && !full)
			say = full = 1;
		if (r) {
			arena_used += need;
			r->hash = h;
			r->depth = n;
			r->gen = gen;
			memcpy(r->pc, pcs, n * sizeof *pcs);
			id = next_id;
			atomic_store_explicit(id_slot(id), r, memory_order_release);
			atomic_store(&nids, id);
			idx_insert(t, (uint64_t)h << 32 | id, r);
			idx_used++;
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
	/* touched memory: arena plus the id entries in use (the index is
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
		struct ent *t = atomic_load(&idx);
		_mp_unmap((void *)(t - 1), idx_map_len(t));
		for (unsigned k = 0; k < nretired; k++)
			_mp_unmap((void *)(idx_retired[k] - 1),
				  idx_map_len(idx_retired[k]));
		nretired = 0;
		idx_used = 0;
		atomic_store(&idx, NULL);
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
		arena_used = 0; /* _mp_depot_bytes reads it before the next setup */
		atomic_store(&nids, 0);
	}
	/* every thread's cached ids name records of the old depot */
	uint32_t ep = atomic_load(&epoch) + 1;
	atomic_store(&epoch, ep ? ep : 1);
	pthread_mutex_unlock(&depot_lock);
}
