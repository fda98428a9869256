/* unit_threads.c - the pool under concurrent use (cmocka).
 *
 * test_stress: 8 threads x MPWRAP_UNIT_ITERS (default 100000) random
 * operations on a window of up to 64 live blocks each (sizes 1..6000, so
 * both slabs and large blocks), every block filled with a pattern that is
 * verified before it is freed or reallocated.
 * test_check_while_allocating: 4 such allocator threads while 4 more call
 * mp_check() and mp_get_stats() in a loop.
 * test_arenas_cross_thread: two threads allocate at once from their own
 * arenas (stats add up over arenas), a third frees their blocks (frees
 * cross arenas) and a double free from yet another thread is reported once
 * with the allocating thread's stack.
 * test_check_vs_stalled_allocator: one thread allocates and frees while
 * another runs mp_check() in a loop; the allocating thread is stalled at
 * random points MPWRAP_UNIT_STALLS times (default 10000; a signal whose
 * handler spins for 30 us), so that the checker gets to run inside every
 * short window of the allocation path.  This
 * found mp_check reporting false overflows on slots whose guards were
 * filled after the class lock was dropped (fixed in e6279c1).
 *
 * Worker threads never call cmocka asserts (not thread-safe): they count
 * failures, and the main thread asserts on the counts.  Stacks are kept
 * short (stack_depth=4) to keep the run time low.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>

#define WINDOW 64
#define MAX_SIZE 6000
#define REF_LEN (MAX_SIZE + 4096)

static unsigned char ref[REF_LEN]; /* read-only pattern source */
static long iters;

static int setup_stress(void **state)
{
	(void)state;
	return tu_start("stack_depth=4");
}

static int setup_check(void **state)
{
	(void)state;
	/* mp_check scans every quarantined block: keep the quarantine small */
	return tu_start("stack_depth=4:quarantine_mb=4");
}

static int setup_stall(void **state)
{
	(void)state;
	/* no quarantine: the same slots are reused at once, so a slot's rear
	 * guard area still holds the previous block's bytes before the fill */
	return tu_start("stack_depth=4:quarantine_mb=0");
}

static int teardown(void **state)
{
	(void)state;
	return tu_stop();
}

static uint64_t next_rand(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

struct worker {
	pthread_t tid;
	unsigned id;
	long iters;
	/* what the pool should have counted */
	size_t allocs, frees;
	/* failures seen by the thread */
	size_t null_allocs, misaligned, bad_usable, bad_pattern, not_zero;
};

struct slot {
	unsigned char *p;
	size_t n;
	unsigned off; /* the block holds ref[off .. off + n) */
};

static int pattern_ok(const struct slot *s)
{
	return memcmp(s->p, ref + s->off, s->n) == 0;
}

static void give(struct worker *w, struct slot *s, unsigned char *p, size_t n,
		 uint64_t *rng)
{
	if ((uintptr_t)p % 16)
		w->misaligned++;
	if (mp_usable_size(p) != n)
		w->bad_usable++;
	s->p = p;
	s->n = n;
	s->off = (unsigned)(next_rand(rng) % (REF_LEN - MAX_SIZE));
	memcpy(p, ref + s->off, n);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct slot win[WINDOW];
	uint64_t rng = 0x9E3779B97F4A7C15ULL * (w->id + 1);

	memset(win, 0, sizeof win);
	for (long i = 0; i < w->iters; i++) {
		uint64_t r = next_rand(&rng);
		struct slot *s = &win[r % WINDOW];
		unsigned op = (unsigned)(r >> 32) % 10;
		if (!s->p) {
			size_t n = next_rand(&rng) % MAX_SIZE + 1;
			unsigned char *p;
			if (op == 0) {
				p = mp_calloc(1, n);
				if (p && (p[0] || p[n - 1] || p[n / 2]))
					w->not_zero++;
			} else {
				p = mp_alloc(n);
			}
			if (!p) {
				w->null_allocs++;
				continue;
			}
			w->allocs++;
			give(w, s, p, n, &rng);
		} else if (op < 2) {
			/* realloc: one more allocation and one more free */
			size_t n = next_rand(&rng) % MAX_SIZE + 1;
			size_t keep = n < s->n ? n : s->n;
			unsigned off = s->off;
			if (!pattern_ok(s))
				w->bad_pattern++;
			unsigned char *p = mp_realloc(s->p, n);
			if (!p) {
				w->null_allocs++;
				s->p = NULL; /* leaked on purpose: counted */
				continue;
			}
			w->allocs++;
			w->frees++;
			if (memcmp(p, ref + off, keep) != 0)
				w->bad_pattern++;
			give(w, s, p, n, &rng);
		} else {
			if (!pattern_ok(s))
				w->bad_pattern++;
			mp_free(s->p);
			w->frees++;
			s->p = NULL;
		}
	}
	for (int j = 0; j < WINDOW; j++) {
		if (!win[j].p)
			continue;
		if (!pattern_ok(&win[j]))
			w->bad_pattern++;
		mp_free(win[j].p);
		w->frees++;
	}
	return NULL;
}

static void start_workers(struct worker *w, unsigned n, long each)
{
	for (unsigned i = 0; i < n; i++) {
		memset(&w[i], 0, sizeof w[i]);
		w[i].id = i;
		w[i].iters = each;
		if (pthread_create(&w[i].tid, NULL, worker_main, &w[i]) != 0)
			abort();
	}
}

static void join_workers(struct worker *w, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (pthread_join(w[i].tid, NULL) != 0)
			abort(); /* the pool must not be destroyed under a live thread */
}

/* Assert the per-thread counts (after every thread is joined); return the
 * allocations made. */
static size_t check_workers(const struct worker *w, unsigned n)
{
	size_t allocs = 0, frees = 0;

	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(w[i].null_allocs, 0);
		assert_int_equal(w[i].misaligned, 0);
		assert_int_equal(w[i].bad_usable, 0);
		assert_int_equal(w[i].bad_pattern, 0);
		assert_int_equal(w[i].not_zero, 0);
		assert_int_equal(w[i].allocs, w[i].frees);
		assert_true(w[i].allocs > (size_t)w[i].iters / 4);
		allocs += w[i].allocs;
		frees += w[i].frees;
	}
	assert_int_equal(allocs, frees);
	return allocs;
}

static void assert_pool_empty(size_t allocs)
{
	struct mp_stats st = tu_stats();
	assert_int_equal(st.errors, 0);
	for (int c = 0; c < MP_NUM_CLASSES; c++) {
		assert_int_equal(st.cls[c].in_use, 0);
		assert_int_equal(st.cls[c].in_use + st.cls[c].quarantined +
				 st.cls[c].free, st.cls[c].total);
	}
	assert_int_equal(st.large_blocks, 0);
	assert_int_equal(st.large_bytes, 0);
	assert_int_equal(st.bytes_in_use, 0);
	assert_int_equal(st.allocs, allocs);
	assert_int_equal(st.frees, allocs);
	assert_true(st.peak_bytes > 0);
	assert_int_equal(mp_check(), 0);
	assert_int_equal(mp_dump_leaks(), 0);
	char *log = tu_log();
	if (tu_count(log, "ERROR:")) {
		tu_dump("unexpected reports:", strstr(log, "ERROR:"), 40);
		fail_msg("%zu unexpected reports", tu_count(log, "ERROR:"));
	}
	free(log);
}

static void test_stress(void **state)
{
	(void)state;
	struct worker w[8];

	start_workers(w, 8, iters);
	join_workers(w, 8);
	size_t allocs = check_workers(w, 8);
	print_message("# stress: 8 threads x %ld ops, %zu allocations\n", iters,
		      allocs);
	assert_pool_empty(allocs);
}

struct checker {
	pthread_t tid;
	size_t rounds, damaged, inconsistent, errors_seen;
};

static atomic_int stop_checkers;

static void *checker_main(void *arg)
{
	struct checker *c = arg;

	while (!atomic_load(&stop_checkers)) {
		int k = mp_check();
		if (k != 0)
			c->damaged += (size_t)k;
		struct mp_stats st;
		mp_get_stats(&st);
		for (int i = 0; i < MP_NUM_CLASSES; i++)
			if (st.cls[i].in_use + st.cls[i].quarantined + st.cls[i].free !=
			    st.cls[i].total)
				c->inconsistent++;
		if (st.errors)
			c->errors_seen++;
		c->rounds++;
	}
	return NULL;
}

static void test_check_while_allocating(void **state)
{
	(void)state;
	struct worker w[4];
	struct checker c[4];

	atomic_store(&stop_checkers, 0);
	memset(c, 0, sizeof c);
	for (int i = 0; i < 4; i++)
		if (pthread_create(&c[i].tid, NULL, checker_main, &c[i]) != 0)
			abort();
	start_workers(w, 4, iters / 2);
	join_workers(w, 4);
	atomic_store(&stop_checkers, 1);
	for (int i = 0; i < 4; i++)
		if (pthread_join(c[i].tid, NULL) != 0)
			abort();
	size_t allocs = check_workers(w, 4);
	size_t rounds = 0, damaged = 0, inconsistent = 0, errors_seen = 0;
	for (int i = 0; i < 4; i++) {
		rounds += c[i].rounds;
		damaged += c[i].damaged;
		inconsistent += c[i].inconsistent;
		errors_seen += c[i].errors_seen;
		assert_true(c[i].rounds > 0);
	}
	print_message("# check: 4 threads x %ld ops, %zu allocations, %zu check "
		      "rounds, %zu damaged blocks reported\n", iters / 2, allocs,
		      rounds, damaged);
	if (damaged) {
		char *log = tu_log();
		tu_dump("first report:", strstr(log, "ERROR:"), 24);
		free(log);
	}
	assert_int_equal(damaged, 0);
	assert_int_equal(errors_seen, 0);
	assert_int_equal(inconsistent, 0);
	assert_pool_empty(allocs);
}

/* ---- mp_check against an allocator stalled at random points ------------- */

static void spin_handler(int sig)
{
	struct timespec a, b;

	(void)sig;
	clock_gettime(CLOCK_MONOTONIC, &a);
	do
		clock_gettime(CLOCK_MONOTONIC, &b);
	while ((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) < 30000);
}

struct stalled {
	atomic_int stop;
	size_t allocs, nulls;
};

static void *stalled_alloc_main(void *arg)
{
	/* slab sizes only (large blocks are guarded before they are published);
	 * alternating sizes leave stale bytes where the next rear guard goes */
	static const size_t sizes[] = { 1, 32, 1, 32, 65, 128 };
	struct stalled *st = arg;

	for (long i = 0; !atomic_load_explicit(&st->stop, memory_order_relaxed); i++) {
		size_t n = sizes[i % 6];
		char *p = mp_alloc(n);
		if (!p) {
			st->nulls++;
			continue;
		}
		st->allocs++;
		p[0] = 1;
		p[n - 1] = 2;
		mp_free(p);
	}
	return NULL;
}

static void test_check_vs_stalled_allocator(void **state)
{
	(void)state;
	struct sigaction sa, old;
	struct stalled a;
	struct checker c;
	pthread_t at;
	long stalls = tu_env_long("MPWRAP_UNIT_STALLS", 10000);

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = spin_handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
	atomic_store(&stop_checkers, 0);
	memset(&c, 0, sizeof c);
	memset(&a, 0, sizeof a);
	if (pthread_create(&c.tid, NULL, checker_main, &c) != 0)
		abort();
	if (pthread_create(&at, NULL, stalled_alloc_main, &a) != 0)
		abort();
	for (long k = 0; k < stalls; k++) {
		pthread_kill(at, SIGUSR1);
		usleep(20);
	}
	atomic_store(&a.stop, 1);
	atomic_store(&stop_checkers, 1);
	if (pthread_join(at, NULL) != 0 || pthread_join(c.tid, NULL) != 0)
		abort();
	assert_int_equal(sigaction(SIGUSR1, &old, NULL), 0);
	print_message("# stalled: %zu allocations, %ld stalls, %zu check rounds, "
		      "%zu damaged blocks reported\n", a.allocs, stalls, c.rounds,
		      c.damaged);
	if (c.damaged) {
		char *log = tu_log();
		tu_dump("first report:", strstr(log, "ERROR:"), 24);
		free(log);
	}
	assert_int_equal(a.nulls, 0);
	assert_int_equal(c.damaged, 0);
	assert_int_equal(c.errors_seen, 0);
	assert_int_equal(c.inconsistent, 0);
	assert_true(c.rounds > 0);
	assert_pool_empty(a.allocs);
}

/* ---- arenas: blocks cross threads ---------------------------------------- */

#define HELD 200
static void *held[2][HELD];
static pthread_barrier_t both;

static TU_NOINLINE void *arena_alloc_site(void)
{
	return mp_alloc(24);
}

static void *hold_blocks(void *arg)
{
	void **mine = arg;
	pthread_barrier_wait(&both); /* both threads allocate at the same time */
	for (int i = 0; i < HELD; i++)
		mine[i] = arena_alloc_site();
	return NULL;
}

static void *free_blocks(void *arg)
{
	void **all = arg;
	for (int i = 0; i < 2 * HELD; i++)
		mp_free(all[i]);
	return NULL;
}

static void *free_again(void *arg)
{
	mp_free(arg);
	return NULL;
}

static void test_arenas_cross_thread(void **state)
{
	(void)state;
	pthread_t t[2];
	pthread_barrier_init(&both, NULL, 2);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hold_blocks, held[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&both);

	struct mp_stats st = tu_stats();
	assert_int_equal(st.cls[0].in_use, 2 * HELD);
	assert_int_equal(st.bytes_in_use, 2 * HELD * 24);
	/* two new threads take two different arenas: one 1 MiB slab of
	 * 64-byte slots (32 + 32 guard bytes) each */
	assert_int_equal(st.cls[0].total, 2 * ((1u << 20) / 64));

	pthread_t f;
	assert_int_equal(pthread_create(&f, NULL, free_blocks, held), 0);
	pthread_join(f, NULL);
	st = tu_stats();
	assert_int_equal(st.cls[0].in_use, 0);
	assert_int_equal(st.cls[0].quarantined, 2 * HELD);
	assert_int_equal(st.bytes_in_use, 0);
	assert_int_equal(st.allocs, 2 * HELD);
	assert_int_equal(st.frees, 2 * HELD);

	assert_int_equal(pthread_create(&f, NULL, free_again, held[1][7]), 0);
	pthread_join(f, NULL);
	st = tu_stats();
	assert_int_equal(st.errors, 1);
	assert_int_equal(mp_check(), 0);
	char *log = tu_log();
	assert_int_equal(tu_count(log, "ERROR:"), 1);
	char *rep = tu_report(log, "double-free", 0);
	assert_non_null(rep);
	tu_assert_frame(rep, "allocated by:", "arena_alloc_site", "unit_threads.c");
	tu_assert_frame(rep, "first freed by:", "free_blocks", "unit_threads.c");
	free(rep);
	free(log);
}

/* ---- per-thread caches (thread_cache=1, src/heap/tcache.h) ------------------
 * A class-0 slab holds exactly SLAB0 slots (1 MiB / (32 + 32 guard bytes)).
 * A thread that fills one and frees it all, then exits, leaves up to 32 of
 * those slots in its cache: unless its exit hands them back, the next
 * thread on that arena cannot fill the slab again and maps a second one. */
#define SLAB0 ((1u << 20) / 64)
#define EXITERS 100

static void *fill_slab0(void *arg)
{
	void **v = arg;
	for (unsigned i = 0; i < SLAB0; i++)
		v[i] = mp_alloc(24);
	for (unsigned i = 0; i < SLAB0; i++)
		mp_free(v[i]);
	return NULL;
}

static void test_tcache_thread_exit(void **state)
{
	(void)state;
	void **v = malloc(SLAB0 * sizeof *v);
	assert_non_null(v);
	/* one at a time: thread k and k + 8 share an arena (round-robin) */
	for (int t = 0; t < EXITERS; t++) {
		pthread_t tid;
		assert_int_equal(pthread_create(&tid, NULL, fill_slab0, v), 0);
		pthread_join(tid, NULL);
	}
	free(v);
	struct mp_stats st = tu_stats();
	assert_int_equal(st.cls[0].in_use, 0);
	assert_int_equal(st.allocs, (size_t)EXITERS * SLAB0);
	assert_int_equal(st.frees, (size_t)EXITERS * SLAB0);
	assert_int_equal(st.bytes_in_use, 0);
	/* every arena's slab was filled again by each later thread on it */
	assert_int_equal(st.cls[0].total, 8 * SLAB0);
	assert_int_equal(st.errors, 0);
}

/* Fork while 8 threads sit on cached slots of class 0 (one of them on the
 * forking thread's arena): the child gets them back, so it fills its
 * arena's one slab without mapping another, and its books balance. */
static pthread_barrier_t forkers;

static void *cache_and_wait(void *arg)
{
	(void)arg;
	void *v[100];
	for (int i = 0; i < 100; i++)
		v[i] = mp_alloc(24);
	for (int i = 0; i < 100; i++)
		mp_free(v[i]); /* the last 32 stay in this thread's cache */
	pthread_barrier_wait(&forkers); /* cached */
	pthread_barrier_wait(&forkers); /* forked */
	return NULL;
}

static int child_fills_slab0(void)
{
	struct mp_stats st;
	mp_get_stats(&st);
	size_t total = st.cls[0].total;
	if (st.cls[0].in_use != 0 || total != 8 * SLAB0)
		return 10;
	void **v = malloc(SLAB0 * sizeof *v);
	if (!v)
		return 11;
	for (unsigned i = 0; i < SLAB0; i++)
		if (!(v[i] = mp_alloc(24)))
			return 12;
	mp_get_stats(&st);
	if (st.cls[0].in_use != SLAB0)
		return 13;
	if (st.cls[0].total != total)
		return 14; /* a slot stayed in a dead thread's cache */
	for (unsigned i = 0; i < SLAB0; i++)
		mp_free(v[i]);
	free(v);
	mp_get_stats(&st);
	if (st.cls[0].in_use != 0 || st.errors != 0 || mp_check() != 0)
		return 15;
	return 0;
}

#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif

static void test_tcache_fork(void **state)
{
	(void)state;
#ifdef UNDER_TSAN
	/* fork's prepare handler holds every class lock at once (65 and
	 * more), past the 64 ThreadSanitizer's deadlock detector can track */
	skip();
#endif
	pthread_t t[8];
	mp_free(mp_alloc(24)); /* this thread has its arena and cache */
	pthread_barrier_init(&forkers, NULL, 9);
	for (int i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&t[i], NULL, cache_and_wait, NULL), 0);
	pthread_barrier_wait(&forkers);
	pid_t pid = fork();
	if (pid == 0)
		_exit(child_fills_slab0());
	pthread_barrier_wait(&forkers);
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&forkers);
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	struct mp_stats st = tu_stats();
	assert_int_equal(st.cls[0].in_use, 0);
	assert_int_equal(st.allocs, 1 + 8 * 100);
	assert_int_equal(st.frees, 1 + 8 * 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stress, setup_stress, teardown),
		cmocka_unit_test_setup_teardown(test_check_while_allocating,
						setup_check, teardown),
		cmocka_unit_test_setup_teardown(test_arenas_cross_thread,
						setup_stress, teardown),
		cmocka_unit_test_setup_teardown(test_check_vs_stalled_allocator,
						setup_stall, teardown),
		cmocka_unit_test_setup_teardown(test_tcache_thread_exit,
						setup_stall, teardown),
		cmocka_unit_test_setup_teardown(test_tcache_fork,
						setup_stall, teardown),
	};
	uint64_t rng = 12345;

	for (size_t i = 0; i < REF_LEN; i++)
		ref[i] = (unsigned char)next_rand(&rng);
	iters = tu_env_long("MPWRAP_UNIT_ITERS", 100000);
	return cmocka_run_group_tests_name("unit_threads", tests, NULL, NULL);
}
