/* json.h - the machine-readable report (schema: docs/json-report.md). */
#ifndef MP_JSON_H
#define MP_JSON_H

#include "leaks.h"

/* Write the JSON report to the expanded json_path, atomically (temporary
 * file + rename).  Returns 0, or -1 after one warning line on stderr. */
struct mp_stats;
int _mp_json_write(const struct mp_leak_set *ls, const struct mp_stats *st);

/* A leak check's report (longrun.c): json_path with ".checkN" before a
 * final ".json" (else appended), with "check" and "growing" members. */
int _mp_json_write_check(const struct mp_leak_set *ls, const struct mp_stats *st,
			 const struct mp_check_info *ci);

/* The process's command line, arguments joined by spaces (static buffer). */
const char *_mp_command_line(void);

/* start_path: make (1) the marker saying this process started, or remove
 * it (0) once its JSON report is in place.  make also notes the working
 * directory the process starts in (the report's "cwd"). */
void _mp_json_start_marker(int make);
/* A system program passed through after an exec: the start marker its
 * image before left at path (expanded start_path) is removed, for no
 * report will come from this pid unless a later exec makes a new one
 * (mpcheck would count the process as one that lost its report). */
void _mp_json_drop_marker(const char *path);

/* The "profile" member (jsonprof.c; nothing unless profile=1), written
 * after "stats"; stack(o, id) writes a stack as json.c does (passed in:
 * json.c calls jsonprof.c, never the other way). */
struct mp_out;
void _mp_json_profile(struct mp_out *o, const struct mp_leak_set *ls,
		      void (*stack)(struct mp_out *o, uint32_t id));

#endif
