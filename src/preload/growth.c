/* growth.c - reachable bytes per allocation site, check by check: the
 * sites whose reachable bytes keep growing (leak_check_growth), listed by
 * each periodic or on-demand check (longrun.c) as the likely leaks of a
 * program that never exits.  State in our own mappings, no malloc; called
 * with the scan gate held, one check at a time.
 */
#define _GNU_SOURCE
#include "growth.h"
#include "depot.h"
#include "options.h"
#include "vm.h"

#include <string.h>

#define MAX_GROW_LISTED 256 /* growing sites listed per report */

struct site {
	size_t last, now, now_blocks; /* reachable bytes at the previous check */
	size_t from;                  /* when the current growth began */
	unsigned long since;
	unsigned streak;              /* consecutive checks it grew at */
};
static struct site *sites; /* indexed by stack id */
static size_t nsites, sites_bytes;
static struct mp_growth grow[MAX_GROW_LISTED];

static int sites_fit(size_t need)
{
	if (need <= nsites)
		return 0;
	size_t n = need * 2, bytes = n * sizeof *sites;
	struct site *ns = _mp_map(bytes, 1);
	if (!ns)
		return -1;
	if (sites) {
		memcpy(ns, sites, nsites * sizeof *sites);
		_mp_unmap(sites, sites_bytes);
	}
	sites = ns;
	nsites = n;
	sites_bytes = bytes;
	return 0;
}

/* A site grows at check n when its reachable bytes exceed those of check
 * n-1 (a site that was not there had 0); growing after K such checks in a
 * row.  The first check only measures. */
void _mp_growth(const struct mp_leak_set *ls, struct mp_check_info *ci)
{
	unsigned k = (unsigned)_mp_opt.leak_check_growth;
	ci->grow = grow;
	ci->ngrow = ci->grow_total = 0;
	if (sites_fit((size_t)_mp_depot_count() + 1) != 0)
		return;
	for (size_t s = 0; s < nsites; s++)
		sites[s].now = sites[s].now_blocks = 0;
	for (size_t i = 0; i < ls->n; i++)
		if (ls->g[i].kind == MP_K_REACHABLE && ls->g[i].stack < nsites) {
			sites[ls->g[i].stack].now += ls->g[i].bytes;
			sites[ls->g[i].stack].now_blocks += ls->g[i].blocks;
		}
	for (size_t s = 1; s < nsites; s++) {
		struct site *t = &sites[s];
		if (ci->seq > 1 && t->now > t->last) {
			if (!t->streak++) {
				t->from = t->last;
				t->since = ci->seq - 1;
			}
		} else {
			t->streak = 0;
		}
		t->last = t->now;
		if (!k || t->streak < k)
			continue;
		ci->grow_total++;
		size_t j;
		if (ci->ngrow < MAX_GROW_LISTED)
			j = ci->ngrow++;
		else if (grow[MAX_GROW_LISTED - 1].bytes < t->now)
			j = MAX_GROW_LISTED - 1;
		else
			continue; /* full: the largest are kept */
		/* insertion, largest first */
		while (j > 0 && grow[j - 1].bytes < t->now) {
			grow[j] = grow[j - 1];
			j--;
		}
		grow[j] = (struct mp_growth){ (uint32_t)s, t->now, t->now_blocks,
					      t->from, t->since, t->streak };
	}
}

void _mp_growth_child(void)
{
	if (sites)
		memset(sites, 0, nsites * sizeof *sites);
}
