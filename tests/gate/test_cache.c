/* leaks: the cache entry is dropped without free */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry { int key; char *val; };
static struct entry *cache_put(int key)
{
	struct entry *e = malloc(sizeof *e); /* LEAK_CACHE */
	e->key = key;
	e->val = NULL;
	return e;
}
int main(void)
{
	struct entry *e = cache_put(42);
	int ok = e->key == 42;
	e = NULL;
	puts(ok ? "test_cache: ok" : "test_cache: FAIL");
	return !ok;
}
