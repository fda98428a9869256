/* vm.c - every anonymous mapping the pool makes goes through here.
 *
 * The leak scan treats the program's anonymous memory (custom allocators'
 * pools, mmap'd tables) as roots, as memcheck does; it must not treat our
 * slabs and metadata as roots, or every block would look reachable.  The
 * registry is a sorted array of ranges under its own lock (taken after any
 * pool lock), with no malloc anywhere.
 */
#define _GNU_SOURCE
#include "vm.h"

#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

#define MAX_RANGES 65536

struct range {
	uintptr_t lo, hi;
};

static pthread_mutex_t vm_lock = PTHREAD_MUTEX_INITIALIZER;
static struct range ranges[MAX_RANGES];
static size_t nranges;
static int overflowed;

void _mp_vm_lock(void) { pthread_mutex_lock(&vm_lock); }
void _mp_vm_unlock(void) { pthread_mutex_unlock(&vm_lock); }

/* index of the first range with lo >= p; vm_lock held */
static size_t lower_bound(uintptr_t p)
{
	size_t lo = 0, hi = nranges;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (ranges[mid].lo < p)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void reg(uintptr_t lo, uintptr_t hi)
{
	pthread_mutex_lock(&vm_lock);
	if (nranges == MAX_RANGES) {
		overflowed = 1;
	} else {
		size_t i = lower_bound(lo);
		memmove(&ranges[i + 1], &ranges[i], (nranges - i) * sizeof *ranges);
		ranges[i] = (struct range){ lo, hi };
		nranges++;
	}
	pthread_mutex_unlock(&vm_lock);
}

/* Forget [lo, hi) (a whole registered range, or part of one). */
static void unreg(uintptr_t lo, uintptr_t hi)
{
	pthread_mutex_lock(&vm_lock);
	size_t i = lower_bound(lo);
	if (i > 0 && ranges[i - 1].hi > lo)
		i--;
	if (i < nranges && ranges[i].lo <= lo && ranges[i].hi >= hi) {
		struct range r = ranges[i];
		if (r.lo == lo && r.hi == hi) {
			memmove(&ranges[i], &ranges[i + 1],
				(nranges - i - 1) * sizeof *ranges);
			nranges--;
		} else if (r.lo == lo) {
			ranges[i].lo = hi;
		} else if (r.hi == hi) {
			ranges[i].hi = lo;
		} else if (nranges < MAX_RANGES) { /* a hole in the middle */
			ranges[i].hi = lo;
			memmove(&ranges[i + 2], &ranges[i + 1],
				(nranges - i - 1) * sizeof *ranges);
			ranges[i + 1] = (struct range){ hi, r.hi };
			nranges++;
		} else {
			overflowed = 1;
		}
	}
	pthread_mutex_unlock(&vm_lock);
}

void *_mp_map(size_t len, int noreserve)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | (noreserve ? MAP_NORESERVE : 0),
		       -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	reg((uintptr_t)p, (uintptr_t)p + len);
	return p;
}

void *_mp_map_aligned(size_t len, size_t align)
{
	size_t map = len + align;
	char *raw = mmap(NULL, map, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (raw == MAP_FAILED)
		return NULL;
	uintptr_t base = ((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1);
	size_t head = base - (uintptr_t)raw;
	if (head)
		munmap(raw, head);
	munmap((char *)base + len, map - head - len);
	reg(base, base + len);
	return (void *)base;
}

void _mp_unmap(void *p, size_t len)
{
	unreg((uintptr_t)p, (uintptr_t)p + len);
	munmap(p, len);
}

int _mp_vm_foreign_parts(uintptr_t lo, uintptr_t hi,
			 void (*fn)(uintptr_t, uintptr_t, void *), void *arg)
{
	pthread_mutex_lock(&vm_lock);
	int rc = _mp_vm_foreign_parts_locked(lo, hi, fn, arg);
	pthread_mutex_unlock(&vm_lock);
	return rc;
}

int _mp_vm_foreign_parts_locked(uintptr_t lo, uintptr_t hi,
				void (*fn)(uintptr_t, uintptr_t, void *),
				void *arg)
{
	if (overflowed)
		return -1;
	size_t i = lower_bound(lo);
	if (i > 0 && ranges[i - 1].hi > lo)
		i--;
	uintptr_t cur = lo;
	for (; i < nranges && ranges[i].lo < hi; i++) {
		if (ranges[i].lo > cur)
			fn(cur, ranges[i].lo, arg);
		if (ranges[i].hi > cur)
			cur = ranges[i].hi;
	}
	if (cur < hi)
		fn(cur, hi, arg);
	return 0;
}
