/* unit_errors.c - error detection and the wording of error reports
 * (overflow, underflow, mp_check, double free, invalid free, use after
 * free, bad realloc), read back from the text log (cmocka).
 */
#define _GNU_SOURCE
#include "testutil.h"

TU_SETUP(setup, NULL)
TU_SETUP(setup_q0, "quarantine_mb=0")
TU_SETUP(setup_depth0, "stack_depth=0")
TU_SETUP(setup_q1, "quarantine_mb=1")
TU_SETUP(setup_q0_notc, "quarantine_mb=0:thread_cache=0")

/* Allocation and free sites with their own names in the stacks. */
static TU_NOINLINE char *err_alloc_site(size_t n)
{
	return mp_alloc(n);
}

static TU_NOINLINE void err_free_site(void *p)
{
	mp_free(p);
}

static char global_buf[64];

/* The only report of the log: exactly one "ERROR:" line, of this kind. */
static char *only_report(const char *log, const char *kind)
{
	if (tu_count(log, "ERROR:") != 1) {
		tu_dump("log:", log, 80);
		fail_msg("expected exactly one report");
	}
	char *rep = tu_report(log, kind, 0);
	if (!rep) {
		tu_dump("log:", log, 80);
		fail_msg("expected \"ERROR: %s\"", kind);
	}
	return rep;
}

/* ---- overflow / underflow detected at mp_free --------------------------- */

/* Damage [off, off+len) relative to the user start of an n-byte block, free
 * it, and check the whole report. */
static void guard_case(size_t n, long off, size_t len, const char *test_fn)
{
	char want[256];
	const char *kind = off < 0 ? "heap-buffer-underflow" : "heap-buffer-overflow";
	char *p = err_alloc_site(n);
	assert_non_null(p);
	memset(p, 0x11, n);
	volatile char *vp = p;
	for (size_t i = 0; i < len; i++)
		vp[off + (long)i] = 0x42;
	mp_free(p);

	char *log = tu_log();
	char *rep = only_report(log, kind);
	if (off < 0)
		snprintf(want, sizeof want,
			 "== %zu guard byte%s changed, first at offset %ld (%p) of "
			 "the %zu-byte block at %p (%ld byte%s before its start)\n",
			 len, len == 1 ? "" : "s", off, (void *)(p + off), n,
			 (void *)p, -off, off == -1 ? "" : "s");
	else
		snprintf(want, sizeof want,
			 "== %zu guard byte%s changed, first at offset %ld (%p) of "
			 "the %zu-byte block at %p (%ld byte%s after its end)\n",
			 len, len == 1 ? "" : "s", off, (void *)(p + off), n,
			 (void *)p, off - (long)n, off - (long)n == 1 ? "" : "s");
	tu_assert_has(rep, want);
	tu_assert_has(rep, "==   detected by mp_free:\n");
	tu_assert_frame(rep, "detected by mp_free:", test_fn, "unit_errors.c");
	tu_assert_frame(rep, "allocated by:", "err_alloc_site", "unit_errors.c");
	tu_assert_frame(rep, "allocated by:", test_fn, "unit_errors.c");
	char *st = tu_stack(rep, "allocated by:");
	char *f0 = tu_frame(st, 0);
	tu_assert_has(f0, "#0 0x");
	tu_assert_has(f0, " in err_alloc_site ");
	free(f0);
	free(st);
	st = tu_stack(rep, "detected by mp_free:");
	f0 = tu_frame(st, 0); /* mp_free's caller */
	tu_assert_has(f0, "#0 0x");
	tu_assert_has(f0, " in guard_case ");
	free(f0);
	free(st);
	tu_assert_lacks(rep, "freed by");
	free(rep);
	free(log);

	struct mp_stats s = tu_stats();
	assert_int_equal(s.errors, 1);
	assert_int_equal(s.frees, 1);   /* damaged blocks are still freed */
	assert_int_equal(s.bytes_in_use, 0);
	assert_int_equal(s.large_blocks, 0);
	for (int c = 0; c < MP_NUM_CLASSES; c++)
		assert_int_equal(s.cls[c].in_use, 0);
}

static void test_overflow1_slab(void **state)
{
	(void)state;
	guard_case(100, 100, 1, __func__);
}

static void test_overflow16_slab(void **state)
{
	(void)state;
	guard_case(100, 100, 16, __func__);
}

static void test_overflow1_large(void **state)
{
	(void)state;
	guard_case(5000, 5000, 1, __func__);
}

static void test_overflow16_large(void **state)
{
	(void)state;
	guard_case(5000, 5000, 16, __func__);
}

static void test_overflow_far_slab(void **state)
{
	(void)state;
	/* 3 bytes after the end: in the class slack of the 128 slot */
	guard_case(100, 103, 1, __func__);
}

static void test_underflow1_slab(void **state)
{
	(void)state;
	guard_case(100, -1, 1, __func__);
}

static void test_underflow1_large(void **state)
{
	(void)state;
	guard_case(5000, -1, 1, __func__);
}

static void test_underflow16_slab(void **state)
{
	(void)state;
	guard_case(100, -16, 16, __func__);
}

/* ---- mp_check ------------------------------------------------------------ */

static void test_check_counts_and_reports_once(void **state)
{
	(void)state;
	char *a = err_alloc_site(100);
	char *b = err_alloc_site(5000);
	char *c = err_alloc_site(200);
	assert_int_equal(mp_check(), 0);
	assert_int_equal(tu_log_size(), 0);

	a[100] = 1;   /* overflow of a slab block */
	b[-1] = 1;    /* underflow of a large block */
	assert_int_equal(mp_check(), 2);

	char *log = tu_log();
	assert_int_equal(tu_count(log, "ERROR:"), 2);
	char *ov = tu_report(log, "heap-buffer-overflow", 0);
	char *un = tu_report(log, "heap-buffer-underflow", 0);
	assert_non_null(ov);
	assert_non_null(un);
	char want[256];
	snprintf(want, sizeof want, "first at offset 100 (%p) of the 100-byte block at %p",
		 (void *)(a + 100), (void *)a);
	tu_assert_has(ov, want);
	snprintf(want, sizeof want, "first at offset -1 (%p) of the 5000-byte block at %p",
		 (void *)(b - 1), (void *)b);
	tu_assert_has(un, want);
	tu_assert_frame(ov, "detected by mp_check:", __func__, "unit_errors.c");
	tu_assert_frame(un, "detected by mp_check:", __func__, "unit_errors.c");
	tu_assert_frame(ov, "allocated by:", "err_alloc_site", "unit_errors.c");
	tu_assert_frame(un, "allocated by:", "err_alloc_site", "unit_errors.c");
	/* damage found late: the last line says how to find the access, with
	 * the allocation site as module+offset, the side for an underflow */
	tu_assert_has(ov, "==   to find the access: mpcheck --locate, or rerun "
		      "with MPWRAP_OPTIONS=guard_page_sites=unit_errors+0x");
	tu_assert_has(un, "==   to find the access: mpcheck --locate, or rerun "
		      "with MPWRAP_OPTIONS=guard_page_sites=under@unit_errors+0x");
	free(ov);
	free(un);
	free(log);
	assert_int_equal(tu_stats().errors, 2);

	/* reported once: a second check finds nothing new */
	size_t size = tu_log_size();
	assert_int_equal(mp_check(), 0);
	assert_int_equal(tu_log_size(), size);

	/* ... and freeing the damaged blocks does not report them again */
	mp_free(a);
	mp_free(b);
	mp_free(c);
	assert_int_equal(tu_log_size(), size);
	struct mp_stats s = tu_stats();
	assert_int_equal(s.errors, 2);
	assert_int_equal(s.frees, 3);
	assert_int_equal(mp_check(), 0);
	assert_int_equal(tu_log_size(), size);
}

static void test_check_both_guards_of_one_block(void **state)
{
	(void)state;
	char *a = err_alloc_site(40);
	a[-3] = 0;
	a[40] = 0;
	a[41] = 0;
	assert_int_equal(mp_check(), 1); /* one block ... */
	char *log = tu_log();
	assert_int_equal(tu_count(log, "ERROR:"), 2); /* ... two reports */
	char *un = tu_report(log, "heap-buffer-underflow", 0);
	char *ov = tu_report(log, "heap-buffer-overflow", 0);
	tu_assert_has(un, "== 1 guard byte changed, first at offset -3 (");
	tu_assert_has(un, "(3 bytes before its start)\n");
	tu_assert_has(ov, "== 2 guard bytes changed, first at offset 40 (");
	free(un);
	free(ov);
	free(log);
	assert_int_equal(tu_stats().errors, 2);
	size_t size = tu_log_size();
	mp_free(a);
	assert_int_equal(tu_log_size(), size);
	assert_int_equal(tu_stats().errors, 2);
}

static void test_check_many_damaged_blocks(void **state)
{
	(void)state;
	/* more damaged blocks than one report batch holds (64 verdicts) */
	enum { NOVER = 100, NUNDER = 70, NUAF = 80 };
	static char *over[NOVER], *under[NUNDER], *uaf[NUAF];
	for (int i = 0; i < NOVER; i++) {
		over[i] = err_alloc_site(100);
		over[i][100] = 0;
	}
	for (int i = 0; i < NUNDER; i++) {
		under[i] = err_alloc_site(5000);
		under[i][-1] = 0;
	}
	for (int i = 0; i < NUAF; i++) {
		uaf[i] = err_alloc_site(200);
		err_free_site(uaf[i]);
		uaf[i][5] = 0;
	}
	assert_int_equal(mp_check(), NOVER + NUNDER + NUAF);
	char *log = tu_log();
	assert_int_equal(tu_count(log, "ERROR: heap-buffer-overflow\n"), NOVER);
	assert_int_equal(tu_count(log, "ERROR: heap-buffer-underflow\n"), NUNDER);
	assert_int_equal(tu_count(log, "ERROR: use-after-free\n"), NUAF);
	assert_int_equal(tu_count(log, "ERROR:"), NOVER + NUNDER + NUAF);
	/* each block exactly once */
	char want[128];
	for (int i = 0; i < NOVER; i++) {
		snprintf(want, sizeof want, "of the 100-byte block at %p ", (void *)over[i]);
		assert_int_equal(tu_count(log, want), 1);
	}
	for (int i = 0; i < NUAF; i++) {
		snprintf(want, sizeof want, "of the 200-byte block at %p\n", (void *)uaf[i]);
		assert_int_equal(tu_count(log, want), 1);
	}
	free(log);
	assert_int_equal(tu_stats().errors, NOVER + NUNDER + NUAF);
	size_t size = tu_log_size();
	assert_int_equal(mp_check(), 0);
	for (int i = 0; i < NOVER; i++)
		mp_free(over[i]);
	for (int i = 0; i < NUNDER; i++)
		mp_free(under[i]);
	assert_int_equal(tu_log_size(), size);
	assert_int_equal(tu_stats().errors, NOVER + NUNDER + NUAF);
}

/* ---- double free ------------------------------------------------------------ */

static void double_free_case(size_t n, const char *test_fn)
{
	char want[256];
	char *p = err_alloc_site(n);
	assert_non_null(p);
	err_free_site(p);
	mp_free(p); /* the bad call, from the test function itself */

	char *log = tu_log();
	char *rep = only_report(log, "double-free");
	snprintf(want, sizeof want,
		 "== mp_free(%p): the %zu-byte block at %p was already freed\n",
		 (void *)p, n, (void *)p);
	tu_assert_has(rep, want);
	tu_assert_has(rep, "==   bad call to mp_free:\n");
	tu_assert_has(rep, "==   allocated by:\n");
	tu_assert_has(rep, "==   first freed by:\n");
	/* in that order */
	assert_true(strstr(rep, "bad call to") < strstr(rep, "allocated by:"));
	assert_true(strstr(rep, "allocated by:") < strstr(rep, "first freed by:"));
	tu_assert_frame(rep, "bad call to mp_free:", test_fn, "unit_errors.c");
	tu_assert_frame(rep, "allocated by:", "err_alloc_site", "unit_errors.c");
	tu_assert_frame(rep, "allocated by:", test_fn, "unit_errors.c");
	tu_assert_frame(rep, "first freed by:", "err_free_site", "unit_errors.c");
	tu_assert_frame(rep, "first freed by:", test_fn, "unit_errors.c");
	char *st = tu_stack(rep, "first freed by:");
	char *f0 = tu_frame(st, 0);
	tu_assert_has(f0, " in err_free_site ");
	free(f0);
	free(st);
	st = tu_stack(rep, "bad call to mp_free:");
	tu_assert_lacks(st, "err_free_site");
	tu_assert_lacks(st, "err_alloc_site");
	free(st);
	free(rep);
	free(log);

	struct mp_stats s = tu_stats();
	assert_int_equal(s.errors, 1);
	assert_int_equal(s.allocs, 1);
	assert_int_equal(s.frees, 1); /* the second free changed nothing */
	assert_int_equal(s.bytes_in_use, 0);
	assert_int_equal(s.large_blocks, 0);
}

static void test_double_free_slab(void **state)
{
	(void)state;
	double_free_case(100, __func__);
	assert_int_equal(tu_stats().cls[2].quarantined, 1);
}

static void test_double_free_large(void **state)
{
	(void)state;
	double_free_case(5000, __func__);
}

static void test_double_free_after_release(void **state)
{
	(void)state;
	char want[256];
	/* quarantine_mb=0: the slot is back on the free list (not reused yet);
	 * its metadata still names both stacks */
	char *p = err_alloc_site(100);
	err_free_site(p);
	assert_int_equal(tu_stats().cls[2].quarantined, 0);
	mp_free(p);
	char *log = tu_log();
	char *rep = only_report(log, "double-free");
	snprintf(want, sizeof want,
		 "== mp_free(%p): the 100-byte block at %p was already freed\n",
		 (void *)p, (void *)p);
	tu_assert_has(rep, want);
	tu_assert_frame(rep, "bad call to mp_free:", __func__, "unit_errors.c");
	tu_assert_frame(rep, "allocated by:", "err_alloc_site", "unit_errors.c");
	tu_assert_frame(rep, "first freed by:", "err_free_site", "unit_errors.c");
	free(rep);
	free(log);
	struct mp_stats s = tu_stats();
	assert_int_equal(s.errors, 1);
	assert_int_equal(s.frees, 1);
	/* the slot is still usable exactly once */
	char *q = mp_alloc(100);
	assert_ptr_equal(q, p);
	mp_free(q);
	assert_int_equal(tu_stats().errors, 1);
}

/* quarantine_mb=0: freed slots go to the freeing thread's cache (32 per
 * class; the 33rd free gives the oldest 16 back to the free lists).  A
 * second free of every one, cached or not, is a double free, and each slot
 * is handed out once afterwards: a cached slot is free, not live. */
#define DF_N 40
#define DF_N_MORE 200
static int ptr_cmp(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;
	return x < y ? -1 : x > y;
}

static void test_double_free_cached(void **state)
{
	(void)state;
	void *p[DF_N], *q[DF_N_MORE];
	for (int i = 0; i < DF_N; i++)
		p[i] = err_alloc_site(100);
	for (int i = 0; i < DF_N; i++)
		err_free_site(p[i]);
	for (int i = DF_N - 1; i >= 0; i--)
		mp_free(p[i]);
	char *log = tu_log();
	assert_int_equal(tu_count(log, "ERROR: double-free\n"), DF_N);
	assert_int_equal(tu_count(log, "ERROR:"), DF_N);
	char *rep = tu_report(log, "double-free", 0); /* the last one freed */
	assert_non_null(rep);
	tu_assert_frame(rep, "allocated by:", "err_alloc_site", "unit_errors.c");
	tu_assert_frame(rep, "first freed by:", "err_free_site", "unit_errors.c");
	free(rep);
	free(log);
	struct mp_stats st = tu_stats();
	assert_int_equal(st.errors, DF_N);
	assert_int_equal(st.allocs, DF_N);
	assert_int_equal(st.frees, DF_N);
	assert_int_equal(st.cls[2].in_use, 0);
	/* every slot comes back, once: DF_N_MORE allocations are distinct and
	 * hold each freed one exactly once */
	for (int i = 0; i < DF_N_MORE; i++)
		q[i] = mp_alloc(100);
	qsort(q, DF_N_MORE, sizeof q[0], ptr_cmp);
	for (int i = 1; i < DF_N_MORE; i++)
		assert_ptr_not_equal(q[i - 1], q[i]);
	for (int i = 0; i < DF_N; i++)
		assert_non_null(bsearch(&p[i], q, DF_N_MORE, sizeof q[0], ptr_cmp));
	for (int i = 0; i < DF_N_MORE; i++)
		mp_free(q[i]);
	st = tu_stats();
	assert_int_equal(st.errors, DF_N);
	assert_int_equal(st.cls[2].in_use, 0);
	assert_int_equal(mp_check(), 0);
}

static void test_bad_calls_without_stacks(void **state)
{
	(void)state;
	char want[256];
	/* stack_depth=0: no stacks at all, but a bad call is still worded as a
	 * bad call of mp_free (not as something found by a sweep) */
	char *p = mp_alloc(100);
	mp_free(p);
	mp_free(p);
	mp_free((void *)0x12345678);
	char *q = mp_alloc(100);
	q[100] = 0;
	mp_free(q);
	char *log = tu_log();
	assert_int_equal(tu_count(log, "ERROR:"), 3);
	char *rep = tu_report(log, "double-free", 0);
	snprintf(want, sizeof want,
		 "== mp_free(%p): the 100-byte block at %p was already freed\n"
		 "==%d==   bad call to mp_free:\n"
		 "==%d==     (no stack recorded)\n"
		 "==%d==   allocated by:\n"
		 "==%d==     (no stack recorded)\n"
		 "==%d==   first freed by:\n"
		 "==%d==     (no stack recorded)\n",
		 (void *)p, (void *)p, (int)getpid(), (int)getpid(), (int)getpid(),
		 (int)getpid(), (int)getpid(), (int)getpid());
	tu_assert_has(rep, want);
	free(rep);
	rep = tu_report(log, "invalid-free", 0);
	tu_assert_has(rep, "==   bad call to mp_free:\n");
	free(rep);
	rep = tu_report(log, "heap-buffer-overflow", 0);
	tu_assert_has(rep, "==   detected by mp_free:\n");
	free(rep);
	tu_assert_lacks(log, "check\n");
	free(log);
	assert_int_equal(tu_stats().errors, 3);
	assert_int_equal(tu_stats().stacks, 0);
}

/* ---- invalid free ------------------------------------------------------------- */

static void test_invalid_frees(void **state)
{
	(void)state;
	char want[256];
	int local = 7;
	char *p = err_alloc_site(100);
	char *q = err_alloc_site(5000);
	void *h = malloc(64); /* the C library's, not ours */
	assert_non_null(p);
	assert_non_null(q);
	assert_non_null(h);

	mp_free((void *)0x12345678);
	mp_free(p + 8);
	mp_free(q + 8);
	mp_free(&local);
	mp_free(global_buf);
	mp_free(h);

	char *log = tu_log();
	assert_int_equal(tu_count(log, "ERROR: invalid-free\n"), 6);
	assert_int_equal(tu_count(log, "ERROR:"), 6);

	char *r = tu_report(log, "invalid-free", 0);
	tu_assert_has(r, "== mp_free(0x12345678): address was not allocated by this "
		      "allocator (stack, global or wild pointer)\n");
	tu_assert_frame(r, "bad call to mp_free:", __func__, "unit_errors.c");
	tu_assert_lacks(r, "allocated by:");
	free(r);

	r = tu_report(log, "invalid-free", 1);
	snprintf(want, sizeof want, "== mp_free(%p): address is at offset 8 of the "
		 "100-byte block at %p, not its start\n", (void *)(p + 8), (void *)p);
	tu_assert_has(r, want);
	tu_assert_frame(r, "bad call to mp_free:", __func__, "unit_errors.c");
	tu_assert_frame(r, "allocated by:", "err_alloc_site", "unit_errors.c");
	tu_assert_lacks(r, "freed by:");
	free(r);

	r = tu_report(log, "invalid-free", 2);
	snprintf(want, sizeof want, "== mp_free(%p): address is at offset 8 of the "
		 "5000-byte block at %p, not its start\n", (void *)(q + 8), (void *)q);
	tu_assert_has(r, want);
	tu_assert_frame(r, "allocated by:", "err_alloc_site", "unit_errors.c");
	free(r);

	void *others[] = { &local, global_buf, h };
	for (int i = 0; i < 3; i++) {
		r = tu_report(log, "invalid-free", 3 + (unsigned)i);
		snprintf(want, sizeof want, "== mp_free(%p): address was not allocated "
			 "by this allocator", others[i]);
		tu_assert_has(r, want);
		tu_assert_frame(r, "bad call to mp_free:", __func__, "unit_errors.c");
		free(r);
	}
	free(log);
	free(h);

	struct mp_stats s = tu_stats();
	assert_int_equal(s.errors, 6);
	assert_int_equal(s.frees, 0);
	assert_int_equal(s.bytes_in_use, 5100);
	assert_int_equal(local, 7);
	/* the blocks behind the interior pointers are intact and still live */
	assert_int_equal(mp_usable_size(p), 100);
	assert_int_equal(mp_usable_size(q), 5000);
	mp_free(p);
	mp_free(q);

	/* the pool still works */
	size_t size = tu_log_size();
	for (int i = 0; i < 1000; i++) {
		size_t n = (size_t)(i * 37) % 6000 + 1;
		char *x = mp_alloc(n);
		assert_non_null(x);
		memset(x, i, n);
		mp_free(x);
	}
	s = tu_stats();
	assert_int_equal(s.errors, 6);
	assert_int_equal(s.allocs, 1002);
	assert_int_equal(s.frees, 1002);
	assert_int_equal(s.bytes_in_use, 0);
	assert_int_equal(mp_check(), 0);
	assert_int_equal(tu_log_size(), size);
}

/* ---- use after free --------------------------------------------------------------- */

static void uaf_case(size_t n, long off, size_t len, const char *test_fn)
{
	char want[256];
	char *p = err_alloc_site(n);
	assert_non_null(p);
	memset(p, 0, n);
	err_free_site(p);
	volatile char *vp = p;
	for (size_t i = 0; i < len; i++)
		vp[off + (long)i] = 0x33;
	assert_int_equal(mp_check(), 1);

	char *log = tu_log();
	char *rep = only_report(log, "use-after-free");
	snprintf(want, sizeof want, "== %zu byte%s written after free, first at "
		 "offset %ld (%p) of the %zu-byte block at %p\n", len,
		 len == 1 ? "" : "s", off, (void *)(p + off), n, (void *)p);
	tu_assert_has(rep, want);
	tu_assert_has(rep, "==   detected by mp_check:\n");
	tu_assert_frame(rep, "detected by mp_check:", test_fn, "unit_errors.c");
	tu_assert_frame(rep, "allocated by:", "err_alloc_site", "unit_errors.c");
	tu_assert_frame(rep, "==   freed by:", "err_free_site", "unit_errors.c");
	free(rep);
	free(log);
	assert_int_equal(tu_stats().errors, 1);

	size_t size = tu_log_size();
	assert_int_equal(mp_check(), 0); /* reported once */
	assert_int_equal(tu_log_size(), size);
	assert_int_equal(tu_stats().errors, 1);
}

static void test_use_after_free_slab(void **state)
{
	(void)state;
	uaf_case(100, 10, 1, __func__);
}

static void test_use_after_free_large(void **state)
{
	(void)state;
	/* freed blocks are poisoned over their first MP_POISON_MAX (256)
	 * bytes only (src/pool.h): write inside that span */
	uaf_case(5000, 200, 4, __func__);
}

static void test_use_after_free_at_eviction(void **state)
{
	(void)state;
	char want[256];
	/* quarantine_mb=1: a stale write is found when the block leaves */
	char *p = err_alloc_site(100);
	err_free_site(p);
	p[20] = 0;
	for (int i = 0; i < 4; i++)
		mp_free(mp_alloc(300000));
	char *log = tu_log();
	char *rep = only_report(log, "use-after-free");
	snprintf(want, sizeof want, "== 1 byte written after free, first at "
		 "offset 20 (%p) of the 100-byte block at %p\n", (void *)(p + 20),
		 (void *)p);
	tu_assert_has(rep, want);
	/* found by a sweep, not by a call: no detecting stack */
	tu_assert_has(rep, "==   detected by the quarantine eviction check\n");
	tu_assert_lacks(rep, "detected by quarantine eviction:");
	tu_assert_frame(rep, "allocated by:", "err_alloc_site", "unit_errors.c");
	tu_assert_frame(rep, "==   freed by:", "err_free_site", "unit_errors.c");
	free(rep);
	free(log);
	assert_int_equal(tu_stats().errors, 1);
	assert_int_equal(tu_stats().cls[2].quarantined, 0);
}

static void test_use_after_free_reported_once_then_evicted(void **state)
{
	(void)state;
	/* quarantine_mb=1: mp_check reports the stale write; the block's later
	 * eviction (which checks the poison again) must not report it again */
	char *p = err_alloc_site(100);
	err_free_site(p);
	p[0] = 0x77;
	assert_int_equal(mp_check(), 1);
	size_t size = tu_log_size();
	for (int i = 0; i < 4; i++)
		mp_free(mp_alloc(300000));
	struct mp_stats s = tu_stats();
	assert_int_equal(s.cls[2].quarantined, 0); /* p was evicted */
	assert_int_equal(s.errors, 1);
	assert_int_equal(tu_log_size(), size);
	char *log = tu_log();
	assert_int_equal(tu_count(log, "ERROR:"), 1);
	tu_assert_has(log, "== 1 byte written after free, first at offset 0 (");
	free(log);
}

/* ---- realloc of bad pointers -------------------------------------------------------- */

static void test_realloc_damaged_block(void **state)
{
	(void)state;
	char want[256];
	char *p = err_alloc_site(100);
	for (int i = 0; i < 100; i++)
		p[i] = (char)i;
	p[100] = 0; /* overflow by one */
	char *q = mp_realloc(p, 50);
	assert_non_null(q);
	for (int i = 0; i < 50; i++)
		assert_int_equal(q[i], i);
	char *log = tu_log();
	char *rep = only_report(log, "heap-buffer-overflow");
	snprintf(want, sizeof want, "== 1 guard byte changed, first at offset 100 "
		 "(%p) of the 100-byte block at %p (0 bytes after its end)\n",
		 (void *)(p + 100), (void *)p);
	tu_assert_has(rep, want);
	tu_assert_has(rep, "==   detected by realloc:\n");
	tu_assert_frame(rep, "detected by realloc:", __func__, "unit_errors.c");
	tu_assert_frame(rep, "allocated by:", "err_alloc_site", "unit_errors.c");
	free(rep);
	free(log);
	struct mp_stats s = tu_stats();
	assert_int_equal(s.errors, 1);
	assert_int_equal(s.allocs, 2);
	assert_int_equal(s.frees, 1);
	assert_int_equal(s.bytes_in_use, 50);
	mp_free(q);
	assert_int_equal(tu_stats().errors, 1);
}

static void test_realloc_invalid(void **state)
{
	(void)state;
	char want[256];
	char *p = err_alloc_site(100);
	char *d = err_alloc_site(100);
	err_free_site(d);

	errno = 0;
	assert_null(mp_realloc((void *)0x12345678, 10));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(mp_realloc(p + 16, 10));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(mp_realloc(d, 10)); /* already freed */
	assert_int_equal(errno, EINVAL);

	char *log = tu_log();
	assert_int_equal(tu_count(log, "ERROR:"), 3);
	char *r = tu_report(log, "invalid-free", 0);
	tu_assert_has(r, "== realloc(0x12345678): address was not allocated by "
		      "this allocator");
	tu_assert_has(r, "==   bad call to realloc:\n");
	tu_assert_frame(r, "bad call to realloc:", __func__, "unit_errors.c");
	free(r);
	r = tu_report(log, "invalid-free", 1);
	snprintf(want, sizeof want, "== realloc(%p): address is at offset 16 of the "
		 "100-byte block at %p, not its start\n", (void *)(p + 16), (void *)p);
	tu_assert_has(r, want);
	free(r);
	r = tu_report(log, "double-free", 0);
	assert_non_null(r);
	snprintf(want, sizeof want, "== realloc(%p): the 100-byte block at %p was "
		 "already freed\n", (void *)d, (void *)d);
	tu_assert_has(r, want);
	tu_assert_frame(r, "first freed by:", "err_free_site", "unit_errors.c");
	free(r);
	free(log);

	struct mp_stats s = tu_stats();
	assert_int_equal(s.errors, 3);
	assert_int_equal(s.allocs, 2);  /* nothing was allocated by the bad calls */
	assert_int_equal(s.frees, 1);
	assert_int_equal(mp_usable_size(p), 100);
	mp_free(p);
	assert_int_equal(tu_stats().errors, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, tu_teardown)
		T(test_overflow1_slab),
		T(test_overflow16_slab),
		T(test_overflow1_large),
		T(test_overflow16_large),
		T(test_overflow_far_slab),
		T(test_underflow1_slab),
		T(test_underflow1_large),
		T(test_underflow16_slab),
		T(test_check_counts_and_reports_once),
		T(test_check_both_guards_of_one_block),
		T(test_check_many_damaged_blocks),
		T(test_double_free_slab),
		T(test_double_free_large),
		cmocka_unit_test_setup_teardown(test_double_free_after_release,
						setup_q0, tu_teardown),
		cmocka_unit_test_setup_teardown(test_double_free_cached,
						setup_q0, tu_teardown),
		cmocka_unit_test_setup_teardown(test_double_free_cached,
						setup_q0_notc, tu_teardown),
		cmocka_unit_test_setup_teardown(test_bad_calls_without_stacks,
						setup_depth0, tu_teardown),
		T(test_invalid_frees),
		T(test_use_after_free_slab),
		T(test_use_after_free_large),
		cmocka_unit_test_setup_teardown(test_use_after_free_at_eviction,
						setup_q1, tu_teardown),
		cmocka_unit_test_setup_teardown(
			test_use_after_free_reported_once_then_evicted, setup_q1,
			tu_teardown),
		T(test_realloc_invalid),
		T(test_realloc_damaged_block),
#undef T
	};
	return cmocka_run_group_tests_name("unit_errors", tests, NULL, NULL);
}
