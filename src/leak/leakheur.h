/* leakheur.h - memcheck's leak heuristics for the leak scan (leakheur.c). */
#ifndef MP_LEAKHEUR_H
#define MP_LEAKHEUR_H

#include "scanblock.h"

/* Blocks a heuristic kept so far in this scan (0: nothing to forget). */
extern size_t _mp_leakheur_n;

/* Map (begin) and drop (end) the table of one scan. */
void _mp_leakheur_begin(void);
void _mp_leakheur_end(void);
/* The MP_HEUR_* bit whose shape interior pointer p into b has, or 0. */
int _mp_leakheur_match(const struct bref *b, uintptr_t p);
/* b was kept reachable by heuristic h; or, found later through a start
 * pointer, no longer counts as kept by one. */
void _mp_leakheur_note(const struct bref *b, int h);
void _mp_leakheur_forget(uintptr_t user);
/* Sum the table into what _mp_leakscan_heuristics answers. */
void _mp_leakheur_count(void);

#endif
