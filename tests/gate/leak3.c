/* the third leak, added by the baseline test */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *remember(void)
{
	return malloc(64); /* LEAK_THIRD */
}
int main(void)
{
	remember();
	puts("test_third: ok");
	return 0;
}
