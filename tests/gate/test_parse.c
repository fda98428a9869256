/* clean: everything freed */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void)
{
	char *s = strdup("key=value");
	char *eq = strchr(s, '=');
	*eq = '\0';
	int ok = strcmp(s, "key") == 0;
	free(s);
	puts(ok ? "test_parse: ok" : "test_parse: FAIL");
	return !ok;
}
