/* lr_static.c - mp_leak_check in libmempool.a (t_longrun.sh): no thread
 * registry and no roots there, so every live block counts, unclassified. */
#include "mempool.h"

#include <stdio.h>

int main(void)
{
	void *a = mp_alloc(100), *b = mp_alloc(200);
	struct mp_leak_counts c;
	long rc = mp_leak_check(&c);
	printf("check %lu rc %ld definite %zu/%zu classified %d\n", c.check, rc,
	       c.definite_bytes, c.definite_blocks, c.classified);
	mp_free(a);
	mp_free(b);
	return 0;
}
