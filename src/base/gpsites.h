/* gpsites.h - targeted guard pages: allocation sites named by module+offset
 * (option guard_page_sites) get a guard page for every block. */
#ifndef MP_GPSITES_H
#define MP_GPSITES_H

#include <stddef.h>
#include <stdint.h>

/* Frames of the allocation stack a site key names (innermost first). */
#define MP_SITE_FRAMES 3
/* Bytes of a module's base name in a key (the report makes no key it
 * could not parse back). */
#define MP_SITE_MODULE_MAX 96
/* Room for one site key in words (report and JSON). */
#define MP_SITE_KEY_MAX 400

/* Which side of a targeted block the page goes: after it (overflows; the
 * block's end touches the page) or before it (underflows). */
enum { MP_GP_NONE = 0, MP_GP_OVER = 1, MP_GP_UNDER = 2 };

/* Parse "[under@]MOD+0xOFF[/MOD+0xOFF...][,...]" (the option's value, not
 * NUL-terminated) into the site table; -1 when malformed (no sites then).
 * Never allocates; called while the options are parsed. */
int _mp_gp_sites_parse(const char *s, size_t n);

/* Turn the sites' module+offset into addresses (the loaded modules); the
 * sites whose module is not loaded yet are tried again later. */
void _mp_gp_sites_resolve(void);

/* Any site at all (the allocation path's only cost otherwise). */
int _mp_gp_sites_active(void);

/* The side wanted for a block allocated at the stack pcs[0..n) (the
 * allocation's own frames first), or MP_GP_NONE.  Lock-free; the
 * allocation path. */
int _mp_gp_site_match(const uintptr_t *pcs, unsigned n);

#endif
