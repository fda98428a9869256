/* pf_sites.c - allocation sites with known figures for the heap profile
 * (t_profile.sh), in this order:
 *   leak_one:    one 1000-byte block, never freed (definitely lost);
 *   hold_early:  4 MiB live while big_temp runs, freed before the peak
 *                (its largest live size is not its peak contribution: 0);
 *   big_temp:    one 10 MiB block freed right away (a temporary);
 *   small_temps: 1,000 x 64 bytes, each freed right away (temporaries);
 *   peak_site:   16 x 1 MiB live together (the process's peak: 16 MiB +
 *                1000 bytes), freed oldest first (none is a temporary).
 * Argument "check": mp_leak_check() runs at the end, before exit; "term":
 * the process ends by SIGTERM instead; "many": 100,000 more allocations
 * (16 bytes, freed at once) for the heap-size series to fold. */
#include "tprog.h"
#include "mempool.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

/* libmpwrap.so defines it; the program runs without it too */
extern long mp_leak_check(struct mp_leak_counts *out) __attribute__((weak));

static void *kept;

TP_NOINLINE static void leak_one(void)
{
	char *p = malloc(tp_size(1000)); /* LEAK_SITE */
	TP_NO_TAILCALL();
	memset(p, 1, 1000);
	tp_escape(p);
}

TP_NOINLINE static void hold_early(void)
{
	kept = malloc(tp_size(4 << 20)); /* EARLY_SITE */
	TP_NO_TAILCALL();
	tp_escape(kept);
}

TP_NOINLINE static void big_temp(void)
{
	char *p = malloc(tp_size(10 << 20)); /* BIG_SITE */
	TP_NO_TAILCALL();
	p[0] = 1;
	tp_escape(p);
	free(tp_launder(p));
}

TP_NOINLINE static void small_temps(void)
{
	for (int i = 0; i < 1000; i++) {
		char *p = malloc(tp_size(64)); /* SMALL_SITE */
		TP_NO_TAILCALL();
		tp_escape(p);
		free(tp_launder(p));
	}
}

TP_NOINLINE static void peak_site(void)
{
	void *b[16];
	for (int i = 0; i < 16; i++) {
		b[i] = malloc(tp_size(1 << 20)); /* PEAK_SITE */
		TP_NO_TAILCALL();
		tp_escape(b[i]);
	}
	for (int i = 0; i < 16; i++)
		free(tp_launder(b[i]));
}

TP_NOINLINE static void many(void)
{
	for (int i = 0; i < 100000; i++)
		free(tp_launder(malloc(tp_size(16))));
}

int main(int argc, char **argv)
{
	const char *how = argc > 1 ? argv[1] : "";
	leak_one(); /* CALL_LEAK */
	hold_early(); /* CALL_EARLY */
	big_temp(); /* CALL_BIG */
	free(tp_launder(kept));
	kept = NULL;
	small_temps(); /* CALL_SMALL */
	peak_site(); /* CALL_PEAK */
	if (strcmp(how, "many") == 0)
		many();
	if (strcmp(how, "check") == 0 && mp_leak_check)
		mp_leak_check(NULL);
	if (strcmp(how, "term") == 0)
		kill(getpid(), SIGTERM);
	return 0;
}
