/* roots.c - the root set of the leak scan.
 *
 * Writable segments of every module but ours (dl_iterate_phdr), the
 * exiting thread's stack from where the program handed control to us
 * (handoff.c) up, this thread's static TLS and descriptor, and the anonymous
 * read-write mappings of the process (custom allocators keep their pools
 * there: Python's obmalloc arenas, for one).  Anonymous memory is read
 * through process_vm_readv, page runs found resident by mincore, so a
 * mapping that disappears or a huge untouched reservation costs nothing.
 */
#define _GNU_SOURCE
#include "roots.h"
#include "leaks.h"
#include "procmaps.h"

#include <pthread.h>
#include <dlfcn.h>
#include <search.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

extern void *__libc_stack_end;

static void add(struct mp_range *arr, size_t *n, size_t cap, uintptr_t lo,
		uintptr_t hi)
{
	lo = (lo + 7) & ~(uintptr_t)7;
	if (hi > lo && *n < cap)
		arr[(*n)++] = (struct mp_range){ lo, hi };
}

struct find {
	uintptr_t addr, lo, hi;
	int found;
};

static int find_cb(uintptr_t a, uintptr_t b, const char *perms,
		   const char *path, void *arg)
{
	(void)perms;
	(void)path;
	struct find *f = arg;
	if (f->addr >= a && f->addr < b) {
		f->lo = a;
		f->hi = b;
		f->found = 1;
		return 1;
	}
	return 0;
}

static int maps_range(uintptr_t addr, uintptr_t *lo, uintptr_t *hi)
{
	struct find f = { addr, 0, 0, 0 };
	_mp_maps_each(find_cb, &f);
	*lo = f.lo;
	*hi = f.hi;
	return f.found;
}

/* The program's own writable memory that is no module's: anonymous
 * mappings, private or shared (MAP_SHARED|MAP_ANONYMOUS shows as
 * "/dev/zero (deleted)"), memfd and System V shared memory, and private
 * writable mappings of ordinary files (emacs maps its dump so).  Not
 * [heap] (the real allocator's, holding only large blocks' chunks: graph
 * nodes, not roots), [stack] (read from the stack pointer), [vvar] or
 * [vdso], devices, nor files mapped shared (their contents are the file's,
 * no pointer into this process means anything there). */
static int program_memory(const char *perms, const char *path)
{
	if (perms[0] != 'r' || perms[1] != 'w')
		return 0;
	if (!path[0] || strncmp(path, "[anon", 5) == 0)
		return 1;
	if (path[0] == '[')
		return 0;
	if (strncmp(path, "/dev/zero", 9) == 0 || strncmp(path, "/memfd:", 7) == 0 ||
	    strncmp(path, "/SYSV", 5) == 0)
		return 1;
	if (strncmp(path, "/dev/", 5) == 0)
		return 0;
	return perms[3] == 'p';
}

static int anon_cb(uintptr_t a, uintptr_t b, const char *perms,
		   const char *path, void *arg)
{
	struct mp_roots *rt = arg;
	if (!program_memory(perms, path))
		return 0;
	/* minus the modules' segments: a .bss tail is an anonymous mapping,
	 * and ours holds the scanner's own state */
	uintptr_t cur = a;
	for (size_t i = 0; i < rt->nmods && cur < b; i++) {
		const struct mp_range *m = &rt->mods[i];
		if (m->hi <= cur || m->lo >= b)
			continue;
		if (m->lo > cur)
			add(rt->anon, &rt->nanon, MP_MAX_ANON, cur, m->lo);
		cur = m->hi;
	}
	if (cur < b)
		add(rt->anon, &rt->nanon, MP_MAX_ANON, cur, b);
	return 0;
}

static void add_root(struct mp_roots *rt, uintptr_t lo, uintptr_t hi, int kind)
{
	size_t n = rt->nroot;
	add(rt->root, &rt->nroot, MP_MAX_ROOTS, lo, hi);
	if (rt->nroot > n)
		rt->root_kind[n] = (uint8_t)kind;
}

/* keep mods sorted by address (insertion; modules are few) */
static void add_mod(struct mp_roots *rt, uintptr_t lo, uintptr_t hi)
{
	const uintptr_t page = 4096;
	lo &= ~(page - 1);
	hi = (hi + page - 1) & ~(page - 1);
	if (rt->nmods == MP_MAX_ROOTS)
		return;
	size_t i = rt->nmods;
	while (i > 0 && rt->mods[i - 1].lo > lo) {
		rt->mods[i] = rt->mods[i - 1];
		i--;
	}
	rt->mods[i] = (struct mp_range){ lo, hi };
	rt->nmods++;
}

struct phdr_arg {
	struct mp_roots *rt;
	uintptr_t self, ldso;
};

static int phdr_cb(struct dl_phdr_info *info, size_t size, void *argp)
{
	(void)size;
	struct phdr_arg *arg = argp;
	struct mp_roots *rt = arg->rt;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W))
			add_mod(rt, start, start + ph->p_memsz);
		if (info->dlpi_addr == arg->self)
			continue; /* our own globals are bookkeeping, not roots */
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W))
			add_root(rt, start, start + ph->p_memsz, MP_ROOT_GLOBAL);
		else if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) &&
			 info->dlpi_addr == arg->ldso)
			rt->ldso_text = (struct mp_range){ start, start + ph->p_memsz };
		else if (ph->p_type == PT_TLS && info->dlpi_tls_data)
			add_root(rt, (uintptr_t)info->dlpi_tls_data,
				 (uintptr_t)info->dlpi_tls_data + ph->p_memsz,
				 MP_ROOT_TLS);
	}
	return 0;
}

void _mp_roots_collect(struct mp_roots *rt, uintptr_t sp)
{
	Dl_info di;
	struct phdr_arg arg = { rt, 0, 0 };
	if (dladdr((void *)&_mp_roots_collect, &di))
		arg.self = (uintptr_t)di.dli_fbase;
	if (dladdr((void *)&__libc_stack_end, &di)) /* lives in ld.so */
		arg.ldso = (uintptr_t)di.dli_fbase;
	rt->nroot = rt->nanon = rt->nmods = 0;
	rt->ldso_text = (struct mp_range){ 0, 0 };
	dl_iterate_phdr(phdr_cb, &arg);
	/* glibc's tsearch keeps a node's colour in the low bit of the
	 * pointer to it (setenv's tree of names, the program's own trees):
	 * memcheck reports nothing of setenv's (its __libc_freeres frees
	 * them), LSan counts interior pointers */
	const ElfW(Sym) *sym = NULL;
	rt->tsearch_text = (struct mp_range){ 0, 0 };
	if (dladdr1((void *)&tsearch, &di, (void **)&sym, RTLD_DL_SYMENT) &&
	    sym && sym->st_size)
		rt->tsearch_text = (struct mp_range){
			(uintptr_t)di.dli_fbase + sym->st_value,
			(uintptr_t)di.dli_fbase + sym->st_value + sym->st_size };

	/* the exiting thread's stack, from where the program left it; the
	 * other threads' (the main thread's among them) are read while they
	 * are stopped (threads.c) */
	uintptr_t lo, hi;
	if (sp && maps_range(sp, &lo, &hi))
		add_root(rt, sp, hi, MP_ROOT_STACK);
	/* this thread's descriptor: pthread_setspecific values live there
	 * (none when sp is 0: the checker thread is no program thread) */
	uintptr_t tp = (uintptr_t)__builtin_thread_pointer();
	if (sp && maps_range(tp, &lo, &hi))
		add_root(rt, tp, tp + 4096 < hi ? tp + 4096 : hi, MP_ROOT_TLS);
	_mp_maps_each(anon_cb, rt);
}

#define CHUNK ((size_t)64 << 10)

void _mp_roots_read(uintptr_t lo, uintptr_t hi,
		    void (*fn)(const uintptr_t *w, size_t n, uintptr_t from,
			       void *arg),
		    void *arg)
{
	static uintptr_t buf[CHUNK / sizeof(uintptr_t)];
	static int no_vm_readv;
	const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	unsigned char vec[CHUNK / 4096 + 1];
	lo &= ~(uintptr_t)7;
	for (uintptr_t a = lo; a < hi;) {
		uintptr_t pa = a & ~(page - 1);
		uintptr_t end = pa + CHUNK < hi ? pa + CHUNK : hi;
		size_t npages = (end - pa + page - 1) / page;
		if (mincore((void *)pa, end - pa, vec) != 0) {
			a = end; /* gone, or not a mapping any more */
			continue;
		}
		for (size_t i = 0; i < npages;) {
			size_t j = i;
			while (j < npages && (vec[j] & 1))
				j++;
			if (j > i) { /* resident run [i, j) */
				uintptr_t s = pa + i * page, e = pa + j * page;
				if (s < a)
					s = a;
				if (e > end)
					e = end;
				struct iovec local = { buf, e - s };
				struct iovec remote = { (void *)s, e - s };
				ssize_t got = no_vm_readv ? -1
					: process_vm_readv(getpid(), &local, 1,
							   &remote, 1, 0);
				if (got < 0 && (errno == EPERM || errno == ENOSYS))
					no_vm_readv = 1; /* not allowed here */
				if (got > 0)
					fn(buf, (size_t)got / sizeof(uintptr_t), s,
					   arg);
			}
			i = j + 1;
		}
		a = end;
	}
}

/* ---- root regions (LeakSanitizer's __lsan_register_root_region) ------- */

#define MAX_REGIONS 256
static pthread_mutex_t region_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mp_range regions[MAX_REGIONS];
static size_t nregions;
/* regions unregistered since: the program said they hold no roots, so the
 * scan of anonymous memory leaves them out too (LSan reads no anonymous
 * memory at all; without this, unregistering a region in an mmap'd area
 * would change nothing) */
static struct mp_range retired[MAX_REGIONS];
static size_t nretired;

int _mp_roots_region_add(uintptr_t lo, uintptr_t hi)
{
	pthread_mutex_lock(&region_lock);
	int full = nregions == MAX_REGIONS;
	if (!full)
		regions[nregions++] = (struct mp_range){ lo, hi };
	pthread_mutex_unlock(&region_lock);
	return full ? -1 : 0;
}

/* As in LSan: only a region registered with the same start and size. */
int _mp_roots_region_remove(uintptr_t lo, uintptr_t hi)
{
	int found = 0;
	pthread_mutex_lock(&region_lock);
	for (size_t i = nregions; i-- > 0 && !found;)
		if (regions[i].lo == lo && regions[i].hi == hi) {
			regions[i] = regions[--nregions];
			found = 1;
			if (nretired < MAX_REGIONS)
				retired[nretired++] = (struct mp_range){ lo, hi };
		}
	pthread_mutex_unlock(&region_lock);
	return found ? 0 : -1;
}

size_t _mp_roots_regions(struct mp_range *out, size_t max)
{
	pthread_mutex_lock(&region_lock);
	size_t n = nregions < max ? nregions : max;
	memcpy(out, regions, n * sizeof *out);
	pthread_mutex_unlock(&region_lock);
	return n;
}

size_t _mp_roots_regions_known(struct mp_range *out, size_t max)
{
	pthread_mutex_lock(&region_lock);
	size_t n = nregions < max ? nregions : max;
	memcpy(out, regions, n * sizeof *out);
	size_t m = nretired < max - n ? nretired : max - n;
	memcpy(out + n, retired, m * sizeof *out);
	pthread_mutex_unlock(&region_lock);
	return n + m;
}
