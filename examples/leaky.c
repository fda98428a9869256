/* leaky.c - an ordinary program with ordinary bugs, for `make demo`:
 * it never includes mempool.h; the checker is attached with LD_PRELOAD
 * (through scripts/mpcheck).  Expect one overflow, one double free and a
 * leaked list (1 definite head + 4 indirect nodes); the table kept in a
 * global is still reachable and is not reported. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node {
	struct node *next;
	int value;
};

static char **table; /* reachable at exit: not a leak */

static struct node *build_list(int n)
{
	struct node *head = NULL;
	for (int i = 0; i < n; i++) {
		struct node *nd = malloc(sizeof *nd);
		nd->value = i;
		nd->next = head;
		head = nd;
	}
	return head;
}

static char *copy_word(const char *w)
{
	char *p = malloc(strlen(w)); /* bug: no room for the NUL */
	strcpy(p, w);
	return p;
}

static void __attribute__((noinline)) release(char *p)
{
	free(p);
}

int main(void)
{
	table = calloc(8, sizeof *table);
	char *w = copy_word("overflow");
	printf("word: %s\n", w);
	release(w);
	release(w);                   /* bug: double free */
	struct node *list = build_list(5);
	printf("list head: %d\n", list->value);
	list = NULL;                  /* bug: the whole list leaks */
	return 0;
}
