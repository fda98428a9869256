/* rb_deepbind_lib.c - allocates and frees for rb_deepbind.c. */
#include <stdlib.h>

void *rb_lib_alloc(size_t n)
{
	return malloc(n);
}

void rb_lib_free(void *p)
{
	free(p);
}
