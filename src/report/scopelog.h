/* scopelog.h - the leaks scopes reported (mp_scope_end), kept for the exit
 * report: its JSON lists them with their scope as "test", its text counts
 * them, and they make the exit status (exitcode) as the exit scan's would. */
#ifndef MP_SCOPELOG_H
#define MP_SCOPELOG_H

#include "leaks.h"

struct mp_out;

/* The lost groups (every kind but reachable) of a scope's check. */
void _mp_scopelog_add(const char *scope, const struct mp_leak_set *ls);

/* What scopes reported: bytes and blocks of the lost kinds, blocks of the
 * kinds leak_kinds gates on, and how many scope checks found any. */
struct mp_scope_totals {
	size_t bytes, blocks, gated_blocks, scopes;
};
void _mp_scopelog_totals(struct mp_scope_totals *t);

/* The logged groups as members of the JSON "leaks" list, each after a
 * comma (first: none before the first), with "test": its scope;
 * stack(o, id) writes a stack as json.c does.  Returns how many. */
size_t _mp_scopelog_json(struct mp_out *o, int first,
			 void (*stack)(struct mp_out *o, uint32_t id));

/* In a forked child: nothing logged (its parent's scopes are not its). */
void _mp_scopelog_child(void);

#endif
