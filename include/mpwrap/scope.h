/* mpwrap/scope.h - leak checks per test inside one process (mempool.h's
 * mp_scope_begin / mp_scope_end), declared weak: a program built with this
 * header links and runs without mpwrap too (the calls then do nothing and
 * find nothing), and checks each test's leaks when run under
 * LD_PRELOAD=libmpwrap.so (or mpcheck) or linked with libmempool.a.
 *
 *   mpwrap_scope_begin("suite.test");  ... the test ...
 *   if (mpwrap_scope_end() > 0) fail the test;
 *
 * The scope's blocks that no root reaches when it ends are reported as
 * "leaks in scope 'suite.test'" with their allocation stacks (and in the
 * JSON report with the scope's name as their test, which mpcheck lists),
 * and not again at exit.  One scope at a time per process; every thread's
 * allocations count in it.  Thread-safe; not from a signal handler.
 * Runner glue on top: mpwrap/gtest_listener.h (googletest),
 * mpwrap/cmocka_scope.h (cmocka), mpwrap/criterion_scope.h (Criterion),
 * MPWRAP_LEAK_TEST below (Unity-style or a plain test main).
 */
#ifndef MPWRAP_SCOPE_H
#define MPWRAP_SCOPE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

int mp_scope_begin(const char *name) __attribute__((weak));
long mp_scope_end(void) __attribute__((weak));
size_t mp_scope_report(char *buf, size_t cap) __attribute__((weak));

/* mp_scope_begin when the library is there: 0, or -1 (a scope is open). */
static inline int mpwrap_scope_begin(const char *name)
{
	return mp_scope_begin ? mp_scope_begin(name) : 0;
}

/* The scope's lost blocks (0 without the library), -1 when none is open. */
static inline long mpwrap_scope_end(void)
{
	if (!mp_scope_end)
		return 0;
	return mp_scope_end();
}

/* Runs a test body as a real call, never inlined into its caller (the
 * target is read from a volatile): the body's frames lie below the caller's
 * and its callee-saved registers are restored when it returns, so nothing
 * of the body's is left in the frame that ends the scope, which a scope's
 * check scans from (docs/mpcheck.md, "Scopes": which blocks). */
static inline void mpwrap_call_body(void (*fn)(void))
{
	void (*volatile body)(void) = fn;
	body();
}

/* Unity-style: run test function fn (void fn(void)) in a scope named after
 * it; the blocks it lost (0: none).  A plain test main:
 *   if (MPWRAP_LEAK_TEST(test_parse)) failures++; */
static inline long mpwrap_leak_test(const char *name, void (*fn)(void))
{
	long n;
	if (mpwrap_scope_begin(name) != 0)
		return 0; /* nested in another scope: that one judges */
	mpwrap_call_body(fn);
	n = mpwrap_scope_end();
	return n > 0 ? n : 0;
}
#define MPWRAP_LEAK_TEST(fn) mpwrap_leak_test(#fn, fn)

#ifdef __cplusplus
}
#endif
#endif
