/* demo.c - the mp_* API with two deliberate bugs: a leak and a one-byte
 * overflow.  `make demo` runs it; the reports name the lines below. */
#include <stdio.h>
#include <string.h>

#include "mempool.h"

static char *make_name(const char *s)
{
	char *p = mp_alloc(strlen(s));  /* bug: no room for the NUL */
	strcpy(p, s);                   /* writes one byte past the block */
	return p;
}

static void remember(int i)
{
	int *slot = mp_alloc(sizeof(int) * 25); /* bug: never freed */
	slot[0] = i;
}

int main(void)
{
	mp_init();
	char *name = make_name("mpwrap demo");
	printf("name: %s\n", name);
	mp_free(name);             /* the overflow is reported here */
	for (int i = 0; i < 3; i++)
		remember(i);
	mp_destroy();              /* statistics, then the leak report */
	return 0;
}
