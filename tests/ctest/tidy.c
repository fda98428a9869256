/* tidy.c - allocates, frees everything, prints a line: no defect. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
	char *s = malloc(32);
	if (!s)
		return 1;
	strcpy(s, "tidy");
	puts(s);
	free(s);
	return 0;
}
