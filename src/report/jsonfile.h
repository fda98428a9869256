/* jsonfile.h - the JSON report's files (jsonfile.c), for json.c only:
 * which name a report may take, the temporary it is written to, the
 * rename into place, and the start marker. */
#ifndef MP_JSONFILE_H
#define MP_JSONFILE_H

#include <stddef.h>
#include <sys/types.h>

/* What a report may do with the name it is given. */
enum target { T_NEW, T_REPLACE, T_BESIDE, T_REFUSE };

/* Whether json_path may be replaced: a missing name is made (T_NEW), an
 * empty file or an earlier report of ours replaced (T_REPLACE, its mode
 * in *mode), another regular file of the user's never (T_BESIDE); a
 * link, device, FIFO or another user's file is refused (T_REFUSE, *why
 * says why; buf holds the text when it needs numbers). */
enum target _mp_json_judge_target(const char *path, mode_t *mode,
				  const char **why, char *buf, size_t cap);
/* A fresh temporary beside path, its name in tmp: the descriptor or -1
 * (errno). */
int _mp_json_open_tmp(const char *path, char *tmp, size_t cap);
/* rename(tmp, path) as _mp_json_judge_target allows: NULL, or why not. */
const char *_mp_json_move_into_place(const char *tmp, const char *path,
				     char *buf, size_t cap);
/* A leak check's report name: json_path with ".checkSEQ" before ".json". */
void _mp_json_check_path(char *path, size_t cap, unsigned long seq);
/* "==PID== mpwrap: WHAT 'PATH'[: WHY]; THEN 'PATH2'", both paths escaped */
void _mp_json_notice(const char *what, const char *path, const char *why,
		     const char *then, const char *path2);
/* start_path's marker file: make (1) it, or remove (0) only the one this
 * process made (_mp_json_start_marker's file half). */
void _mp_json_marker(int make);

#endif
