/* cmocka_scopes.c - cmocka with mpwrap's scope setup/teardown: each test a
 * leak scope; test_leaks_on_purpose fails, the others pass.
 *   cc -g examples/cmocka_scopes.c -Iinclude -lcmocka -o cmocka_scopes
 *   LD_PRELOAD=./libmpwrap.so ./cmocka_scopes
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <mpwrap/cmocka_scope.h>

#include <stdlib.h>
#include <string.h>

static char *cache; /* filled once, kept: reachable, no leak */

static char *dup_str(const char *s)
{
	char *p = malloc(strlen(s) + 1);
	strcpy(p, s);
	return p;
}

static void test_clean(void **state)
{
	(void)state;
	char *p = dup_str("clean");
	assert_string_equal(p, "clean");
	free(p);
}

static void test_leaks_on_purpose(void **state)
{
	(void)state;
	char *p = dup_str("lost");
	assert_string_equal(p, "lost"); /* and never freed */
}

static void test_fills_cache(void **state)
{
	(void)state;
	if (!cache)
		cache = dup_str("kept for the whole run");
	assert_non_null(cache);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		mpwrap_cmocka_unit_test(test_clean),
		mpwrap_cmocka_unit_test(test_leaks_on_purpose),
		mpwrap_cmocka_unit_test(test_fills_cache),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
