/* scrub.h - the leak scan is conservative: a dead copy of a pointer left in
 * an unused stack slot keeps its block "reachable".  Real test suites rarely
 * care; this one must be deterministic, so it scrubs the dead stack. */
#include <string.h>

static void __attribute__((noinline)) scrub_stack(void)
{
	volatile char junk[16384];
	memset((char *)junk, 0, sizeof junk);
}
