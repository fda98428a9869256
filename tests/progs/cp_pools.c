/* cp_pools.c - a program with its own allocators, annotated for Valgrind
 * with memcheck's client requests (written from memcheck's manual, "Memory
 * Pools: describing and working with custom allocators").  Built twice by
 * tests/t_pools.sh: against Debian's <valgrind/memcheck.h> for the memcheck
 * run, and with -Iinclude/mpwrap/valgrind-compat for the mpwrap run; the
 * suite compares both verdicts.  argv[1] names the case.
 *
 * The arena: one malloc'd chunk, a 16-byte header, then objects bumped one
 * after another, RZ bytes of redzone before each (rzB of the pool). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <valgrind/memcheck.h>

#define RZ 16

struct arena {
	char *chunk;
	size_t used, cap;
};

static struct arena *volatile kept_arena; /* a root: the arena's header */
static void *volatile kept;               /* a root: one object */

static __attribute__((noinline)) struct arena *arena_new(size_t cap, int flags)
{
	struct arena *a = malloc(sizeof *a);
	a->chunk = malloc(cap);
	a->used = 16;
	a->cap = cap;
	if (flags)
		VALGRIND_CREATE_MEMPOOL_EXT(a, RZ, 0, flags);
	else
		VALGRIND_CREATE_MEMPOOL(a, RZ, 0);
	return a;
}

static __attribute__((noinline)) void *arena_alloc(struct arena *a, size_t n)
{
	char *p = a->chunk + a->used + RZ;
	a->used += RZ + ((n + 15) & ~(size_t)15);
	VALGRIND_MEMPOOL_ALLOC(a, p, n);
	return p;
}

static __attribute__((noinline)) void arena_free(struct arena *a, void *p)
{
	VALGRIND_MEMPOOL_FREE(a, p);
}

struct node {
	struct node *next;
	char pad[40];
};

static __attribute__((noinline)) struct node *make_node(struct arena *a,
							 struct node *next)
{
	struct node *n = arena_alloc(a, sizeof *n);
	n->next = next;
	return n;
}

static __attribute__((noinline)) void *make_big(struct arena *a)
{
	return arena_alloc(a, 100);
}

/* leak: a lost list of 2 nodes (definite + indirect), a lost 100-byte
 * object, a kept object; the arena's header stays reachable. */
static void case_leak(void)
{
	struct arena *a = arena_new(4096, 0);
	kept_arena = a;
	struct node *n = make_node(a, NULL);
	n = make_node(a, n);
	n = NULL;
	void *b = make_big(a);
	b = NULL;
	kept = make_node(a, NULL);
	(void)n;
	(void)b;
}

/* freed: objects freed to the pool are no leak; one lost. */
static void case_freed(void)
{
	struct arena *a = arena_new(4096, 0);
	kept_arena = a;
	for (int i = 0; i < 3; i++)
		arena_free(a, make_node(a, NULL));
	make_big(a);
}

/* destroy: the pool destroyed with objects live: they go with it; the
 * chunk, never freed, is a plain malloc block again (lost with the header). */
static void case_destroy(void)
{
	struct arena *a = arena_new(4096, 0);
	make_node(a, NULL);
	make_big(a);
	VALGRIND_DESTROY_MEMPOOL(a);
	free(a);
}

/* trim: 4 lost objects; the trim keeps the second and third only. */
static void case_trim(void)
{
	struct arena *a = arena_new(4096, 0);
	kept_arena = a;
	char *o[4];
	for (int i = 0; i < 4; i++)
		o[i] = make_big(a);
	VALGRIND_MEMPOOL_TRIM(a, o[1], (size_t)(o[3] - o[1]));
	memset(o, 0, sizeof o);
}

/* move: the anchor moves (the header copied elsewhere); objects follow. */
static void case_move(void)
{
	struct arena *a = arena_new(4096, 0);
	make_node(a, NULL);
	struct arena *b = malloc(sizeof *b);
	*b = *a;
	VALGRIND_MOVE_MEMPOOL(a, b);
	free(a);
	kept_arena = b;
	arena_free(b, make_node(b, NULL));
}

/* metapool with auto-free: superblocks are pool pieces, objects inside
 * them MALLOCLIKE blocks; freeing a superblock frees its objects. */
static __attribute__((noinline)) void *meta_object(char *sb, size_t off)
{
	VALGRIND_MALLOCLIKE_BLOCK(sb + off, 48, 0, 0);
	return sb + off;
}

static void case_autofree(void)
{
	struct arena *a = arena_new(8192, VALGRIND_MEMPOOL_METAPOOL |
					      VALGRIND_MEMPOOL_AUTO_FREE);
	kept_arena = a;
	char *sb1 = arena_alloc(a, 1024), *sb2 = arena_alloc(a, 1024);
	kept = sb2;
	meta_object(sb1, 64);
	meta_object(sb1, 128);
	arena_free(a, sb1); /* both objects freed with it */
	meta_object(sb2, 64); /* lost */
	meta_object(sb2, 256); /* lost */
}

/* malloclike: objects carved from a static buffer and from a malloc'd
 * chunk; one freed, two lost. */
static char store[4096];

static __attribute__((noinline)) void *carve(char *base, size_t off, size_t n)
{
	VALGRIND_MALLOCLIKE_BLOCK(base + off, n, 0, 0);
	return base + off;
}

static void case_malloclike(void)
{
	char *c = malloc(2048);
	kept = c;
	carve(store, 256, 80);
	void *f = carve(store, 512, 32);
	VALGRIND_FREELIKE_BLOCK(f, 0);
	carve(c, 64, 200);
}

/* badfree: a pool object freed twice, an interior address freed. */
static void case_badfree(void)
{
	struct arena *a = arena_new(4096, 0);
	kept_arena = a;
	struct node *n = make_node(a, NULL);
	arena_free(a, n);
	arena_free(a, n);
	struct node *m = make_node(a, NULL);
	kept = m;
	arena_free(a, (char *)m + 8);
}

/* resize: a MALLOCLIKE block grown in place, then lost: its new size. */
static void case_resize(void)
{
	void *p = carve(store, 1024, 40);
	VALGRIND_RESIZEINPLACE_BLOCK(p, 40, 72, 0);
	p = NULL;
	(void)p;
}

/* A stray write, one byte at p + off (noinline: memcheck names it). */
static __attribute__((noinline)) void scribble(char *p, long off)
{
	p[off] = 'x';
}

/* The pool's allocator hands the block at p out again (a free list). */
static __attribute__((noinline)) void *arena_reuse(struct arena *a, void *p,
						    size_t n)
{
	VALGRIND_MEMPOOL_ALLOC(a, p, n);
	return p;
}

/* overflow: a byte written just past a 40-byte pool object, into the
 * pool's redzone; memcheck catches the write, mpwrap the object's free. */
static void case_overflow(void)
{
	struct arena *a = arena_new(4096, 0);
	kept_arena = a;
	char *p = arena_alloc(a, 40);
	kept = make_node(a, NULL);
	scribble(p, 40);
	arena_free(a, p);
}

/* underflow: a byte written 3 before a live object: mpwrap at exit. */
static void case_underflow(void)
{
	struct arena *a = arena_new(4096, 0);
	kept_arena = a;
	char *p = (char *)make_node(a, NULL);
	kept = p;
	scribble(p, -3);
}

/* uaf: a write into a freed object, whose memory the pool hands out
 * again: mpwrap at that MEMPOOL_ALLOC. */
static void case_uaf(void)
{
	struct arena *a = arena_new(4096, 0);
	kept_arena = a;
	char *p = (char *)make_node(a, NULL);
	arena_free(a, p);
	scribble(p, 8);
	kept = arena_reuse(a, p, 48);
}

/* uafexit: the same write, the memory never reused: mpwrap at exit. */
static void case_uafexit(void)
{
	struct arena *a = arena_new(4096, 0);
	kept_arena = a;
	kept = make_node(a, NULL);
	char *p = (char *)make_node(a, NULL);
	arena_free(a, p);
	scribble(p, 20);
}

/* leakreq: the leak-check requests mid-run, after the last pointer to a
 * malloc'd block and to a pool object is dropped. */
static __attribute__((noinline)) void drop_two(struct arena *a)
{
	void *volatile m = malloc(100);
	void *volatile o = arena_alloc(a, 40);
	m = o = NULL;
	(void)m;
	(void)o;
}

static void case_leakreq(void)
{
	struct arena *a = arena_new(4096, 0);
	kept_arena = a;
	unsigned long leaked, dubious, reachable, suppressed;
	drop_two(a);
	VALGRIND_DO_LEAK_CHECK;
	VALGRIND_COUNT_LEAKS(leaked, dubious, reachable, suppressed);
	printf("leaked %lu dubious %lu\n", leaked, dubious);
	VALGRIND_COUNT_LEAK_BLOCKS(leaked, dubious, reachable, suppressed);
	printf("leaked blocks %lu dubious blocks %lu\n", leaked, dubious);
	(void)reachable;
	(void)suppressed;
}

/* mapped: the pool's chunk is an anonymous mapping; a lost object holds
 * the only pointer to another: definite and indirect, as for a heap chunk
 * (the mapping is scanned as a root only outside the pool's objects). */

static void case_mapped(void)
{
	struct arena *a = malloc(sizeof *a); /* memcheck checks for leaks
					      * only with a malloc'd block */
	kept_arena = a;
	a->chunk = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	a->used = 16;
	a->cap = 4096;
	VALGRIND_CREATE_MEMPOOL(a, RZ, 0);
	struct node *n = make_node(a, NULL);
	n = make_node(a, n);
	n = NULL;
	kept = make_node(a, NULL);
	(void)n;
}

/* freelist: memcheck's idiom for a pool's free list kept in freed
 * objects: the link's bytes made accessible after MEMPOOL_FREE, written,
 * made accessible again and read before MEMPOOL_ALLOC: no error (the
 * second object stays reachable through the stale link in the first). */
static __attribute__((noinline)) void list_free(struct arena *a, void **head,
						 void *p)
{
	VALGRIND_MEMPOOL_FREE(a, p);
	VALGRIND_MAKE_MEM_UNDEFINED(p, sizeof(void *));
	*(void **)p = *head;
	*head = p;
}

static __attribute__((noinline)) void *list_alloc(struct arena *a, void **head)
{
	void *p = *head;
	VALGRIND_MAKE_MEM_DEFINED(p, sizeof(void *));
	*head = *(void **)p;
	VALGRIND_MEMPOOL_ALLOC(a, p, 48);
	return p;
}

static void case_freelist(void)
{
	struct arena *a = arena_new(4096, 0);
	void *head = NULL;
	kept_arena = a;
	void *p = make_node(a, NULL), *q = make_node(a, NULL);
	list_free(a, &head, p);
	list_free(a, &head, q);
	kept = list_alloc(a, &head);
	list_alloc(a, &head);
}

/* check: an overflow into the redzone of a live object, found by an
 * on-demand check (mpwrap's mp_check; memcheck at the write). */
#ifdef MPWRAP_VALGRIND_COMPAT
extern int mp_check(void) __attribute__((weak));
#define CHECK_NOW() ((void)(mp_check ? mp_check() : 0))
#else
#define CHECK_NOW() ((void)0)
#endif

static void case_check(void)
{
	struct arena *a = arena_new(4096, 0);
	kept_arena = a;
	char *p = (char *)make_node(a, NULL);
	kept = p;
	scribble(p, 50);
	CHECK_NOW();
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} cases[] = {
		{ "leak", case_leak },       { "freed", case_freed },
		{ "destroy", case_destroy }, { "trim", case_trim },
		{ "move", case_move },       { "autofree", case_autofree },
		{ "malloclike", case_malloclike }, { "badfree", case_badfree },
		{ "resize", case_resize },   { "overflow", case_overflow },
		{ "underflow", case_underflow }, { "uaf", case_uaf },
		{ "uafexit", case_uafexit }, { "leakreq", case_leakreq },
		{ "mapped", case_mapped },   { "freelist", case_freelist },
		{ "check", case_check },
	};
	for (size_t i = 0; argc > 1 && i < sizeof cases / sizeof cases[0]; i++)
		if (strcmp(argv[1], cases[i].name) == 0) {
			cases[i].fn();
			return 0;
		}
	fprintf(stderr, "usage: cp_pools CASE\n");
	return 2;
}
