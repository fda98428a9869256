/* procmaps.c - the process's mappings as /proc/self/maps tells them.
 *
 * The checks at exit and the leak scan read the program's memory directly
 * (guards, poison, roots, block contents).  A program may make parts of it
 * inaccessible; a read there would fault inside the checker, whose fault
 * handler would then wait on a lock the check holds.  So every such read is
 * first clipped to the readable ranges of a snapshot taken before the pool
 * locks.  No malloc: fixed buffers, the snapshot in our own bss.
 */
#define _GNU_SOURCE
#include "procmaps.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAPS_LINE_BUF 8192
#define MAX_READABLE 65536 /* ranges kept; more: the snapshot is dropped */

struct span {
	uintptr_t lo, hi;
};

static uintptr_t hexnum(const char **pp, char stop)
{
	uintptr_t v = 0;
	const char *p = *pp;
	for (; *p && *p != stop; p++)
		v = v * 16 + (uintptr_t)(*p <= '9' ? *p - '0' : *p - 'a' + 10);
	*pp = *p ? p + 1 : p;
	return v;
}

void _mp_maps_each(int (*fn)(uintptr_t, uintptr_t, const char *,
			     const char *, void *), void *arg)
{
	char buf[MAPS_LINE_BUF];
	size_t have = 0;
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	for (;;) {
		ssize_t r = read(fd, buf + have, sizeof buf - 1 - have);
		if (r <= 0)
			break;
		have += (size_t)r;
		buf[have] = '\0';
		char *line = buf, *nl;
		while ((nl = strchr(line, '\n'))) {
			*nl = '\0';
			const char *p = line;
			uintptr_t a = hexnum(&p, '-'), b = hexnum(&p, ' ');
			const char *perms = p;
			/* path: after offset, dev and inode */
			for (int field = 0; field < 4 && *p; field++) {
				while (*p && *p != ' ')
					p++;
				while (*p == ' ')
					p++;
			}
			if (fn(a, b, perms, p, arg))
				goto out;
			line = nl + 1;
		}
		have = (size_t)(buf + have - line);
		memmove(buf, line, have);
	}
out:
	close(fd);
}

static pthread_mutex_t snap_lock = PTHREAD_MUTEX_INITIALIZER;
static struct span spans[MAX_READABLE];
static size_t nspans;
static int snap_ok;       /* a complete snapshot is held */
static _Atomic pid_t holder; /* thread holding snap_lock: a report made
			      * while it is held (abort_on_error, a fatal
			      * signal) may come back here */
static int depth;
/* read-only data of loaded files (.rodata, .data.rel.ro once relocated):
 * where vtables live, for the multipleinheritance leak heuristic */
static struct span ro[MAX_READABLE / 4];
static size_t nro;

static int readable_cb(uintptr_t a, uintptr_t b, const char *perms,
		       const char *path, void *arg)
{
	(void)arg;
	if (perms[0] != 'r')
		return 0;
	if (perms[1] == '-' && perms[2] == '-' && path[0] == '/' &&
	    nro < sizeof ro / sizeof ro[0])
		ro[nro++] = (struct span){ a, b };
	if (nspans && spans[nspans - 1].hi == a) { /* adjacent: merge */
		spans[nspans - 1].hi = b;
		return 0;
	}
	if (nspans == MAX_READABLE) {
		snap_ok = 0;
		return 1;
	}
	spans[nspans++] = (struct span){ a, b };
	return 0;
}

void _mp_readable_begin(void)
{
	pid_t me = (pid_t)syscall(SYS_gettid);
	if (atomic_load(&holder) == me) {
		depth++;
		return;
	}
	pthread_mutex_lock(&snap_lock);
	atomic_store(&holder, me);
	depth = 1;
	_mp_readable_refresh();
}

void _mp_readable_refresh(void)
{
	nspans = nro = 0;
	snap_ok = 1;
	_mp_maps_each(readable_cb, NULL);
	if (!nspans) /* /proc not mounted: nothing known, nothing clipped */
		snap_ok = 0;
}

void _mp_readable_end(void)
{
	if (--depth)
		return;
	snap_ok = 0;
	atomic_store(&holder, 0);
	pthread_mutex_unlock(&snap_lock);
}

/* index of the span of a[0..n) (sorted) holding p, or of the first span
 * above it */
static size_t span_in(const struct span *a, size_t n, uintptr_t p)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (a[mid].hi <= p)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static size_t span_at(uintptr_t p)
{
	return span_in(spans, nspans, p);
}

int _mp_readable(uintptr_t lo, uintptr_t hi)
{
	if (!snap_ok)
		return 1;
	size_t i = span_at(lo);
	return i < nspans && spans[i].lo <= lo && hi <= spans[i].hi;
}

void _mp_readable_parts(uintptr_t lo, uintptr_t hi,
			void (*fn)(uintptr_t, uintptr_t, void *), void *arg)
{
	if (!snap_ok) {
		if (lo < hi)
			fn(lo, hi, arg);
		return;
	}
	for (size_t i = span_at(lo); i < nspans && spans[i].lo < hi; i++) {
		uintptr_t a = spans[i].lo > lo ? spans[i].lo : lo;
		uintptr_t b = spans[i].hi < hi ? spans[i].hi : hi;
		if (a < b)
			fn(a, b, arg);
	}
}

int _mp_readable_rodata(uintptr_t p)
{
	size_t i = span_in(ro, nro, p);
	return snap_ok && i < nro && ro[i].lo <= p;
}
