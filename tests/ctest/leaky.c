/* leaky.c - loses one 48-byte block (the planted leak) and exits 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *make_buffer(void)
{
	char *p = malloc(48);	/* LEAK: allocated here, never freed */
	if (p)
		memset(p, 'x', 48);
	return p;
}

int main(void)
{
	char *p = make_buffer();
	printf("leaky %c\n", p ? p[0] : '-');
	p = NULL;
	return 0;
}
