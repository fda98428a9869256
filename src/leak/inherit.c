/* inherit.c - a forked child's inherited blocks, as roots of its exit
 * report's leak scan (leakscan.c): the parts of them the child wrote.
 *
 * A word the child never wrote cannot point to a block the child made
 * (the block did not exist when the word was written), so only the pages
 * of inherited blocks the child wrote since the fork are read.  A page the
 * child wrote is its own copy since (copy-on-write): /proc/self/pagemap
 * calls it exclusively mapped; one it never wrote is still shared with the
 * parent.  Read whole (every page counts as written) when pagemap cannot
 * tell: unreadable, a page in swap, or this process forked a child of its
 * own since (then pages it wrote are shared with that child too).  A page
 * the parent dropped meanwhile (it exited, or wrote its own copy) reads
 * as exclusive: read for nothing, never missed. */
#define _GNU_SOURCE
#include "inherit.h"
#include "block.h"
#include "large.h"
#include "slab.h"
#include "tcache.h"

#include <fcntl.h>
#include <unistd.h>

#define PM_BATCH 512
#define PM_PRESENT (1ull << 63)
#define PM_SWAP (1ull << 62)
#define PM_EXCLUSIVE (1ull << 56)
static int pm_fd = -1;
static uint64_t pm_buf[PM_BATCH];
static uintptr_t pm_lo, pm_hi; /* pages pm_buf holds */

static int page_written(uintptr_t page)
{
	if (pm_fd < 0)
		return 1;
	if (page < pm_lo || page >= pm_hi) {
		ssize_t n = pread(pm_fd, pm_buf, sizeof pm_buf,
				  (off_t)(page / 4096 * sizeof(uint64_t)));
		if (n < (ssize_t)sizeof(uint64_t))
			return 1;
		pm_lo = page;
		pm_hi = page + (uintptr_t)(n / (ssize_t)sizeof(uint64_t)) * 4096;
	}
	uint64_t e = pm_buf[(page - pm_lo) / 4096];
	if (e & PM_SWAP)
		return 1;
	return (e & PM_PRESENT) && (e & PM_EXCLUSIVE);
}

static size_t npages;

/* [lo, hi) of an inherited block, where the child wrote it. */
static void range(uintptr_t lo, uintptr_t hi, mp_part_fn fn, void *arg)
{
	while (lo < hi) {
		uintptr_t page = lo & ~(uintptr_t)4095, end = page + 4096;
		if (end > hi)
			end = hi;
		if (page_written(page)) {
			npages++;
			fn(lo, end, arg);
		}
		lo = end;
	}
}

size_t _mp_inherited_parts(mp_part_fn fn, void *arg)
{
	npages = 0;
	pm_fd = _mp_heap_forked_again ? -1
		: open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	pm_lo = pm_hi = 0;
	for (int k = 0; k < MP_ARENAS * MP_NUM_CLASSES; k++)
		for (struct mp_slab *s = _mp_class_at(k)->slabs; s; s = s->next) {
			uintptr_t end = s->base + (uintptr_t)s->bump * s->stride;
			for (uintptr_t page = s->base; page < end; page += 4096) {
				if (!page_written(page))
					continue;
				npages++;
				/* the live inherited slots on this page */
				long off;
				uint32_t i = page == s->base ? 0
					: _mp_slab_locate(s, page, &off);
				for (; i < s->bump; i++) {
					uintptr_t u = _mp_slot_user(s, i);
					struct mp_meta *m = &s->meta[i];
					if (u - MP_GUARD_SIZE >= page + 4096)
						break;
					if (_mp_meta_state(m) != MP_ST_LIVE ||
					    (m->flags & MP_F_INTERNAL) ||
					    _mp_slot_own(m))
						continue;
					uintptr_t lo = u > page ? u : page;
					uintptr_t hi = u + m->size;
					if (hi > page + 4096)
						hi = page + 4096;
					if (hi > lo)
						fn(lo, hi, arg);
				}
			}
		}
	size_t pos = 0;
	struct mp_large *e;
	while ((e = _mp_large_next_locked(&pos)))
		if (e->state == MP_ST_LIVE && !(e->flags & MP_F_INTERNAL) &&
		    !_mp_large_own(e))
			range(e->user, e->user + e->size, fn, arg);
	if (pm_fd >= 0)
		close(pm_fd);
	pm_fd = -1;
	return npages;
}
