/* leaks: the formatted buffer is never freed */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *format_number(int n)
{
	char *buf = malloc(32); /* LEAK_FORMAT */
	snprintf(buf, 32, "<%d>", n);
	return buf;
}
int main(void)
{
	int ok = strcmp(format_number(7), "<7>") == 0;
	puts(ok ? "test_format: ok" : "test_format: FAIL");
	return !ok;
}
