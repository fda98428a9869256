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
 */
#define _GNU_SOURCE
#include "leakscan.h"
#include "block.h"
#include "large.h"
#include "leaks.h"
#include "slab.h"
#include "threads.h"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <setjmp.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAX_ROOTS 4096
#define WORK_CAP ((size_t)1 << 20)
#define F_PENDING 8
#define F_WEAK 64
#define F_SCAN (MP_F_MARK | F_PENDING | F_WEAK | MP_F_KIND_MASK)

extern void *__libc_stack_end;

enum mode { M_REACH, M_POSS, M_LEAK };

struct bref {
	uintptr_t user;
	size_t size;
	uint8_t *flags;
};

struct lrange {
	uintptr_t user;
	size_t size;
	uint8_t *flags;
};

static struct mp_range roots[MAX_ROOTS];
static size_t nroots;
static uintptr_t *work;
static size_t nwork;
static struct lrange *larges; /* live large blocks sorted by address */
static size_t nlarges, larges_bytes;
static uintptr_t heap_lo, heap_hi, leader;

static void add_root(uintptr_t lo, uintptr_t hi)
{
	lo = (lo + 7) & ~(uintptr_t)7;
	if (hi > lo && nroots < MAX_ROOTS)
		roots[nroots++] = (struct mp_range){ lo, hi };
}

/* The mapping of /proc/self/maps holding addr; 0 if none.  No malloc. */
static int maps_range(uintptr_t addr, uintptr_t *lo, uintptr_t *hi)
{
	char buf[4096];
	size_t have = 0;
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC), found = 0;
	if (fd < 0)
		return 0;
	for (;;) {
		ssize_t r = read(fd, buf + have, sizeof buf - 1 - have);
		if (r <= 0)
			break;
		have += (size_t)r;
		buf[have] = '\0';
		char *line = buf, *nl;
		while ((nl = strchr(line, '\n'))) {
			uintptr_t a = 0, b = 0;
			char *p = line;
			for (; *p != '-'; p++)
				a = a * 16 + (uintptr_t)(*p <= '9' ? *p - '0' : *p - 'a' + 10);
			for (p++; *p != ' '; p++)
				b = b * 16 + (uintptr_t)(*p <= '9' ? *p - '0' : *p - 'a' + 10);
			if (addr >= a && addr < b) {
				*lo = a;
				*hi = b;
				found = 1;
				goto out;
			}
			line = nl + 1;
		}
		have = (size_t)(buf + have - line);
		memmove(buf, line, have);
	}
out:
	close(fd);
	return found;
}

static int phdr_cb(struct dl_phdr_info *info, size_t size, void *self_base)
{
	(void)size;
	if (info->dlpi_addr == (ElfW(Addr))self_base)
		return 0; /* our own globals are bookkeeping, not roots */
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W))
			add_root(start, start + ph->p_memsz);
		else if (ph->p_type == PT_TLS && info->dlpi_tls_data)
			add_root((uintptr_t)info->dlpi_tls_data,
				 (uintptr_t)info->dlpi_tls_data + ph->p_memsz);
	}
	return 0;
}

/* Roots that need no pool lock (dl_iterate_phdr may race with dlopen,
 * which allocates: collect these before locking the pool). */
static void collect_roots(uintptr_t sp)
{
	Dl_info di;
	void *self = NULL;
	if (dladdr((void *)&_mp_leakscan_classify, &di))
		self = di.dli_fbase;
	nroots = 0;
	dl_iterate_phdr(phdr_cb, self);
	uintptr_t lo, hi;
	if (maps_range(sp, &lo, &hi))
		add_root(sp, hi);
	/* main thread's stack, when another thread is exiting */
	uintptr_t mainsp = (uintptr_t)__libc_stack_end;
	if (!(sp >= lo && sp < hi) || !(mainsp >= lo && mainsp < hi))
		if (maps_range(mainsp, &lo, &hi))
			add_root(lo, hi);
	/* thread descriptor (pthread_setspecific values) of this thread */
	uintptr_t tp = (uintptr_t)__builtin_thread_pointer();
	if (maps_range(tp, &lo, &hi))
		add_root(tp, tp + 4096 < hi ? tp + 4096 : hi);
}

static int find_block(uintptr_t w, struct bref *b)
{
	if (w < heap_lo || w >= heap_hi)
		return 0;
	struct mp_slab *s = _mp_slab_of(w);
	if (s) {
		long off;
		uint32_t i = _mp_slab_locate(s, w, &off);
		if (i >= s->bump)
			return 0;
		struct mp_meta *m = &s->meta[i];
		if (m->state != MP_ST_LIVE || (m->flags & MP_F_INTERNAL) ||
		    off < 0 || (off > 0 && (size_t)off >= m->size))
			return 0;
		*b = (struct bref){ w - (uintptr_t)off, m->size, &m->flags };
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
	*b = (struct bref){ l->user, l->size, l->flags };
	return w == l->user ? 1 : 2;
}

static void set_kind(uint8_t *f, int kind)
{
	*f = (uint8_t)((*f & ~MP_F_KIND_MASK) | (kind << MP_F_KIND_SHIFT));
}

static void push(struct bref *b)
{
	if (nwork < WORK_CAP)
		work[nwork++] = b->user;
	else
		*b->flags |= F_PENDING;
}

static void scan_range(uintptr_t lo, uintptr_t hi, enum mode m)
{
	struct bref b;
	for (uintptr_t a = lo; a + sizeof(uintptr_t) <= hi; a += sizeof(uintptr_t)) {
		int hit = find_block(*(const uintptr_t *)a, &b);
		if (!hit)
			continue;
		uint8_t f = *b.flags;
		if (m == M_REACH) {
			if (f & MP_F_MARK)
				continue;
			if (hit == 1) {
				*b.flags |= MP_F_MARK;
				set_kind(b.flags, MP_K_REACHABLE);
				push(&b);
			} else {
				*b.flags |= F_WEAK;
			}
		} else if (m == M_POSS) {
			if (f & MP_F_MARK)
				continue;
			*b.flags |= MP_F_MARK;
			set_kind(b.flags, MP_K_POSSIBLE);
			push(&b);
		} else if (!(f & MP_F_MARK) && b.user != leader &&
			   ((f & MP_F_KIND_MASK) >> MP_F_KIND_SHIFT) != MP_K_INDIRECT) {
			set_kind(b.flags, MP_K_INDIRECT);
			push(&b);
		}
	}
}

/* Visit every live user block: fn(block, arg). Locks are held. */
static void each_block(void (*fn)(struct bref *, void *), void *arg)
{
	for (int c = 0; c < MP_NUM_CLASSES; c++)
		for (struct mp_slab *s = _mp_classes[c].slabs; s; s = s->next)
			for (uint32_t i = 0; i < s->bump; i++) {
				struct mp_meta *m = &s->meta[i];
				if (m->state != MP_ST_LIVE || (m->flags & MP_F_INTERNAL))
					continue;
				struct bref b = { _mp_slot_user(s, i), m->size, &m->flags };
				fn(&b, arg);
			}
	for (size_t i = 0; i < nlarges; i++) {
		struct bref b = { larges[i].user, larges[i].size, larges[i].flags };
		fn(&b, arg);
	}
}

static void drain(enum mode m);

static void pending_cb(struct bref *b, void *arg)
{
	if (*b->flags & F_PENDING) {
		*b->flags &= (uint8_t)~F_PENDING;
		*(int *)arg = 1;
		if (nwork < WORK_CAP)
			work[nwork++] = b->user;
		else
			*b->flags |= F_PENDING;
	}
}

static void drain(enum mode m)
{
	int again;
	do {
		while (nwork) {
			struct bref b;
			if (find_block(work[--nwork], &b))
				scan_range(b.user, b.user + b.size, m);
		}
		again = 0;
		each_block(pending_cb, &again);
	} while (again);
}

static void reset_cb(struct bref *b, void *arg)
{
	(void)arg;
	*b->flags &= (uint8_t)~F_SCAN; /* kind 0 = definite */
	uintptr_t end = b->user + b->size + 1;
	if (b->user < heap_lo)
		heap_lo = b->user;
	if (end > heap_hi)
		heap_hi = end;
}

static void weak_cb(struct bref *b, void *arg)
{
	(void)arg;
	if ((*b->flags & F_WEAK) && !(*b->flags & MP_F_MARK)) {
		*b->flags |= MP_F_MARK;
		set_kind(b->flags, MP_K_POSSIBLE);
		push(b);
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

/* Sorted array of live large blocks, for interior-pointer lookups. */
static int build_larges(void)
{
	size_t n = _mp_large_count_locked(), pos = 0;
	larges_bytes = (n ? n : 1) * sizeof *larges;
	larges = mmap(NULL, larges_bytes, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (larges == MAP_FAILED)
		return -1;
	nlarges = 0;
	struct mp_large *e;
	while ((e = _mp_large_next_locked(&pos))) {
		if (e->state != MP_ST_LIVE || (e->flags & MP_F_INTERNAL))
			continue;
		/* insertion into place: large blocks are few; keep it simple
		 * but bounded by a binary search for the slot */
		size_t lo = 0, hi = nlarges;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (larges[mid].user < e->user)
				lo = mid + 1;
			else
				hi = mid;
		}
		memmove(&larges[lo + 1], &larges[lo], (nlarges - lo) * sizeof *larges);
		larges[lo] = (struct lrange){ e->user, e->size, &e->flags };
		nlarges++;
	}
	return 0;
}

__attribute__((noinline)) int _mp_leakscan_classify(void)
{
	jmp_buf regs; /* callee-saved registers spilled onto the scanned stack */
	setjmp(regs);
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	collect_roots(sp);
	work = mmap(NULL, WORK_CAP * sizeof *work, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (work == MAP_FAILED)
		return -1;
	_mp_slab_lock_all();
	_mp_large_lock();
	int rc = build_larges();
	if (rc == 0) {
		struct mp_range thr[256];
		size_t nthr = _mp_threads_lock_snapshot(thr, 256);
		heap_lo = UINTPTR_MAX;
		heap_hi = 0;
		nwork = 0;
		each_block(reset_cb, NULL);
		for (size_t i = 0; i < nroots; i++)
			scan_range(roots[i].lo, roots[i].hi, M_REACH);
		scan_range((uintptr_t)&regs, (uintptr_t)(&regs + 1), M_REACH);
		for (size_t i = 0; i < nthr; i++)
			scan_range(thr[i].lo, thr[i].hi, M_REACH);
		_mp_threads_unlock();
		drain(M_REACH);
		each_block(weak_cb, NULL);
		each_block(leader_cb, NULL);
		munmap(larges, larges_bytes);
	}
	_mp_large_unlock();
	_mp_slab_unlock_all();
	munmap(work, WORK_CAP * sizeof *work);
	return rc;
}
