/* sampleslots.c - the guarded slots of sampled mode (sample_rate=N), as
 * GWP-ASan keeps them: one region reserved at start, every other page
 * inaccessible, each page between two of them a slot for one block.
 *
 *   | guard | slot 0 | guard | slot 1 | guard | ... | slot S-1 | guard |
 *
 * A block sits at the end of its page (over: an overflow faults on the
 * next guard) or at its start (under: an underflow faults on the one
 * before), sides alternating; the rest of the page holds guard bytes,
 * checked at free, so an overflow smaller than the alignment slack is
 * still found.  A freed slot's page is made inaccessible (a use after free
 * faults at the access) and goes to the tail of a FIFO: it is reused as
 * late as possible.
 *
 * The unsampled path pays a thread-local decrement per allocation and an
 * address-range check per free; the slot lock is only ever tried (a busy
 * lock sends the allocation to the C library), so the pool never makes an
 * unsampled allocation wait.  The fault handler reads slots lock-free:
 * a slot's state is published last.
 */
#define _GNU_SOURCE
#include "sampleslots.h"
#include "guard.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SLOTS_MAX MP_SLOTS_MAX

struct slot {
	uintptr_t user;
	size_t size;
	uint32_t alloc_stack;
	_Atomic uint32_t free_stack;
	_Atomic uint8_t state; /* MP_ST_UNUSED, MP_ST_LIVE, MP_ST_QUAR */
	uint8_t family, under;
	uint8_t fenced; /* its guard pages are VMAs of their own (fence) */
	unsigned gen;   /* the fork generation that took it */
};

uintptr_t _mp_slots_lo, _mp_slots_hi;
__thread long _mp_slots_countdown __attribute__((tls_model("initial-exec")));
static __thread uint64_t rng __attribute__((tls_model("initial-exec")));

static struct slot slots[SLOTS_MAX];
static unsigned nslots;
static unsigned long rate;
static size_t ps;
/* free slots, oldest freed first */
static unsigned ring[SLOTS_MAX], head, count;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_ulong sides, sampled;
/* forks since start along this process's line: a forked child judges the
 * blocks it made, its parent's are the parent's (leaks.h's rule) */
static unsigned gen;

int _mp_slots_init(unsigned want, unsigned long r)
{
	if (_mp_slots_lo)
		return 0;
	ps = (size_t)sysconf(_SC_PAGESIZE);
	nslots = want < 1 ? 1 : want > SLOTS_MAX ? SLOTS_MAX : want;
	size_t len = (2 * (size_t)nslots + 1) * ps;
	void *m = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
		       MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return -1;
	for (unsigned i = 0; i < nslots; i++)
		ring[i] = i;
	head = 0;
	count = nslots;
	rate = r;
	_mp_slots_hi = (uintptr_t)m + len;
	_mp_slots_lo = (uintptr_t)m;
	return 0;
}

static uint64_t next_random(void)
{
	if (!rng) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		rng = ((uint64_t)syscall(SYS_gettid) * 0x9E3779B97F4A7C15ULL) ^
		      (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^
		      (uintptr_t)&rng;
		if (!rng)
			rng = 1;
	}
	/* xorshift64* */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545F4914F6CDD1DULL;
}

int _mp_slots_draw(void)
{
	if (!_mp_slots_lo || !rate) {
		/* not started yet (or never): ask again a little later */
		_mp_slots_countdown = 1024;
		return 0;
	}
	int first = rng == 0; /* the countdown was never drawn */
	/* uniform in [1, 2 rate - 1]: mean rate, no fixed period */
	_mp_slots_countdown = (long)(1 + next_random() % (2 * rate - 1));
	return !first;
}

unsigned long _mp_slots_sampled(void)
{
	return atomic_load_explicit(&sampled, memory_order_relaxed);
}

unsigned long _mp_slots_rate(void)
{
	return rate;
}

static uintptr_t page_of(unsigned i)
{
	return _mp_slots_lo + (2 * (uintptr_t)i + 1) * ps;
}

/* A slot's page made its own VMA, once: its two guard pages get
 * MADV_DONTDUMP (they hold nothing to dump), which differs from the
 * slot's flags, so the kernel never merges them with it.  Then every
 * mprotect of the slot covers one whole VMA: no split, no merge, no
 * maple-tree rewrite (those were 80% of a sampled allocation's cost: 6.8
 * us, mprotect's VMA work measured at sample_rate=10).  Done at the
 * slot's first use, not at start: a short process touches few slots. */
static void fence(struct slot *s, uintptr_t page)
{
	if (s->fenced)
		return;
	madvise((void *)(page - ps), ps, MADV_DONTDUMP);
	madvise((void *)(page + ps), ps, MADV_DONTDUMP);
	s->fenced = 1;
}

void *_mp_slots_take(size_t n, size_t align, uint32_t stack, unsigned family)
{
	if (!_mp_slots_lo || n > ps || align > ps)
		return NULL;
	if (pthread_mutex_trylock(&lock) != 0)
		return NULL;
	if (!count) {
		pthread_mutex_unlock(&lock);
		return NULL;
	}
	unsigned i = ring[head];
	head = (head + 1) % nslots;
	count--;
	pthread_mutex_unlock(&lock);
	/* the slot is this thread's alone from here */
	struct slot *s = &slots[i];
	uintptr_t page = page_of(i);
	fence(s, page);
	if (mprotect((void *)page, ps, PROT_READ | PROT_WRITE) != 0) {
		pthread_mutex_lock(&lock);
		ring[(head + count++) % nslots] = i;
		pthread_mutex_unlock(&lock);
		return NULL;
	}
	size_t a = align > MP_ALIGN ? align : MP_ALIGN;
	int under = atomic_fetch_add_explicit(&sides, 1, memory_order_relaxed) & 1;
	uintptr_t user = under ? page
		: (page + ps - (n ? n : 1)) & ~(uintptr_t)(a - 1);
	memset((void *)page, MP_GUARD_BYTE, user - page);
	memset((void *)(user + n), MP_GUARD_BYTE, page + ps - (user + n));
	s->user = user;
	s->size = n;
	s->alloc_stack = stack;
	s->family = (uint8_t)family;
	s->under = (uint8_t)under;
	s->gen = gen;
	atomic_store_explicit(&s->free_stack, 0, memory_order_relaxed);
	atomic_store_explicit(&s->state, MP_ST_LIVE, memory_order_release);
	atomic_fetch_add_explicit(&sampled, 1, memory_order_relaxed);
	return (void *)user;
}

static void block_of(const struct slot *s, struct mp_block *b)
{
	*b = (struct mp_block){ .user = s->user, .size = s->size, .cls = -1,
		.alloc_stack = s->alloc_stack,
		.free_stack = atomic_load_explicit(&s->free_stack,
						   memory_order_relaxed),
		.state = atomic_load_explicit(&s->state, memory_order_acquire),
		.family = s->family };
}

/* The slot whose page holds p, or -1 (a guard page). */
static long slot_at(uintptr_t p)
{
	size_t pg = (p - _mp_slots_lo) / ps;
	return pg & 1 ? (long)(pg / 2) : -1;
}

long _mp_slots_index(uintptr_t p)
{
	return _mp_slots_owns((const void *)p) ? slot_at(p) : -1;
}

unsigned _mp_slots_live(void)
{
	unsigned n = 0;
	for (unsigned i = 0; i < nslots; i++)
		n += atomic_load_explicit(&slots[i].state, memory_order_relaxed) ==
		     MP_ST_LIVE;
	return n;
}

unsigned _mp_slots_count(void)
{
	return nslots;
}

int _mp_slots_block(const void *p, struct mp_block *b)
{
	if (!_mp_slots_owns(p))
		return 0;
	long i = slot_at((uintptr_t)p);
	if (i < 0 || atomic_load_explicit(&slots[i].state, memory_order_acquire) ==
			     MP_ST_UNUSED)
		return 0;
	block_of(&slots[i], b);
	return 1;
}

int _mp_slots_verdicts(const struct mp_block *b, uint32_t stack,
		       const char *where, struct mp_verdict *v)
{
	uintptr_t page = b->user & ~(uintptr_t)(ps - 1);
	return _mp_guard_verdicts(b, b->user - page, page + ps - (b->user + b->size),
				  stack, where, v);
}

int _mp_slots_put(uintptr_t user, uint32_t free_stack)
{
	long i = slot_at(user);
	if (i < 0 || slots[i].user != user)
		return 0;
	uint8_t live = MP_ST_LIVE;
	if (!atomic_compare_exchange_strong(&slots[i].state, &live, MP_ST_QUAR))
		return 0; /* freed by another thread meanwhile */
	atomic_store_explicit(&slots[i].free_stack, free_stack,
			      memory_order_relaxed);
	mprotect((void *)page_of((unsigned)i), ps, PROT_NONE);
	pthread_mutex_lock(&lock);
	ring[(head + count++) % nslots] = (unsigned)i;
	pthread_mutex_unlock(&lock);
	return 1;
}

int _mp_slots_fault(uintptr_t addr, uint32_t access_stack, int access,
		    struct mp_verdict *v)
{
	if (!_mp_slots_owns((void *)addr))
		return 0;
	size_t pg = (addr - _mp_slots_lo) / ps;
	const struct slot *s = NULL;
	enum mp_err kind;
	if (pg & 1) { /* a slot's own page: inaccessible only when freed */
		s = &slots[pg / 2];
		if (atomic_load_explicit(&s->state, memory_order_acquire) !=
		    MP_ST_QUAR)
			return 0;
		kind = MP_E_USE_AFTER_FREE;
	} else {
		/* a guard page: the nearer of the blocks beside it, a live
		 * one first (the block before overflowed, or the one after
		 * underflowed) */
		const struct slot *l = pg ? &slots[pg / 2 - 1] : NULL;
		const struct slot *r = pg / 2 < nslots ? &slots[pg / 2] : NULL;
		int lu = l && atomic_load(&l->state) != MP_ST_UNUSED;
		int ru = r && atomic_load(&r->state) != MP_ST_UNUSED;
		int ll = lu && atomic_load(&l->state) == MP_ST_LIVE;
		int rl = ru && atomic_load(&r->state) == MP_ST_LIVE;
		uintptr_t dl = lu ? addr - (l->user + l->size) : UINTPTR_MAX;
		uintptr_t dr = ru ? r->user - addr : UINTPTR_MAX;
		if (ll != rl)
			s = ll ? l : r;
		else if (lu || ru)
			s = dl <= dr ? l : r;
		if (!s)
			return 0;
		kind = atomic_load(&s->state) != MP_ST_LIVE ? MP_E_USE_AFTER_FREE
			: s == l ? MP_E_OVERFLOW : MP_E_UNDERFLOW;
	}
	struct mp_block b;
	block_of(s, &b);
	*v = _mp_verdict(kind, addr, &b, (long)(addr - b.user), 0, access_stack,
			 "guard page");
	v->access = access;
	return 1;
}

void _mp_slots_each_live(void (*fn)(void *ctx, const struct mp_block *b),
			 void *ctx)
{
	for (unsigned i = 0; i < nslots; i++)
		if (atomic_load_explicit(&slots[i].state, memory_order_acquire) ==
		    MP_ST_LIVE) {
			struct mp_block b;
			block_of(&slots[i], &b);
			fn(ctx, &b);
		}
}

void _mp_slots_lock(void)
{
	pthread_mutex_lock(&lock);
}

void _mp_slots_unlock(void)
{
	pthread_mutex_unlock(&lock);
}

void _mp_slots_fork_child(void)
{
	gen++;
	pthread_mutex_unlock(&lock);
}

int _mp_slots_inherited(long i)
{
	return i >= 0 && (unsigned long)i < nslots && slots[i].gen != gen;
}
