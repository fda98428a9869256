/* mpassert.h - the invariant tier, as mimalloc's and Scudo's:
 * MP_CHECK(cond) is always on and must stay cheap (a compare on a path
 * that does more than that anyway); MP_DCHECK(cond) is for expensive ones
 * (walks, recounts) and compiles only with -DMP_DEBUG (the sanitizer and
 * fuzz builds of mk/).  A failed invariant means the pool's own state is
 * wrong: one line naming it goes out with write(2), then abort(). */
#ifndef MP_ASSERT_H
#define MP_ASSERT_H

__attribute__((noreturn, cold)) void _mp_invariant_failed(const char *expr,
							const char *file,
							int line);

#define MP_CHECK(cond)                                                  \
	do {                                                            \
		if (__builtin_expect(!(cond), 0))                       \
			_mp_invariant_failed(#cond, __FILE__, __LINE__); \
	} while (0)

#ifdef MP_DEBUG
#define MP_DCHECK(cond) MP_CHECK(cond)
#else
#define MP_DCHECK(cond) ((void)sizeof(!(cond)))
#endif

#endif
