/* unit_pool.c - allocation, size classes, statistics, leak report and
 * life cycle of the mp_* pool (cmocka).
 *
 * Every test starts from a fresh mp_init() with its own log file (see
 * testutil.h) and ends with mp_destroy().
 */
#define _GNU_SOURCE
#include "testutil.h"

#define MIB ((size_t)1 << 20)

TU_SETUP(setup, NULL)
TU_SETUP(setup_q0, "quarantine_mb=0")
TU_SETUP(setup_q1, "quarantine_mb=1")

/* Slots per slab for class size c (block.h: stride = c + 32, 1 MiB slab). */
static size_t slots_of(size_t c)
{
	return MIB / (c + 32);
}

/* ---- size classes --------------------------------------------------------- */

static void test_class_sizes_reported(void **state)
{
	(void)state;
	struct mp_stats st = tu_stats();
	for (int c = 0; c < MP_NUM_CLASSES; c++) {
		assert_int_equal(st.cls[c].size, (size_t)32 << c);
		assert_int_equal(st.cls[c].total, 0);
		assert_int_equal(st.cls[c].in_use, 0);
		assert_int_equal(st.cls[c].quarantined, 0);
		assert_int_equal(st.cls[c].free, 0);
	}
	assert_int_equal(st.large_blocks, 0);
	assert_int_equal(st.large_bytes, 0);
	assert_int_equal(st.bytes_in_use, 0);
	assert_int_equal(st.peak_bytes, 0);
	assert_int_equal(st.allocs, 0);
	assert_int_equal(st.frees, 0);
	assert_int_equal(st.errors, 0);
}

static void test_class_boundaries(void **state)
{
	(void)state;
	static const struct { size_t n; int cls; } cases[] = {
		{ 1, 0 },    { 32, 0 },   { 33, 1 },    { 64, 1 },
		{ 65, 2 },   { 128, 2 },  { 129, 3 },   { 256, 3 },
		{ 257, 4 },  { 512, 4 },  { 513, 5 },   { 1024, 5 },
		{ 1025, 6 }, { 2048, 6 }, { 2049, 7 },  { 4096, 7 },
	};
	enum { N = sizeof cases / sizeof cases[0] };
	void *ptrs[N];
	size_t bytes = 0;

	for (size_t k = 0; k < N; k++) {
		struct mp_stats a = tu_stats();
		ptrs[k] = mp_alloc(cases[k].n);
		struct mp_stats b = tu_stats();
		assert_non_null(ptrs[k]);
		bytes += cases[k].n;
		for (int c = 0; c < MP_NUM_CLASSES; c++) {
			size_t want = a.cls[c].in_use + (c == cases[k].cls);
			if (b.cls[c].in_use != want)
				fail_msg("mp_alloc(%zu): class %zu in_use %zu, want %zu",
					 cases[k].n, b.cls[c].size, b.cls[c].in_use, want);
		}
		/* the first block of a class carves exactly one slab */
		assert_int_equal(b.cls[cases[k].cls].total,
				 slots_of((size_t)32 << cases[k].cls));
		assert_int_equal(b.large_blocks, a.large_blocks);
		assert_int_equal(b.large_bytes, a.large_bytes);
		assert_int_equal(b.allocs, a.allocs + 1);
		assert_int_equal(b.bytes_in_use, bytes);
		assert_int_equal(mp_usable_size(ptrs[k]), cases[k].n);
	}
	struct mp_stats st = tu_stats();
	for (int c = 0; c < MP_NUM_CLASSES; c++) {
		assert_int_equal(st.cls[c].in_use, 2);
		assert_int_equal(st.cls[c].free, st.cls[c].total - 2);
	}
	for (size_t k = 0; k < N; k++)
		mp_free(ptrs[k]);
	st = tu_stats();
	for (int c = 0; c < MP_NUM_CLASSES; c++) {
		assert_int_equal(st.cls[c].in_use, 0);
		assert_int_equal(st.cls[c].quarantined, 2);
	}
	assert_int_equal(st.bytes_in_use, 0);
	assert_int_equal(st.peak_bytes, bytes);
	assert_int_equal(st.frees, N);
	assert_int_equal(st.errors, 0);
}

static void test_large_sizes(void **state)
{
	(void)state;
	struct mp_stats a = tu_stats();
	char *p = mp_alloc(4097);
	assert_non_null(p);
	struct mp_stats b = tu_stats();
	for (int c = 0; c < MP_NUM_CLASSES; c++)
		assert_int_equal(b.cls[c].in_use, a.cls[c].in_use);
	assert_int_equal(b.large_blocks, 1);
	assert_int_equal(b.large_bytes, 4097);

	char *q = mp_alloc(MIB);
	assert_non_null(q);
	struct mp_stats c2 = tu_stats();
	for (int c = 0; c < MP_NUM_CLASSES; c++)
		assert_int_equal(c2.cls[c].in_use, 0);
	assert_int_equal(c2.large_blocks, 2);
	assert_int_equal(c2.large_bytes, 4097 + MIB);
	assert_int_equal(c2.bytes_in_use, 4097 + MIB);
	assert_int_equal(mp_usable_size(p), 4097);
	assert_int_equal(mp_usable_size(q), MIB);
	memset(p, 1, 4097);
	memset(q, 2, MIB);

	mp_free(p);
	struct mp_stats d = tu_stats();
	assert_int_equal(d.large_blocks, 1);
	assert_int_equal(d.large_bytes, MIB);
	mp_free(q);
	d = tu_stats();
	assert_int_equal(d.large_blocks, 0);
	assert_int_equal(d.large_bytes, 0);
	assert_int_equal(d.bytes_in_use, 0);
	assert_int_equal(d.peak_bytes, 4097 + MIB);
	assert_int_equal(d.allocs, 2);
	assert_int_equal(d.frees, 2);
	assert_int_equal(d.errors, 0);
}

/* ---- pointers --------------------------------------------------------------- */

static void test_alignment(void **state)
{
	(void)state;
	enum { MAXN = 5000 };
	static void *ptrs[MAXN + 1];
	size_t bad = 0;

	for (size_t n = 0; n <= MAXN; n++) {
		ptrs[n] = mp_alloc(n);
		assert_non_null(ptrs[n]);
		if ((uintptr_t)ptrs[n] % 16 != 0) {
			print_error("mp_alloc(%zu) = %p is not 16-byte aligned\n", n,
				    ptrs[n]);
			bad++;
		}
		if (mp_usable_size(ptrs[n]) != n)
			bad++;
	}
	assert_int_equal(bad, 0);
	struct mp_stats st = tu_stats();
	assert_int_equal(st.allocs, MAXN + 1);
	assert_int_equal(st.large_blocks, MAXN - 4096);
	for (size_t n = 0; n <= MAXN; n++)
		mp_free(ptrs[n]);
	st = tu_stats();
	assert_int_equal(st.frees, MAXN + 1);
	assert_int_equal(st.bytes_in_use, 0);
	assert_int_equal(st.errors, 0);
}

static void test_alloc_zero(void **state)
{
	(void)state;
	void *p = mp_alloc(0);
	void *q = mp_alloc(0);
	assert_non_null(p);
	assert_non_null(q);
	assert_ptr_not_equal(p, q);
	assert_int_equal((uintptr_t)p % 16, 0);
	assert_int_equal((uintptr_t)q % 16, 0);
	assert_int_equal(mp_usable_size(p), 0);
	struct mp_stats st = tu_stats();
	assert_int_equal(st.allocs, 2);
	assert_int_equal(st.cls[0].in_use, 2);
	assert_int_equal(st.bytes_in_use, 0);
	mp_free(p);
	mp_free(q);
	mp_free(NULL); /* ignored */
	st = tu_stats();
	assert_int_equal(st.frees, 2);
	assert_int_equal(st.cls[0].in_use, 0);
	assert_int_equal(st.errors, 0);
	char *log = tu_log();
	assert_int_equal(tu_count(log, "ERROR:"), 0);
	free(log);
}

static void test_usable_size(void **state)
{
	(void)state;
	int local = 0;
	char *p = mp_alloc(100);
	char *q = mp_alloc(5000);
	assert_int_equal(mp_usable_size(p), 100);
	assert_int_equal(mp_usable_size(q), 5000);
	assert_int_equal(mp_usable_size(NULL), 0);
	assert_int_equal(mp_usable_size(p + 16), 0);     /* interior */
	assert_int_equal(mp_usable_size(q + 16), 0);
	assert_int_equal(mp_usable_size(&local), 0);     /* not ours */
	mp_free(p);
	mp_free(q);
	assert_int_equal(mp_usable_size(p), 0);          /* freed */
	assert_int_equal(mp_usable_size(q), 0);
	assert_int_equal(tu_stats().errors, 0);
}

static void test_calloc_zeroes(void **state)
{
	(void)state;
	/* quarantine_mb=0: the dirty slot comes straight back to calloc */
	unsigned char *d = mp_alloc(1000);
	assert_non_null(d);
	memset(d, 0x5a, 1000);
	mp_free(d);
	unsigned char *p = mp_calloc(10, 100);
	assert_ptr_equal(p, d);
	assert_int_equal(mp_usable_size(p), 1000);
	for (size_t i = 0; i < 1000; i++)
		if (p[i] != 0)
			fail_msg("mp_calloc byte %zu = %#x", i, p[i]);
	unsigned char *l = mp_calloc(3, 3000);
	assert_non_null(l);
	assert_int_equal(mp_usable_size(l), 9000);
	for (size_t i = 0; i < 9000; i++)
		if (l[i] != 0)
			fail_msg("large mp_calloc byte %zu = %#x", i, l[i]);
	mp_free(p);
	mp_free(l);
	assert_int_equal(tu_stats().errors, 0);
}

static void test_calloc_alloc_overflow(void **state)
{
	(void)state;
	errno = 0;
	assert_null(mp_calloc(SIZE_MAX / 2, 4));
	assert_int_equal(errno, ENOMEM);
	errno = 0;
	assert_null(mp_calloc(4, SIZE_MAX / 2));
	assert_int_equal(errno, ENOMEM);
	errno = 0;
	assert_null(mp_alloc(SIZE_MAX));
	assert_int_equal(errno, ENOMEM);
	errno = 0;
	assert_null(mp_alloc(SIZE_MAX - 16));
	assert_int_equal(errno, ENOMEM);
	struct mp_stats st = tu_stats();
	assert_int_equal(st.allocs, 0);
	assert_int_equal(st.large_blocks, 0);
	assert_int_equal(st.bytes_in_use, 0);
	assert_int_equal(st.errors, 0);
	/* calloc(0, n) behaves like alloc(0) */
	void *z = mp_calloc(0, 8);
	assert_non_null(z);
	mp_free(z);
}

/* ---- realloc ---------------------------------------------------------------- */

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 7 + seed);
}

static size_t first_mismatch(const unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (unsigned char)(i * 7 + seed))
			return i;
	return SIZE_MAX;
}

static void test_realloc_grow_shrink(void **state)
{
	(void)state;
	unsigned char *p = mp_alloc(100);
	assert_non_null(p);
	fill(p, 100, 3);

	/* slab -> slab */
	unsigned char *q = mp_realloc(p, 3000);
	assert_non_null(q);
	assert_int_equal(mp_usable_size(q), 3000);
	assert_int_equal(first_mismatch(q, 100, 3), SIZE_MAX);
	fill(q, 3000, 5);

	/* slab -> large */
	unsigned char *r = mp_realloc(q, 10000);
	assert_non_null(r);
	assert_int_equal(mp_usable_size(r), 10000);
	assert_int_equal(first_mismatch(r, 3000, 5), SIZE_MAX);
	struct mp_stats st = tu_stats();
	assert_int_equal(st.large_blocks, 1);
	assert_int_equal(st.large_bytes, 10000);
	assert_int_equal(st.cls[2].in_use, 0);
	assert_int_equal(st.cls[7].in_use, 0);
	fill(r, 10000, 9);

	/* large -> larger large */
	unsigned char *s = mp_realloc(r, 200000);
	assert_non_null(s);
	assert_int_equal(first_mismatch(s, 10000, 9), SIZE_MAX);
	fill(s, 200000, 11);

	/* large -> slab (shrink) */
	unsigned char *t = mp_realloc(s, 50);
	assert_non_null(t);
	assert_int_equal(mp_usable_size(t), 50);
	assert_int_equal(first_mismatch(t, 50, 11), SIZE_MAX);
	st = tu_stats();
	assert_int_equal(st.large_blocks, 0);
	assert_int_equal(st.large_bytes, 0);
	assert_int_equal(st.cls[1].in_use, 1);
	assert_int_equal(st.bytes_in_use, 50);
	assert_int_equal(st.allocs, 5);
	assert_int_equal(st.frees, 4);

	/* slab -> smaller slab */
	fill(t, 50, 13);
	unsigned char *u = mp_realloc(t, 20);
	assert_non_null(u);
	assert_int_equal(first_mismatch(u, 20, 13), SIZE_MAX);
	assert_int_equal(mp_usable_size(u), 20);
	mp_free(u);
	st = tu_stats();
	assert_int_equal(st.bytes_in_use, 0);
	assert_int_equal(st.allocs, 6);
	assert_int_equal(st.frees, 6);
	assert_int_equal(st.errors, 0);
}

static void test_realloc_null_and_zero(void **state)
{
	(void)state;
	void *p = mp_realloc(NULL, 200);
	assert_non_null(p);
	assert_int_equal(mp_usable_size(p), 200);
	struct mp_stats st = tu_stats();
	assert_int_equal(st.allocs, 1);
	assert_int_equal(st.cls[3].in_use, 1);

	assert_null(mp_realloc(p, 0));
	st = tu_stats();
	assert_int_equal(st.frees, 1);
	assert_int_equal(st.cls[3].in_use, 0);
	assert_int_equal(st.cls[3].quarantined, 1);
	assert_int_equal(st.bytes_in_use, 0);

	/* a failed realloc leaves the block alone */
	char *k = mp_alloc(100);
	memset(k, 0x3c, 100);
	errno = 0;
	assert_null(mp_realloc(k, SIZE_MAX));
	assert_int_equal(errno, ENOMEM);
	assert_int_equal(mp_usable_size(k), 100);
	for (int i = 0; i < 100; i++)
		assert_int_equal((unsigned char)k[i], 0x3c);
	mp_free(k);
	st = tu_stats();
	assert_int_equal(st.allocs, 2);
	assert_int_equal(st.frees, 2);

	void *l = mp_realloc(NULL, 7000);
	assert_non_null(l);
	assert_int_equal(tu_stats().large_blocks, 1);
	assert_null(mp_realloc(l, 0));
	st = tu_stats();
	assert_int_equal(st.large_blocks, 0);
	assert_int_equal(st.allocs, 3);
	assert_int_equal(st.frees, 3);
	assert_int_equal(st.errors, 0);
	char *log = tu_log();
	assert_int_equal(tu_count(log, "ERROR:"), 0);
	free(log);
}

/* ---- statistics --------------------------------------------------------------- */

static void test_stats_sequence(void **state)
{
	(void)state;
	void *small[10], *big[3];
	char line[256];

	for (int i = 0; i < 10; i++)
		small[i] = mp_alloc(100);
	for (int i = 0; i < 3; i++)
		big[i] = mp_alloc(5000);
	for (int i = 0; i < 4; i++)
		mp_free(small[i]);

	struct mp_stats st = tu_stats();
	for (int c = 0; c < MP_NUM_CLASSES; c++) {
		if (c == 2)
			continue;
		assert_int_equal(st.cls[c].total, 0);
		assert_int_equal(st.cls[c].in_use, 0);
		assert_int_equal(st.cls[c].quarantined, 0);
	}
	assert_int_equal(st.cls[2].size, 128);
	assert_int_equal(st.cls[2].total, slots_of(128));
	assert_int_equal(st.cls[2].in_use, 6);
	assert_int_equal(st.cls[2].quarantined, 4);
	assert_int_equal(st.cls[2].free, slots_of(128) - 10);
	assert_int_equal(st.large_blocks, 3);
	assert_int_equal(st.large_bytes, 15000);
	assert_int_equal(st.bytes_in_use, 6 * 100 + 3 * 5000);
	assert_int_equal(st.peak_bytes, 10 * 100 + 3 * 5000);
	assert_int_equal(st.allocs, 13);
	assert_int_equal(st.frees, 4);
	assert_int_equal(st.errors, 0);
	assert_int_equal(st.stacks, 3); /* two allocation sites, one free site */

	/* the same numbers in mp_dump_stats' table */
	mp_dump_stats();
	char *log = tu_log();
	tu_assert_has(log, "== pool statistics:\n");
	tu_assert_has(log, "==    class      total     in use  quarantined       free\n");
	snprintf(line, sizeof line, "==   %6d %10zu %10d %12d %10zu\n", 128,
		 slots_of(128), 6, 4, slots_of(128) - 10);
	tu_assert_has(log, line);
	for (int c = 0; c < MP_NUM_CLASSES; c++) {
		if (c == 2)
			continue;
		snprintf(line, sizeof line, "==   %6d %10d %10d %12d %10d\n",
			 32 << c, 0, 0, 0, 0);
		tu_assert_has(log, line);
	}
	tu_assert_has(log, "==   large blocks: 3 (15000 bytes)\n");
	tu_assert_has(log, "==   in use: 15600 bytes, peak 16000 bytes; 13 allocations, "
		      "4 frees, 0 errors, 3 stacks (");
	snprintf(line, sizeof line, "==%d== ", (int)getpid());
	assert_true(strncmp(log, line, strlen(line)) == 0);
	free(log);

	for (int i = 4; i < 10; i++)
		mp_free(small[i]);
	for (int i = 0; i < 3; i++)
		mp_free(big[i]);
	st = tu_stats();
	assert_int_equal(st.cls[2].in_use, 0);
	assert_int_equal(st.cls[2].quarantined, 10);
	assert_int_equal(st.bytes_in_use, 0);
	assert_int_equal(st.peak_bytes, 16000);
	assert_int_equal(st.frees, 13);
}

/* ---- leak report ---------------------------------------------------------------- */

static TU_NOINLINE void leak_helper_hundreds(void **out)
{
	for (int i = 0; i < 3; i++)
		out[i] = mp_alloc(100);
}

static TU_NOINLINE void leak_helper_sixtyfours(void **out)
{
	for (int i = 0; i < 2; i++)
		out[i] = mp_alloc(64);
}

static void test_dump_leaks_grouping(void **state)
{
	(void)state;
	void *a[3], *b[2];
	char pfx[32];

	leak_helper_sixtyfours(b); /* the smaller group is stored first */
	leak_helper_hundreds(a);
	size_t before = tu_log_size();
	assert_int_equal(mp_dump_leaks(), 5);

	char *log = tu_log();
	const char *out = log + before;
	const char *g1 = strstr(out, "== 300 bytes in 3 blocks allocated from:\n");
	const char *g2 = strstr(out, "== 128 bytes in 2 blocks allocated from:\n");
	assert_non_null(g1);
	assert_non_null(g2);
	assert_true(g1 < g2); /* largest group first */
	tu_assert_frame(g1, "300 bytes in 3 blocks allocated from:",
			"leak_helper_hundreds", "unit_pool.c");
	tu_assert_frame(g1, "300 bytes in 3 blocks allocated from:",
			"test_dump_leaks_grouping", "unit_pool.c");
	tu_assert_frame(g2, "128 bytes in 2 blocks allocated from:",
			"leak_helper_sixtyfours", "unit_pool.c");
	/* frame #0 of each group is the helper itself */
	char *st = tu_stack(g1, "allocated from:");
	char *f0 = tu_frame(st, 0);
	tu_assert_has(f0, "#0 0x");
	tu_assert_has(f0, " in leak_helper_hundreds ");
	free(f0);
	free(st);
	st = tu_stack(g2, "allocated from:");
	f0 = tu_frame(st, 0);
	tu_assert_has(f0, " in leak_helper_sixtyfours ");
	tu_assert_lacks(st, "leak_helper_hundreds");
	free(f0);
	free(st);
	tu_assert_has(out, "== live blocks: 428 bytes in 5 blocks from 2 allocation stacks\n");
	snprintf(pfx, sizeof pfx, "==%d== live blocks:", (int)getpid());
	tu_assert_has(out, pfx);
	assert_int_equal(tu_count(out, "allocated from:"), 2);
	free(log);

	for (int i = 0; i < 3; i++)
		mp_free(a[i]);
	mp_free(b[0]);
	before = tu_log_size();
	assert_int_equal(mp_dump_leaks(), 1);
	log = tu_log();
	tu_assert_has(log + before, "== 64 bytes in 1 block allocated from:\n");
	tu_assert_has(log + before,
		      "== live blocks: 64 bytes in 1 blocks from 1 allocation stack\n");
	free(log);
	mp_free(b[1]);
	assert_int_equal(mp_dump_leaks(), 0);
	assert_int_equal(tu_stats().errors, 0);
}

TU_SETUP(setup_depth0, "stack_depth=0")
TU_SETUP(setup_depth2, "stack_depth=2")

static void test_stack_depth0(void **state)
{
	(void)state;
	void *a[2];
	leak_helper_sixtyfours(a);
	void *b = mp_alloc(5000);
	size_t before = tu_log_size();
	assert_int_equal(mp_dump_leaks(), 3);
	assert_int_equal(tu_stats().stacks, 0);
	char *log = tu_log();
	const char *out = log + before;
	/* without stacks every block falls in one group */
	tu_assert_has(out, "== 5128 bytes in 3 blocks allocated from:\n");
	tu_assert_has(out, "==     (no stack recorded)\n");
	tu_assert_lacks(out, " in leak_helper_sixtyfours ");
	tu_assert_has(out, "== live blocks: 5128 bytes in 3 blocks from 1 allocation stack\n");
	free(log);
	mp_free(a[0]);
	mp_free(a[1]);
	mp_free(b);
	assert_int_equal(tu_stats().errors, 0);
}

static void test_stack_depth2(void **state)
{
	(void)state;
	void *a[2];
	leak_helper_sixtyfours(a);
	size_t before = tu_log_size();
	assert_int_equal(mp_dump_leaks(), 2);
	char *log = tu_log();
	char *st = tu_stack(log + before, "128 bytes in 2 blocks allocated from:");
	assert_non_null(st);
	assert_int_equal(tu_count(st, "    #"), 2);
	char *f0 = tu_frame(st, 0), *f1 = tu_frame(st, 1);
	tu_assert_has(f0, "#0 0x");
	tu_assert_has(f0, " in leak_helper_sixtyfours ");
	tu_assert_has(f1, "#1 0x");
	tu_assert_has(f1, " in test_stack_depth2 ");
	free(f0);
	free(f1);
	free(st);
	free(log);
	mp_free(a[0]);
	mp_free(a[1]);
}

/* ---- life cycle ------------------------------------------------------------------- */

static TU_NOINLINE void *reinit_leaker(size_t n)
{
	return mp_alloc(n);
}

static void test_destroy_reinit(void **state)
{
	(void)state;
	void *p = mp_alloc(300);
	mp_free(p);
	for (int i = 0; i < 2; i++) /* left live: mp_destroy reports, releases */
		reinit_leaker(100);
	(void)mp_alloc(9000);
	mp_destroy();

	char *log = tu_log();
	tu_assert_has(log, "== pool statistics:\n");
	tu_assert_has(log, "==   in use: 9200 bytes, peak 9200 bytes; 4 allocations, "
		      "1 frees, 0 errors, 4 stacks");
	tu_assert_has(log, "== 9000 bytes in 1 block allocated from:\n");
	tu_assert_has(log, "== 200 bytes in 2 blocks allocated from:\n");
	tu_assert_has(log, "== live blocks: 9200 bytes in 3 blocks from 2 allocation stacks\n");
	tu_assert_frame(strstr(log, "200 bytes in 2 blocks"), "allocated from:",
			"reinit_leaker", "unit_pool.c");
	free(log);

	/* the second life starts from zero */
	assert_int_equal(mp_init(), 0);
	struct mp_stats st = tu_stats();
	for (int c = 0; c < MP_NUM_CLASSES; c++) {
		assert_int_equal(st.cls[c].size, (size_t)32 << c);
		assert_int_equal(st.cls[c].total, 0);
		assert_int_equal(st.cls[c].in_use, 0);
		assert_int_equal(st.cls[c].quarantined, 0);
	}
	assert_int_equal(st.large_blocks, 0);
	assert_int_equal(st.large_bytes, 0);
	assert_int_equal(st.bytes_in_use, 0);
	assert_int_equal(st.peak_bytes, 0);
	assert_int_equal(st.allocs, 0);
	assert_int_equal(st.frees, 0);
	assert_int_equal(st.errors, 0);
	assert_int_equal(st.stacks, 0);

	char *q = mp_alloc(100);
	char *r = mp_alloc(6000);
	assert_non_null(q);
	assert_non_null(r);
	memset(q, 1, 100);
	memset(r, 2, 6000);
	mp_free(q);
	mp_free(r);
	st = tu_stats();
	assert_int_equal(st.allocs, 2);
	assert_int_equal(st.frees, 2);
	assert_int_equal(st.bytes_in_use, 0);
	assert_int_equal(st.peak_bytes, 6100);
	assert_int_equal(st.cls[2].quarantined, 1);
	assert_int_equal(st.errors, 0);
	assert_int_equal(mp_dump_leaks(), 0);

	/* several cycles in a row */
	for (int k = 0; k < 3; k++) {
		mp_destroy();
		assert_int_equal(mp_init(), 0);
		void *x = mp_alloc(64);
		assert_non_null(x);
		mp_free(x);
		st = tu_stats();
		assert_int_equal(st.allocs, 1);
		assert_int_equal(st.frees, 1);
	}
	log = tu_log();
	assert_int_equal(tu_count(log, "ERROR:"), 0);
	free(log);
}

/* ---- reuse and quarantine ------------------------------------------------------------ */

static void test_reuse_quarantine0(void **state)
{
	(void)state;
	void *p = mp_alloc(100);
	assert_non_null(p);
	mp_free(p);
	struct mp_stats st = tu_stats();
	assert_int_equal(st.cls[2].quarantined, 0);
	assert_int_equal(st.cls[2].in_use, 0);
	assert_int_equal(st.cls[2].free, st.cls[2].total);
	void *q = mp_alloc(120); /* same class */
	assert_ptr_equal(q, p);
	assert_int_equal(mp_usable_size(q), 120);
	mp_free(q);
	void *r = mp_alloc(65);
	assert_ptr_equal(r, p);
	mp_free(r);
	assert_int_equal(tu_stats().errors, 0);
}

static void test_reuse_quarantine0_zero_size(void **state)
{
	(void)state;
	/* quarantine_mb=0 holds nothing back, zero-byte blocks included */
	void *p = mp_alloc(0);
	assert_non_null(p);
	mp_free(p);
	struct mp_stats st = tu_stats();
	assert_int_equal(st.cls[0].in_use, 0);
	assert_int_equal(st.cls[0].quarantined, 0);
	void *q = mp_alloc(0);
	assert_ptr_equal(q, p);
	mp_free(q);
	/* a loop of alloc(0)/free must not keep carving new slots */
	for (int i = 0; i < 20000; i++)
		mp_free(mp_alloc(0));
	st = tu_stats();
	assert_int_equal(st.cls[0].quarantined, 0);
	assert_int_equal(st.cls[0].total, slots_of(32));
	assert_int_equal(st.errors, 0);
}

static void test_no_reuse_while_quarantined(void **state)
{
	(void)state;
	void *p = mp_alloc(100);
	mp_free(p);
	for (int i = 0; i < 100; i++) {
		void *q = mp_alloc(100);
		assert_ptr_not_equal(q, p);
		mp_free(q);
	}
	struct mp_stats st = tu_stats();
	assert_int_equal(st.cls[2].quarantined, 101);
	assert_int_equal(st.errors, 0);
}

static void test_reuse_after_quarantine_exceeded(void **state)
{
	(void)state;
	/* quarantine_mb=1: p waits until 1 MiB of later frees pushes it out */
	void *p = mp_alloc(100);
	mp_free(p);
	void *q = mp_alloc(100);
	assert_ptr_not_equal(q, p);
	mp_free(q);
	assert_int_equal(tu_stats().cls[2].quarantined, 2);

	for (int i = 0; i < 4; i++) { /* 4 x 300000 bytes > 1 MiB */
		void *big = mp_alloc(300000);
		assert_non_null(big);
		mp_free(big);
	}
	struct mp_stats st = tu_stats();
	assert_int_equal(st.cls[2].quarantined, 0);
	assert_int_equal(st.cls[2].free, st.cls[2].total);
	/* LIFO free list: q was released last, then p */
	void *a = mp_alloc(100);
	void *b = mp_alloc(100);
	assert_true((a == p && b == q) || (a == q && b == p));
	mp_free(a);
	mp_free(b);
	assert_int_equal(tu_stats().errors, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, tu_teardown)
		T(test_class_sizes_reported),
		T(test_class_boundaries),
		T(test_large_sizes),
		T(test_alignment),
		T(test_alloc_zero),
		T(test_usable_size),
		cmocka_unit_test_setup_teardown(test_calloc_zeroes, setup_q0, tu_teardown),
		T(test_calloc_alloc_overflow),
		T(test_realloc_grow_shrink),
		T(test_realloc_null_and_zero),
		T(test_stats_sequence),
		T(test_dump_leaks_grouping),
		cmocka_unit_test_setup_teardown(test_stack_depth0, setup_depth0, tu_teardown),
		cmocka_unit_test_setup_teardown(test_stack_depth2, setup_depth2, tu_teardown),
		T(test_destroy_reinit),
		cmocka_unit_test_setup_teardown(test_reuse_quarantine0, setup_q0, tu_teardown),
		cmocka_unit_test_setup_teardown(test_reuse_quarantine0_zero_size,
						setup_q0, tu_teardown),
		T(test_no_reuse_while_quarantined),
		cmocka_unit_test_setup_teardown(test_reuse_after_quarantine_exceeded,
						setup_q1, tu_teardown),
#undef T
	};
	return cmocka_run_group_tests_name("unit_pool", tests, NULL, NULL);
}
