/* lk_solib.c - linked against liblkkeep.so (loaded at start), whose static
 * local holds a 120-byte block: still reachable. */
#include <stddef.h>

#include "tprog.h"

void lib_keep(size_t n);

int main(void)
{
	tp_anchor();
	lib_keep(120);
	return 0;
}
