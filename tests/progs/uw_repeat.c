/* uw_repeat.c - one malloc and one free call site reached over and over
 * along changing paths (t_unwind.sh).
 *
 * The fast walker replays the last walk of each call site and keeps the
 * depot id beside it (src/stack/unwind.c, stack.c): a replay must never
 * hand out the frames, or the id, of another path to the same site.  Here
 * the same two sites (UR_SITE, UR_FREE) are reached from three callers and
 * at recursion depths 0..6, in an order that changes the path at almost
 * every call, and one block in ten is leaked: the leak report, grouped by
 * allocation stack, must be the same as libunwind's (unwinder=0).
 */
#include <stdlib.h>
#include <string.h>

#include "tprog.h"

TP_NOINLINE static void *site(size_t n)
{
	void *p = malloc(n); /* UR_SITE */
	tp_escape(p);
	return p;
}

TP_NOINLINE static void drop(void *p)
{
	free(p); /* UR_FREE */
	TP_NO_TAILCALL();
}

TP_NOINLINE static void *via_a(size_t n)
{
	void *p = site(n);
	TP_NO_TAILCALL();
	return p;
}

TP_NOINLINE static void *via_b(size_t n)
{
	void *p = site(n + 8);
	TP_NO_TAILCALL();
	return p;
}

TP_NOINLINE static void *deep(int d, size_t n)
{
	void *p = d ? deep(d - 1, n) : via_a(n);
	TP_NO_TAILCALL();
	return p;
}

TP_NOINLINE static void drop_deep(int d, void *p)
{
	if (d)
		drop_deep(d - 1, p);
	else
		drop(p);
	TP_NO_TAILCALL();
}

static void *leaked[400];

int main(void)
{
	unsigned x = 12345, nleak = 0;
	for (int i = 0; i < 4000; i++) {
		x = x * 1103515245u + 12345u;
		int d = (int)((x >> 16) % 7);
		void *p;
		switch ((x >> 8) % 3) {
		case 0: p = via_a(16); break;
		case 1: p = via_b(16); break;
		default: p = deep(d, 32); break;
		}
		memset(p, 1, 16);
		if (i % 10 == 0 && nleak < 400)
			leaked[nleak++] = p; /* dropped below: leaked */
		else
			drop_deep(d, p);
	}
	/* the pointers go: every kept block is now definitely lost */
	memset(tp_launder(leaked), 0, sizeof leaked);
	return 0;
}
