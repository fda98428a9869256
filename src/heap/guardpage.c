/* guardpage.c - one allocation in guard_page_rate sits right against an
 * inaccessible page, so an overflow (or, with guard_page_side=under, an
 * underflow) faults at the bad access itself, and a freed block's pages are
 * made inaccessible so a use after free faults too.  The SIGSEGV handler
 * (signals.c) asks _mp_gp_fault what the address was and reports it with the
 * faulting stack and the allocation stack; then the program dies as it
 * would have.
 *
 *   over:  | data pages .... [16 B guard][block][slack < align] | PROT_NONE |
 *   under: | PROT_NONE | [block][16 B guard] ....... data pages |
 *
 * A block of a targeted site (guard_page_sites, gpsites.c) is placed so that
 * its last byte touches the page (over) or its first byte follows it
 * (under): even a 1-byte overflow of a 10-byte block faults.  Its pointer
 * is then aligned only as far as the size allows (Electric Fence's
 * EF_ALIGNMENT=1), for those sites only; an explicit alignment (memalign,
 * aligned new) is kept, leaving at most alignment - 1 bytes of slack,
 * except 16, which cannot be told from malloc's own.
 *
 * A small fixed registry describes the regions to the fault handler, which
 * reads it without locking (entries are published after they are filled).
 */
#define _GNU_SOURCE
#include "guardpage.h"
#include "block.h"
#include "gpsites.h"
#include "guard.h"
#include "options.h"
#include "vm.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <unistd.h>

#define GP_MAX 4096
/* Past this many regions in use, a freed block is unmapped at once rather
 * than kept in quarantine: a site that allocates in a loop keeps getting
 * guard pages (quarantined blocks of 10 bytes would otherwise hold every
 * slot, the quarantine counting bytes, not pages). */
#define GP_CROWDED (GP_MAX / 2)

struct region {
	_Atomic uintptr_t base; /* 0: free slot */
	size_t len, size;
	uintptr_t user;
	uint32_t alloc_stack;
	_Atomic uint32_t free_stack;
	_Atomic int freed;
};

static struct region regs[GP_MAX];
static pthread_mutex_t gp_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_ulong sample;
static atomic_uint used; /* regions published */

static size_t page(void)
{
	static size_t ps;
	if (!ps)
		ps = (size_t)sysconf(_SC_PAGESIZE);
	return ps;
}

int _mp_gp_wanted(size_t n, size_t align, int site)
{
	unsigned long rate = (unsigned long)_mp_opt.guard_page_rate;
	if ((!rate && !_mp_opt.guard_page_sites) || align > page() ||
	    n > ((size_t)1 << 30))
		return MP_GP_NONE;
	if (site)
		return site | MP_GP_EXACT;
	if (rate && atomic_fetch_add_explicit(&sample, 1, memory_order_relaxed) %
			    rate == 0)
		return _mp_opt.guard_page_under ? MP_GP_UNDER : MP_GP_OVER;
	return MP_GP_NONE;
}

void *_mp_gp_alloc(size_t n, size_t align, uint32_t stack, int how,
		   struct mp_large *e)
{
	size_t ps = page(), a = align > MP_ALIGN ? align : MP_ALIGN;
	size_t data = (n + MP_GUARD_SIZE + a + ps - 1) & ~(ps - 1);
	int under = (how & MP_GP_UNDER) != 0;
	/* targeted: the end touches the page; an alignment the caller asked
	 * for is kept, but malloc's 16 is not (memalign(16) looks the same) */
	if (how & MP_GP_EXACT)
		a = align == MP_ALIGN || align == 0 ? 1 : align;
	char *base = _mp_map(data + ps, 0);
	if (!base)
		return NULL;
	uintptr_t user;
	if (under) {
		mprotect(base, ps, PROT_NONE);
		user = (uintptr_t)base + ps;
		_mp_guard_fill_rear(user, n, MP_GUARD_SIZE);
	} else {
		mprotect(base + data, ps, PROT_NONE);
		user = ((uintptr_t)base + data - n) & ~(uintptr_t)(a - 1);
		_mp_guard_fill(user, n, (uintptr_t)base + data - (user + n));
	}
	pthread_mutex_lock(&gp_lock);
	size_t i = 0;
	while (i < GP_MAX && atomic_load(&regs[i].base))
		i++;
	if (i < GP_MAX) {
		regs[i].len = data + ps;
		regs[i].size = n;
		regs[i].user = user;
		regs[i].alloc_stack = stack;
		atomic_store(&regs[i].free_stack, 0);
		atomic_store(&regs[i].freed, 0);
		atomic_store(&regs[i].base, (uintptr_t)base); /* publish */
		atomic_fetch_add(&used, 1);
	}
	pthread_mutex_unlock(&gp_lock);
	if (i == GP_MAX) { /* registry full: no guard page for this one */
		_mp_unmap(base, data + ps);
		return NULL;
	}
	*e = (struct mp_large){ .user = user, .real = (uintptr_t)base, .size = n,
				.alloc_stack = stack, .state = MP_ST_LIVE,
				.flags = MP_F_GUARDPAGE,
				.gp_under = (uint8_t)under,
				.map_pages = (uint32_t)((data + ps) / ps) };
	return (void *)user;
}

void _mp_gp_soft_guards(const struct mp_large *e, size_t *front, size_t *rear)
{
	if (!(e->flags & MP_F_GUARDPAGE)) {
		*front = *rear = MP_GUARD_SIZE;
		return;
	}
	uintptr_t end = e->real + (size_t)e->map_pages * page();
	if (e->gp_under) { /* the page is the front guard */
		*front = 0;
		*rear = MP_GUARD_SIZE;
	} else {
		*front = MP_GUARD_SIZE;
		*rear = end - page() - (e->user + e->size);
	}
}

static struct region *find(uintptr_t base)
{
	for (size_t i = 0; i < GP_MAX; i++)
		if (atomic_load_explicit(&regs[i].base, memory_order_acquire) == base)
			return &regs[i];
	return NULL;
}

void _mp_gp_retire(const struct mp_large *e, uint32_t free_stack)
{
	struct region *r = find(e->real);
	if (r) {
		atomic_store(&r->free_stack, free_stack);
		atomic_store(&r->freed, 1);
	}
	mprotect((void *)e->real, (size_t)e->map_pages * page(), PROT_NONE);
}

void _mp_gp_release(uintptr_t real, uint32_t map_pages)
{
	struct region *r = find(real);
	if (r) {
		atomic_store_explicit(&r->base, 0, memory_order_release);
		atomic_fetch_sub(&used, 1);
	}
	_mp_unmap((void *)real, (size_t)map_pages * page());
}

int _mp_gp_crowded(void)
{
	return atomic_load_explicit(&used, memory_order_relaxed) >= GP_CROWDED;
}

int _mp_gp_fault(uintptr_t addr, uint32_t access_stack, int access,
		 struct mp_verdict *v)
{
	for (size_t i = 0; i < GP_MAX; i++) {
		struct region *r = &regs[i];
		uintptr_t base = atomic_load_explicit(&r->base, memory_order_acquire);
		if (!base || addr < base || addr >= base + r->len)
			continue;
		int freed = atomic_load(&r->freed);
		struct mp_block b = { r->user, r->size, -1, r->alloc_stack,
				      atomic_load(&r->free_stack),
				      freed ? MP_ST_QUAR : MP_ST_LIVE, 0, 0, 0 };
		enum mp_err kind = freed ? MP_E_USE_AFTER_FREE
			: addr < r->user ? MP_E_UNDERFLOW : MP_E_OVERFLOW;
		*v = _mp_verdict(kind, addr, &b, (long)(addr - r->user), 0,
				 access_stack, "guard page");
		v->access = access;
		return 1;
	}
	return 0;
}
