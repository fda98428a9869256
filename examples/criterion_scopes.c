/* criterion_scopes.c - Criterion with mpwrap's MPWRAP_TEST: each test a
 * leak scope; scopes::leaks_on_purpose fails, the others pass (a block a
 * static keeps is no leak).
 *   cc -g examples/criterion_scopes.c -Iinclude -lcriterion -o criterion_scopes
 *   LD_PRELOAD=./libmpwrap.so ./criterion_scopes
 */
#include <criterion/criterion.h>
#include <mpwrap/criterion_scope.h>

#include <stdlib.h>
#include <string.h>

static char *dup_str(const char *s)
{
	char *p = malloc(strlen(s) + 1);
	strcpy(p, s);
	return p;
}

MPWRAP_TEST(scopes, clean)
{
	char *p = dup_str("clean");
	cr_assert_str_eq(p, "clean");
	free(p);
}

MPWRAP_TEST(scopes, leaks_on_purpose)
{
	char *p = dup_str("lost");
	cr_assert_str_eq(p, "lost"); /* and never freed */
}

MPWRAP_TEST(scopes, fills_cache)
{
	static char *cache; /* filled once, kept: reachable, no leak */
	if (!cache)
		cache = dup_str("kept for the whole run");
	cr_assert_not_null(cache);
}

MPWRAP_TEST(scopes, also_clean, .timeout = 30)
{
	char *p = dup_str("also");
	cr_assert_eq(p[1], 'l');
	free(p);
}
