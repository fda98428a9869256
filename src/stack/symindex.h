/* symindex.h - per-module sorted symbol index for the symbolizer. */
#ifndef MP_SYMINDEX_H
#define MP_SYMINDEX_H

#include <elfutils/libdwfl.h>

/* The name dwfl_module_addrinfo gives addr (the index is built on first
 * use); NULL when no symbol covers it. */
const char *_mp_symindex_name(Dwfl_Module *mod, GElf_Addr addr);

/* dwfl_report_end's `removed` callback: frees the module's index. */
int _mp_symindex_removed(Dwfl_Module *mod, void *userdata, const char *name,
			 Dwarf_Addr base, void *arg);

/* dwfl_end, freeing the indexes first (NULL-safe). */
void _mp_symindex_end_dwfl(Dwfl *d);

#endif
