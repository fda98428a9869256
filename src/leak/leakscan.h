/* leakscan.h - classify live blocks by reachability (leak kinds). */
#ifndef MP_LEAKSCAN_H
#define MP_LEAKSCAN_H

#include <stddef.h>
#include <stdint.h>

/* Mark every live user block as definite, indirect, possible or reachable
 * (kind bits in the block flags).  Scans module data/bss, the calling
 * thread's stack and registers, other threads' stacks and TLS.  Returns 0,
 * or -1 when the scan could not run (then every block stays definite). */
int _mp_leakscan_classify(void);

/* The same for a forked child's exit report: only the blocks it made since
 * the fork are classified (the parent judges the inherited ones at its own
 * exit); the inherited blocks count as roots, read only where the child
 * wrote them, so the work grows with what the child did, not with the
 * heap it inherited.  In a process never forked: _mp_leakscan_classify. */
int _mp_leakscan_classify_own(void);
/* After it: blocks classified, and inherited pages the child wrote (read
 * as roots); for the JSON report's stats. */
void _mp_leakscan_own_counts(size_t *blocks, size_t *pages);

/* After a classification: bytes and blocks kept reachable by each of
 * memcheck's leak heuristics (index k: MP_HEUR_* bit 1 << k). */
void _mp_leakscan_heuristics(size_t bytes[], size_t blocks[]);

/* After a classification: what kept the reachable (kind MP_K_REACHABLE)
 * or possibly lost (MP_K_POSSIBLE) blocks of allocation stack `stack`,
 * kind MP_ROOT_NONE when unknown (leaks.h). */
struct mp_keeper;
void _mp_leakscan_keeper(uint32_t stack, int kind, struct mp_keeper *out);

/* One scan at a time: a check while the program runs holds the gate for
 * its whole scan and report (enter: 0, or -1 when this thread is inside
 * it already or the exit report has begun); the exit report waits for a
 * check in progress and lets none begin after it (final).  A forked
 * child renews it. */
int _mp_scan_gate_enter(void);
void _mp_scan_gate_leave(void);
int _mp_scan_gate_inside(void);
void _mp_scan_gate_final(void);
void _mp_scan_gate_child(void);

#endif
