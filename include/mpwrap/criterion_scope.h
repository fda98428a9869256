/* mpwrap/criterion_scope.h - Criterion: each test a leak scope
 * (mpwrap/scope.h).  A test whose blocks are lost when it ends fails, by
 * name, with mpwrap's report of the leaks in its failure message; the
 * other tests pass.  Write MPWRAP_TEST where Test stands:
 *
 *   MPWRAP_TEST(parser, empty) { ... }
 *   MPWRAP_TEST(parser, slow, .timeout = 10) { ... }
 *
 * The scope, named "suite::test", is the test body: Criterion's fini hook
 * cannot fail a test (its assertions are shown, the status stays), so the
 * check runs at the end of the body.  A body that stops at a failed
 * assertion has failed already and leaves its scope open, which only
 * matters with --no-fork (each test is then not its own process: the next
 * scopes begin with -1 and check nothing).  Include after
 * <criterion/criterion.h>.  Without libmpwrap.so nothing is checked.
 */
#ifndef MPWRAP_CRITERION_SCOPE_H
#define MPWRAP_CRITERION_SCOPE_H

#include <mpwrap/scope.h>

/* the end of a test's scope: fails the test when it lost blocks */
static void mpwrap_criterion_end(void)
{
	static char report[4096];
	long n = mpwrap_scope_end();
	if (n <= 0)
		return;
	report[0] = '\0';
	if (mp_scope_report)
		mp_scope_report(report, sizeof report);
	cr_assert_fail("mpwrap: %ld block%s leaked by this test:\n%s", n,
		       n == 1 ? "" : "s", report);
}

#define MPWRAP_TEST(Suite, Name, ...)                                    \
	static void mpwrap_body_##Suite##_##Name(void);                  \
	Test(Suite, Name, ##__VA_ARGS__)                                 \
	{                                                                \
		mpwrap_scope_begin(#Suite "::" #Name);                   \
		mpwrap_call_body(mpwrap_body_##Suite##_##Name);          \
		mpwrap_criterion_end();                                  \
	}                                                                \
	static void mpwrap_body_##Suite##_##Name(void)

#endif
