/* mpwrap/cmocka_scope.h - cmocka: each test a leak scope (mpwrap/scope.h).
 * A test whose blocks are lost when it ends fails (its teardown fails, and
 * cmocka reports the test as failed, by name), with mpwrap's report of the
 * leaks printed; the other tests pass.
 *
 *   const struct CMUnitTest tests[] = {
 *       mpwrap_cmocka_unit_test(test_parse),
 *       ...
 *   };
 *
 * The test's name reaches the setup through cmocka's initial state
 * (cmocka_unit_test_prestate_setup_teardown); a test with a state of its
 * own calls mpwrap_cmocka_setup / mpwrap_cmocka_teardown from its own
 * setup and teardown with the name.  Include after <cmocka.h>.  Without
 * libmpwrap.so (or libmempool.a) nothing is checked.
 */
#ifndef MPWRAP_CMOCKA_SCOPE_H
#define MPWRAP_CMOCKA_SCOPE_H

#include <mpwrap/scope.h>

/* setup: begin the scope named *state (a test name string) */
static int mpwrap_cmocka_setup(void **state)
{
	mpwrap_scope_begin(state && *state ? (const char *)*state : NULL);
	return 0;
}

/* teardown: end it; the test fails (-1) when it lost blocks */
static int mpwrap_cmocka_teardown(void **state)
{
	long n = mpwrap_scope_end();
	if (n > 0) {
		print_error("mpwrap: %ld block%s leaked by %s\n", n, n == 1 ? "" : "s",
			    state && *state ? (const char *)*state : "this test");
		return -1;
	}
	return 0;
}

#define mpwrap_cmocka_unit_test(f) \
	cmocka_unit_test_prestate_setup_teardown(f, mpwrap_cmocka_setup, \
						 mpwrap_cmocka_teardown, (void *)#f)

#endif
