/* st_10m.c - ten million live blocks through the mp_* API (libmempool.a).
 *
 *   st_10m [BLOCKS=10000000] [MAX_SIZE=32]
 *
 * Allocates BLOCKS blocks of 1..MAX_SIZE bytes (by default all in the
 * 32-byte class: 64-byte slots, ~0.8 GB of slabs and metadata), writes a
 * tag into each, then checks mp_get_stats (allocs, in_use, bytes_in_use),
 * mp_check() over all of them and the live-block count of mp_dump_leaks();
 * then frees them all (tags checked) and checks the statistics again: frees,
 * in_use 0, bytes 0, quarantined within the quarantine budget, no error.
 * MPWRAP_OPTIONS comes from the environment (t_stress.sh sets log_path and
 * stack_depth=0: ten million stack captures would dominate the run).
 */
#include "stress.h"
#include "mempool.h"

static int failures;

#define CHECK(cond, ...)                                                  \
	do {                                                              \
		if (!(cond)) {                                            \
			printf("# FAIL " __VA_ARGS__);                    \
			putchar('\n');                                    \
			failures++;                                       \
		}                                                         \
	} while (0)

static size_t live_blocks(const struct mp_stats *st)
{
	size_t n = st->large_blocks;
	for (int c = 0; c < MP_NUM_CLASSES; c++)
		n += st->cls[c].in_use;
	return n;
}

static size_t quarantined(const struct mp_stats *st)
{
	size_t n = 0;
	for (int c = 0; c < MP_NUM_CLASSES; c++)
		n += st->cls[c].quarantined;
	return n;
}

int main(int argc, char **argv)
{
	size_t n = (size_t)st_arg(argc, argv, 1, 10000000);
	size_t maxsz = (size_t)st_arg(argc, argv, 2, 32);
	struct mp_stats st;
	setvbuf(stdout, NULL, _IONBF, 0);
	unsigned char **p = malloc(n * sizeof *p); /* libc's malloc, not the pool */
	if (!p || mp_init() != 0)
		return 2;

	double t0 = st_now();
	size_t bytes = 0;
	for (size_t i = 0; i < n; i++) {
		size_t sz = i % maxsz + 1;
		p[i] = mp_alloc(sz);
		if (!p[i]) {
			printf("# FAIL mp_alloc failed at block %zu\n", i);
			return 1;
		}
		p[i][sz - 1] = (unsigned char)(i >> 8);
		p[i][0] = (unsigned char)i; /* wins when sz == 1 */
		bytes += sz;
	}
	double t_alloc = st_now() - t0;
	mp_get_stats(&st);
	CHECK(st.allocs == n, "allocs %zu, expected %zu", st.allocs, n);
	CHECK(st.frees == 0, "frees %zu, expected 0", st.frees);
	CHECK(live_blocks(&st) == n, "in_use %zu, expected %zu", live_blocks(&st), n);
	CHECK(st.allocs - st.frees == live_blocks(&st), "books: allocs - frees %zu, "
	      "live %zu", st.allocs - st.frees, live_blocks(&st));
	CHECK(st.bytes_in_use == bytes, "bytes_in_use %zu, expected %zu",
	      st.bytes_in_use, bytes);
	size_t total = 0;
	for (int c = 0; c < MP_NUM_CLASSES; c++)
		total += st.cls[c].total;
	printf("# phase=alloc blocks=%zu bytes=%zu slots=%zu seconds=%.2f\n", n,
	       bytes, total, t_alloc);

	double t1 = st_now();
	int damaged = mp_check();
	double t_check = st_now() - t1;
	CHECK(damaged == 0, "mp_check() = %d", damaged);
	t1 = st_now();
	size_t leaks = mp_dump_leaks();
	double t_leaks = st_now() - t1;
	CHECK(leaks == n, "mp_dump_leaks() = %zu, expected %zu", leaks, n);
	printf("# phase=check mp_check=%d check_seconds=%.2f dump_leaks=%zu "
	       "dump_seconds=%.2f\n", damaged, t_check, leaks, t_leaks);

	t1 = st_now();
	size_t bad = 0;
	for (size_t i = 0; i < n; i++) {
		size_t sz = i % maxsz + 1;
		if (p[i][0] != (unsigned char)i ||
		    (sz > 1 && p[i][sz - 1] != (unsigned char)(i >> 8)))
			bad++;
		mp_free(p[i]);
	}
	double t_free = st_now() - t1;
	CHECK(bad == 0, "%zu blocks lost their tags", bad);
	mp_get_stats(&st);
	CHECK(st.frees == n, "frees %zu, expected %zu", st.frees, n);
	CHECK(live_blocks(&st) == 0, "in_use %zu after freeing all", live_blocks(&st));
	CHECK(st.allocs - st.frees == live_blocks(&st), "books: allocs - frees %zu, "
	      "live %zu", st.allocs - st.frees, live_blocks(&st));
	CHECK(st.bytes_in_use == 0, "bytes_in_use %zu after freeing all",
	      st.bytes_in_use);
	CHECK(st.peak_bytes == bytes, "peak_bytes %zu, expected %zu", st.peak_bytes,
	      bytes);
	CHECK(st.errors == 0, "%zu errors", st.errors);
	for (int c = 0; c < MP_NUM_CLASSES; c++)
		CHECK(st.cls[c].free == st.cls[c].total - st.cls[c].in_use -
					       st.cls[c].quarantined,
		      "class %zu: free %zu != total - in_use - quarantined",
		      st.cls[c].size, st.cls[c].free);
	printf("# phase=free blocks=%zu quarantined=%zu errors=%zu seconds=%.2f\n",
	       n, quarantined(&st), st.errors, t_free);
	printf("# blocks=%zu allocs=%zu frees=%zu errors=%zu keep=0 seconds=%.2f\n",
	       n, st.allocs, st.frees, st.errors, st_now() - t0);
	mp_destroy();
	free(p);
	return failures ? 1 : 0;
}
