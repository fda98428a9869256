/* heapsort.h - HEAPSORT(name, type, key): an in-place heap sort of an array
 * of type by its member key, as static functions name and name_sift.
 *
 * The leak scan sorts while it holds every pool lock and the threads are
 * stopped: no malloc, no qsort (it may allocate), and linearithmic.  A
 * header of its own: a generic tool, not part of the scan's logic.
 */
#ifndef MP_HEAPSORT_H
#define MP_HEAPSORT_H

#include <stddef.h>

/* In-place heap sorts (no malloc, no qsort): exit with 400k large blocks
 * must stay linearithmic. */
#define HEAPSORT(name, type, key)                                          \
	static void name##_sift(type *a, size_t i, size_t n)               \
	{                                                                  \
		for (;;) {                                                 \
			size_t c = 2 * i + 1;                              \
			if (c >= n)                                        \
				return;                                    \
			if (c + 1 < n && a[c].key < a[c + 1].key)          \
				c++;                                       \
			if (!(a[i].key < a[c].key))                        \
				return;                                    \
			type t = a[i];                                     \
			a[i] = a[c];                                       \
			a[c] = t;                                          \
			i = c;                                             \
		}                                                          \
	}                                                                  \
	static void name(type *a, size_t n)                                \
	{                                                                  \
		for (size_t i = n / 2; i-- > 0;)                           \
			name##_sift(a, i, n);                              \
		for (size_t end = n; end-- > 1;) {                         \
			type t = a[0];                                     \
			a[0] = a[end];                                     \
			a[end] = t;                                        \
			name##_sift(a, 0, end);                            \
		}                                                          \
	}

#endif
