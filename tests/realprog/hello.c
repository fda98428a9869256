/* hello.c - the small C file t_realprog.sh compiles with gcc. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct item {
	char name[16];
	int value;
};

static int by_value(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	return (x->value > y->value) - (x->value < y->value);
}

int main(void)
{
	struct item *v = calloc(100, sizeof *v);
	if (!v)
		return 1;
	for (int i = 0; i < 100; i++) {
		snprintf(v[i].name, sizeof v[i].name, "item%d", i);
		v[i].value = (i * 37) % 101;
	}
	qsort(v, 100, sizeof *v, by_value);
	printf("first %s last %s\n", v[0].name, v[99].name);
	free(v);
	return 0;
}
