/* leakheur.c - memcheck's leak heuristics (option leak_heuristics).
 *
 * One concern: which interior pointers keep a block reachable because C++
 * makes them on purpose, and how many blocks each heuristic kept, for the
 * summary.  Separate from leakscan.c, which walks the graph: these are
 * shape rules on a block's first words with their own table, called by
 * the scan for an interior pointer and for nothing else.
 *
 * An interior pointer of a shape C++ makes on purpose keeps a block
 * reachable, as memcheck's --leak-check-heuristics (default all) does:
 *  stdstring: the characters of a libstdc++ COW string, 3 words into a block
 *    that begins with length <= capacity and is capacity + 3 words + 1 long;
 *  length64: 8 bytes into a block whose first 8 bytes hold the length of
 *    the rest;
 *  newarray: 8 bytes into a block whose first word is an element count
 *    that divides the rest (new T[n] of a T with a destructor);
 *  multipleinheritance: a pointer to a vtable pointer inside a block that
 *    begins with a vtable pointer (vtables: read-only data of a loaded
 *    file).
 * Which blocks were kept this way is counted for the summary; a block
 * later found through a start pointer is taken off the count.
 */
#define _GNU_SOURCE
#include "leakheur.h"
#include "leakscan.h"
#include "options.h"
#include "procmaps.h"
#include "vm.h"

#define W ((uintptr_t)sizeof(uintptr_t))
#define HEUR_CAP ((size_t)1 << 16) /* blocks counted by heuristic */
#define LOW_PAGE 4096              /* no vtable below it */

struct heur_ent {
	uintptr_t user;
	size_t size;
	int h; /* MP_HEUR_* bit, 0 = taken off */
};
static struct heur_ent *heur; /* open addressing on user */
size_t _mp_leakheur_n; /* entries in heur (0: nothing to forget) */
static size_t heur_bytes[MP_HEUR_N], heur_blocks[MP_HEUR_N];

int _mp_leakheur_match(const struct bref *b, uintptr_t p)
{
	long hs = _mp_opt.leak_heuristics;
	uintptr_t off = p - b->user;
	const uintptr_t *w = (const uintptr_t *)b->user;
	if (!hs || b->size < W || !_mp_readable(b->user, b->user + 2 * W))
		return 0;
	if ((hs & MP_HEUR_STDSTRING) && off == 3 * W && b->size > 3 * W &&
	    w[1] + 3 * W + 1 == b->size && w[0] <= w[1])
		return MP_HEUR_STDSTRING;
	if ((hs & MP_HEUR_LENGTH64) && off == W && w[0] && b->size - W == w[0])
		return MP_HEUR_LENGTH64;
	if ((hs & MP_HEUR_NEWARRAY) && off == W && w[0] &&
	    (b->size - W) % w[0] == 0)
		return MP_HEUR_NEWARRAY;
	if ((hs & MP_HEUR_MULTIPLEINHERITANCE) && !(p & (W - 1)) &&
	    p + W <= b->user + b->size) {
		uintptr_t inner = *(const uintptr_t *)p, first = w[0];
		if (!(inner & (W - 1)) && !(first & (W - 1)) && inner >= LOW_PAGE &&
		    first >= LOW_PAGE && _mp_readable_rodata(inner) &&
		    _mp_readable_rodata(first))
			return MP_HEUR_MULTIPLEINHERITANCE;
	}
	return 0;
}

static struct heur_ent *heur_slot(uintptr_t user)
{
	size_t i = (size_t)(user >> 4) * 0x9E3779B97F4A7C15ull % HEUR_CAP;
	for (size_t n = 0; n < HEUR_CAP; n++, i = (i + 1) % HEUR_CAP)
		if (heur[i].user == user || heur[i].user == 0)
			return &heur[i];
	return NULL;
}

void _mp_leakheur_note(const struct bref *b, int h)
{
	struct heur_ent *e;
	if (!heur || _mp_leakheur_n == HEUR_CAP - 1 || !(e = heur_slot(b->user)))
		return; /* full: counted as plain reachable */
	if (!e->user)
		_mp_leakheur_n++;
	*e = (struct heur_ent){ b->user, b->size, h };
}

void _mp_leakheur_forget(uintptr_t user)
{
	struct heur_ent *e = heur_slot(user);
	if (e && e->user == user)
		e->h = 0;
}

void _mp_leakheur_count(void)
{
	for (int k = 0; k < MP_HEUR_N; k++)
		heur_bytes[k] = heur_blocks[k] = 0;
	for (size_t i = 0; heur && i < HEUR_CAP; i++)
		for (int k = 0; heur[i].h && k < MP_HEUR_N; k++)
			if (heur[i].h == 1 << k) {
				heur_bytes[k] += heur[i].size;
				heur_blocks[k]++;
			}
}

void _mp_leakscan_heuristics(size_t bytes[], size_t blocks[])
{
	for (int k = 0; k < MP_HEUR_N; k++) {
		bytes[k] = heur_bytes[k];
		blocks[k] = heur_blocks[k];
	}
}

/* The table for one scan (none when it cannot be mapped: no counts). */
void _mp_leakheur_begin(void)
{
	heur = _mp_map(HEUR_CAP * sizeof *heur, 1); /* none: no counts */
	_mp_leakheur_n = 0;
}

void _mp_leakheur_end(void)
{
	if (heur)
		_mp_unmap(heur, HEUR_CAP * sizeof *heur);
	heur = NULL;
}
