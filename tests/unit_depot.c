/* unit_depot.c - the stack depot (src/stack/depot.c) across the doublings
 * of its index (cmocka).
 *
 * test_levels: 100,000 distinct synthetic stacks (depths 1..16) are put,
 * which doubles the index eight times (at 512, 1,024, ... 65,536 records);
 * then every stack is put again and must get its first id back (found in
 * the table the last doubling filled), and every id
 * must give back its exact program counters.  Ids are distinct and dense.
 * test_threads: 4 threads put the same 20,000 stacks at once, in different
 * orders: each stack gets one id, whichever thread inserted it.
 */
#define _GNU_SOURCE
#include "testutil.h"
#include "depot.h"

#include <pthread.h>

#define NSTACKS 100000
#define MAXD 16
#define NTHREAD_STACKS 20000
#define NTHREADS 4

static void make_stack(uint32_t k, uintptr_t *pcs, unsigned *n)
{
	*n = 1 + k % MAXD;
	for (unsigned j = 0; j < *n; j++)
		pcs[j] = 0x400000 + (uintptr_t)k * 64 + j * 0x1000 + 1;
}

static uint32_t ids[NSTACKS];

static void test_levels(void **state)
{
	(void)state;
	_mp_depot_reset();
	uint32_t base = _mp_depot_count();
	uintptr_t pcs[MAXD];
	unsigned n;
	for (uint32_t k = 0; k < NSTACKS; k++) {
		make_stack(k, pcs, &n);
		ids[k] = _mp_depot_put(pcs, n);
		assert_int_equal(ids[k], base + k + 1);
	}
	for (uint32_t k = 0; k < NSTACKS; k++) {
		make_stack(k, pcs, &n);
		assert_int_equal(_mp_depot_put(pcs, n), ids[k]);
		const uintptr_t *got;
		assert_int_equal(_mp_depot_get(ids[k], &got), n);
		assert_memory_equal(got, pcs, n * sizeof *pcs);
	}
	assert_int_equal(_mp_depot_count(), base + NSTACKS);
}

static uint32_t tids[NTHREADS][NTHREAD_STACKS];

static void *putter(void *arg)
{
	int t = (int)(intptr_t)arg;
	uintptr_t pcs[MAXD];
	unsigned n;
	for (uint32_t i = 0; i < NTHREAD_STACKS; i++) {
		/* thread t walks the stacks in its own order (a multiplier
		 * prime to NTHREAD_STACKS: a permutation) */
		static const uint32_t mul[NTHREADS] = { 1, 3, 7, 9 };
		uint32_t k = (i * mul[t] + (uint32_t)t * 7919) % NTHREAD_STACKS;
		make_stack(k, pcs, &n);
		tids[t][k] = _mp_depot_put(pcs, n);
	}
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	_mp_depot_reset();
	pthread_t th[NTHREADS];
	for (int t = 0; t < NTHREADS; t++)
		assert_int_equal(pthread_create(&th[t], NULL, putter, (void *)(intptr_t)t), 0);
	for (int t = 0; t < NTHREADS; t++)
		pthread_join(th[t], NULL);
	assert_int_equal(_mp_depot_count(), NTHREAD_STACKS);
	uintptr_t pcs[MAXD];
	unsigned n;
	for (uint32_t k = 0; k < NTHREAD_STACKS; k++) {
		assert_true(tids[0][k] != 0);
		for (int t = 1; t < NTHREADS; t++)
			assert_int_equal(tids[t][k], tids[0][k]);
		make_stack(k, pcs, &n);
		const uintptr_t *got;
		assert_int_equal(_mp_depot_get(tids[0][k], &got), n);
		assert_memory_equal(got, pcs, n * sizeof *pcs);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests_name("unit_depot", tests, NULL, NULL);
}
