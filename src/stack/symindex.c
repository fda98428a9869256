/* symindex.c - the name dwfl_module_addrinfo would give a pc, by binary
 * search in a per-module sorted symbol index instead of its whole-table scan
 * (which made gcc's exit report take seconds).  The index lives in the
 * module's libdwfl userdata slot and is freed with the module.
 */
#define _GNU_SOURCE
#include "symindex.h"
#include "real.h"
#include "lazylibs.h"

#include <stdlib.h>
#include <string.h>

/*
 * One entry for every symbol dwfl_module_addrinfo (elfutils 0.188) would
 * weigh: named, defined, not a section, file or TLS symbol.  Not only
 * functions: a sized object or label covering a pc changes its answer too.
 * Sorted by address, sizeless entries first among equal ones. */
struct sym_ent {
	GElf_Addr lo, size;
	GElf_Addr reach;     /* highest lo + size of this and all earlier entries */
	const char *name;    /* in the module's Elf, which outlives the index */
	int ndx;             /* symbol table index: table order breaks ties */
	int bind;            /* elfutils' preference: GLOBAL 3, WEAK 2, LOCAL 1 */
};

struct sym_index {
	size_t n;
	int first_global;    /* entries from here on are searched first */
	struct sym_ent e[];
};

#define MP_MAX_COVER 16      /* aliases and nested symbols around one pc */
#define MP_MAX_SCAN 256      /* entries looked at below a pc */

/* Stand-ins (never freed): no symbol table at all, and "cannot index". */
static struct sym_index no_symbols, unindexed;

static int bind_rank(unsigned char info)
{
	switch (GELF_ST_BIND(info)) {
	case STB_GLOBAL: return 3;
	case STB_WEAK: return 2;
	case STB_LOCAL: return 1;
	default: return 0;
	}
}

static int ent_cmp(const void *a, const void *b)
{
	const struct sym_ent *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (!x->size != !y->size)
		return x->size ? 1 : -1;
	return x->ndx - y->ndx;
}

static struct sym_index *build_index(Dwfl_Module *mod)
{
	int n = dwfl_module_getsymtab(mod), first_global = dwfl_module_getsymtab_first_global(mod);
	GElf_Addr bias, reach = 0;
	GElf_Ehdr eh;
	Elf *elf = dwfl_module_getelf(mod, &bias);
	struct sym_index *x;

	if (n < 0 || first_global < 0)
		return &no_symbols; /* dwfl_module_addrinfo answers NULL too */
	/* ppc64 function descriptors give a symbol a second address to match. */
	if (!elf || !gelf_getehdr(elf, &eh) || eh.e_machine == EM_PPC64 ||
	    (x = _mp_real_malloc(sizeof *x + (size_t)n * sizeof x->e[0])) == NULL)
		return &unindexed;
	x->n = 0;
	x->first_global = first_global;
	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr value;
		GElf_Word shndx; /* asked for, as addrinfo does: it changes value */
		const char *name = dwfl_module_getsym_info(mod, i, &sym, &value, &shndx, NULL, NULL);
		int type;

		if (!name || !name[0] || sym.st_shndx == SHN_UNDEF)
			continue;
		type = GELF_ST_TYPE(sym.st_info);
		if (type == STT_SECTION || type == STT_FILE || type == STT_TLS)
			continue;
		x->e[x->n++] = (struct sym_ent){ .lo = value, .size = sym.st_size, .name = name,
						 .ndx = i, .bind = bind_rank(sym.st_info) };
	}
	qsort(x->e, x->n, sizeof x->e[0], ent_cmp);
	for (size_t i = 0; i < x->n; i++) {
		GElf_Addr end = x->e[i].lo + x->e[i].size;

		if (end < x->e[i].lo)
			end = ~(GElf_Addr)0;
		x->e[i].reach = reach = end > reach ? end : reach;
	}
	return x;
}

/* dwfl_module_addrinfo's pick among the sized symbols covering the address
 * (c[], in table order) within one of its passes: globals, then locals. */
static const struct sym_ent *pick(const struct sym_ent **c, int n, int first_global,
				  bool globals)
{
	const struct sym_ent *best = NULL;

	for (int i = 0; i < n; i++) {
		const struct sym_ent *e = c[i];

		if ((e->ndx >= first_global) != globals)
			continue;
		/* closer start or better binding, else equal start and shorter */
		if (!best || best->lo < e->lo || best->bind < e->bind ||
		    (best->lo == e->lo && best->size > e->size && best->bind <= e->bind))
			best = e;
	}
	return best;
}

/* 1 with *name = what dwfl_module_addrinfo answers (maybe NULL), or 0 when
 * only it can tell: sizeless labels (its same-section rules), crowds. */
static int index_lookup(const struct sym_index *x, GElf_Addr addr, const char **name)
{
	const struct sym_ent *c[MP_MAX_COVER], *best;
	size_t lo = 0, hi = x->n;
	int n = 0;

	*name = NULL;
	if (x == &unindexed)
		return 0;
	while (lo < hi) { /* lo becomes the number of entries at or below addr */
		size_t mid = lo + (hi - lo) / 2;

		if (x->e[mid].lo <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return 1;
	/* Nothing covers addr.  A sized last entry outranks every label below
	 * it, so the answer is NULL; a sizeless one may be the answer. */
	if (x->e[lo - 1].reach <= addr)
		return x->e[lo - 1].size != 0;
	for (size_t i = lo; i-- > 0 && x->e[i].reach > addr;) {
		const struct sym_ent *e = &x->e[i];
		int k = n;

		if (lo - i > MP_MAX_SCAN)
			return 0;
		if (addr - e->lo >= e->size)
			continue;
		if (n == MP_MAX_COVER)
			return 0;
		for (; k > 0 && c[k - 1]->ndx > e->ndx; k--) /* keep table order */
			c[k] = c[k - 1];
		c[k] = e;
		n++;
	}
	best = pick(c, n, x->first_global, true);
	if (!best)
		best = pick(c, n, x->first_global, false);
	if (!best)
		return 0;
	*name = best->name;
	return 1;
}

/* The index is the library's own memory (base/real.c), never the
 * program's: it stays out of the pool whether or not the caller is busy. */
static void free_index(void **userdata)
{
	if (*userdata != &no_symbols && *userdata != &unindexed)
		_mp_real_free(*userdata);
	*userdata = NULL;
}

/* dwfl_report_end's `removed` callback: its second argument is the module's
 * userdata location, where the index lives. */
int _mp_symindex_removed(Dwfl_Module *mod, void *userdata, const char *name,
			 Dwarf_Addr base, void *arg)
{
	(void)mod, (void)name, (void)base, (void)arg;
	free_index(userdata);
	return 0;
}

static int index_end(Dwfl_Module *mod, void **userdata, const char *name,
		     Dwarf_Addr base, void *arg)
{
	(void)mod, (void)name, (void)base, (void)arg;
	free_index(userdata);
	return DWARF_CB_OK;
}

/* dwfl_end, freeing our indexes first (NULL-safe). */
void _mp_symindex_end_dwfl(Dwfl *d)
{
	if (!d)
		return;
	dwfl_getmodules(d, index_end, NULL, 0);
	dwfl_end(d);
}

/* The name dwfl_module_addrinfo gives `addr`, through the module's index. */
const char *_mp_symindex_name(Dwfl_Module *mod, GElf_Addr addr)
{
	void **userdata = NULL;
	const char *name;
	GElf_Off off;
	GElf_Sym sym;

	dwfl_module_info(mod, &userdata, NULL, NULL, NULL, NULL, NULL, NULL);
	if (userdata && !*userdata)
		*userdata = build_index(mod);
	if (userdata && index_lookup(*userdata, addr, &name))
		return name;
	return dwfl_module_addrinfo(mod, addr, &off, &sym, NULL, NULL, NULL);
}

