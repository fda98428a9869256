/* jsonprof.c - the JSON report's "profile" section (profile=1): every
 * allocation site's figures (stack/profile.c), what is left of it by leak
 * kind, and the heap size over time (docs/json-report.md).
 *
 * Written with the rest of the report (exit, on-demand checks, SIGTERM), no
 * malloc: the per-site leak figures are gathered in a scratch table of our
 * own pages, indexed by stack id, unmapped when done.  Sites come in stack
 * id order (first seen first); readers sort by the measure they want.
 */
#define _GNU_SOURCE
#include "json.h"
#include "options.h"
#include "out.h"
#include "profile.h"
#include "vm.h"

#include <string.h>

struct left {
	size_t bytes[MP_K_NKINDS], blocks[MP_K_NKINDS];
};

/* The leak set's groups, added up per stack id below `n` (NULL: no room). */
static struct left *left_by_site(const struct mp_leak_set *ls, size_t n,
				 size_t *len)
{
	*len = n * sizeof(struct left);
	struct left *t = _mp_map(*len, 1);
	if (!t)
		return NULL;
	for (size_t i = 0; i < ls->n; i++) {
		const struct mp_leak_group *g = &ls->g[i];
		if (g->stack < n && g->kind < MP_K_NKINDS) {
			t[g->stack].bytes[g->kind] += g->bytes;
			t[g->stack].blocks[g->kind] += g->blocks;
		}
	}
	return t;
}

static void json_left(struct mp_out *o, const struct left *l)
{
	_mp_out_str(o, ",\"left\":{");
	for (int k = 0, shown = 0; l && k < MP_K_NKINDS; k++)
		if (l->blocks[k])
			_mp_out_printf(o, "%s\"%s\":{\"bytes\":%zu,\"blocks\":%zu}",
				       shown++ ? "," : "", _mp_leak_kind_name(k),
				       l->bytes[k], l->blocks[k]);
	_mp_out_str(o, "}");
}

static void json_series(struct mp_out *o)
{
	static struct mp_prof_point pts[MP_PROF_POINTS];
	struct mp_prof_point now;
	uint64_t ival;
	unsigned n = _mp_profile_series(pts, &ival, &now);
	_mp_out_printf(o, ",\n\"series\":{\"interval\":%llu,\"columns\":"
		       "[\"us\",\"allocations\",\"bytes\"],\"points\":[",
		       (unsigned long long)ival);
	for (unsigned i = 0; i <= n; i++) {
		const struct mp_prof_point *p = i < n ? &pts[i] : &now;
		_mp_out_printf(o, "%s[%llu,%llu,%zu]", i ? "," : "",
			       (unsigned long long)(p->ns / 1000),
			       (unsigned long long)p->allocs, p->bytes);
	}
	_mp_out_str(o, "]}");
}

void _mp_json_profile(struct mp_out *o, const struct mp_leak_set *ls,
		      void (*stack)(struct mp_out *o, uint32_t id))
{
	if (!_mp_profile_on())
		return;
	size_t n = (size_t)_mp_profile_max_id() + 1, len = 0;
	struct left *left = left_by_site(ls, n, &len);
	struct mp_site_stat s, tot;
	memset(&tot, 0, sizeof tot);
	size_t sites = 0;
	_mp_out_str(o, ",\n\"profile\":{\"sites\":[");
	for (size_t id = 0; id < n; id++) {
		if (!_mp_profile_site((uint32_t)id, &s))
			continue;
		_mp_out_printf(o, "%s\n{\"allocations\":%llu,\"bytes\":%llu,"
			       "\"peak_bytes\":%zu,\"live_bytes\":%zu,"
			       "\"live_blocks\":%llu,\"temporary\":{\"allocations\":"
			       "%llu,\"bytes\":%llu}", sites++ ? "," : "",
			       (unsigned long long)s.allocs,
			       (unsigned long long)s.bytes, s.peak_bytes,
			       s.live_bytes, (unsigned long long)s.live_blocks,
			       (unsigned long long)s.temps,
			       (unsigned long long)s.temp_bytes);
		json_left(o, left ? &left[id] : NULL);
		_mp_out_str(o, ",\"stack\":");
		stack(o, (uint32_t)id);
		_mp_out_str(o, "}");
		tot.allocs += s.allocs;
		tot.bytes += s.bytes;
		tot.peak_bytes += s.peak_bytes;
		tot.live_bytes += s.live_bytes;
		tot.live_blocks += s.live_blocks;
		tot.temps += s.temps;
		tot.temp_bytes += s.temp_bytes;
	}
	if (left)
		_mp_unmap(left, len);
	_mp_out_printf(o, "],\n\"totals\":{\"sites\":%zu,\"allocations\":%llu,"
		       "\"bytes\":%llu,\"peak_bytes\":%zu,\"live_bytes\":%zu,"
		       "\"live_blocks\":%llu,\"temporary\":{\"allocations\":%llu,"
		       "\"bytes\":%llu},\"sites_not_counted\":%llu}",
		       sites, (unsigned long long)tot.allocs,
		       (unsigned long long)tot.bytes, tot.peak_bytes,
		       tot.live_bytes, (unsigned long long)tot.live_blocks,
		       (unsigned long long)tot.temps,
		       (unsigned long long)tot.temp_bytes,
		       (unsigned long long)_mp_profile_lost());
	json_series(o);
	_mp_out_str(o, "}");
}
