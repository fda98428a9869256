/* scopelog.c - the leaks each scope reported, for the exit report.
 *
 * A scope's lost blocks are reported by mp_scope_end and marked so that
 * neither a later check nor the exit scan lists them again (leaks.c,
 * MP_AUX_SCOPED); mpcheck reads only the exit JSON report, which lists
 * them here with their scope's name as their test.  Fixed tables (no
 * malloc): past them, groups are counted, not listed.
 */
#include "scopelog.h"
#include "mpassert.h"
#include "options.h"
#include "out.h"

#include <pthread.h>
#include <string.h>

#define MAX_GROUPS 4096
#define NAMES_BYTES 65536

struct logged {
	struct mp_leak_group g;
	uint32_t name; /* offset in names */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct logged groups[MAX_GROUPS];
static size_t ngroups;
static char names[NAMES_BYTES];
static size_t names_used;
static struct mp_scope_totals totals;

/* The name's offset in names: the last one again (a scope's groups come
 * together), else appended; a full table keeps the last slot's. */
static uint32_t last = UINT32_MAX;

static uint32_t intern(const char *scope)
{
	size_t n = strlen(scope) + 1;
	if (last != UINT32_MAX && strcmp(names + last, scope) == 0)
		return last;
	if (names_used + n > NAMES_BYTES)
		return last != UINT32_MAX ? last : 0;
	memcpy(names + names_used, scope, n);
	last = (uint32_t)names_used;
	names_used += n;
	MP_DCHECK(names_used <= NAMES_BYTES);
	return last;
}

void _mp_scopelog_add(const char *scope, const struct mp_leak_set *ls)
{
	pthread_mutex_lock(&lock);
	uint32_t name = intern(scope);
	int any = 0;
	for (size_t i = 0; i < ls->n; i++) {
		const struct mp_leak_group *g = &ls->g[i];
		if (g->kind == MP_K_REACHABLE)
			continue;
		any = 1;
		totals.bytes += g->bytes;
		totals.blocks += g->blocks;
		if (_mp_opt.leak_kinds & (1L << g->kind))
			totals.gated_blocks += g->blocks;
		if (ngroups < MAX_GROUPS)
			groups[ngroups++] = (struct logged){ *g, name };
	}
	totals.scopes += any;
	pthread_mutex_unlock(&lock);
}

void _mp_scopelog_totals(struct mp_scope_totals *t)
{
	pthread_mutex_lock(&lock);
	*t = totals;
	pthread_mutex_unlock(&lock);
}

size_t _mp_scopelog_json(struct mp_out *o, int first,
			 void (*stack)(struct mp_out *o, uint32_t id))
{
	/* the exit report runs alone: no scope adds meanwhile */
	for (size_t i = 0; i < ngroups; i++) {
		const struct mp_leak_group *g = &groups[i].g;
		_mp_out_printf(o, "%s\n{\"kind\":\"%s\",\"bytes\":%zu,\"blocks\":%zu,"
			       "\"test\":", first && !i ? "" : ",",
			       _mp_leak_kind_name(g->kind), g->bytes, g->blocks);
		_mp_out_json_str(o, names + groups[i].name);
		_mp_out_str(o, ",\"stack\":");
		stack(o, g->stack);
		_mp_out_str(o, "}");
	}
	return ngroups;
}

/* A forked child reports its own leaks only: its parent's scopes are its
 * parent's (the lock may have been held by another thread at the fork). */
void _mp_scopelog_child(void)
{
	pthread_mutex_init(&lock, NULL);
	ngroups = 0;
	names_used = 0;
	last = UINT32_MAX;
	totals = (struct mp_scope_totals){ 0 };
}
