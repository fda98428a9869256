/* scopes_plain.c - a plain C test main (Unity-style) with MPWRAP_LEAK_TEST:
 * each test runs in a leak scope named after its function and fails when it
 * lost blocks; prints TAP.  test_leaks_on_purpose fails, the others pass.
 *   cc -g examples/scopes_plain.c -Iinclude -o scopes_plain
 *   LD_PRELOAD=./libmpwrap.so ./scopes_plain      (or: mpcheck ./scopes_plain)
 * Built and run without the library, every test passes (nothing checked).
 */
#include <mpwrap/scope.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node {
	struct node *next;
	char name[24];
};

static struct node *list; /* the suite's fixture: reachable */

static struct node *push(const char *name)
{
	struct node *n = calloc(1, sizeof *n);
	strncpy(n->name, name, sizeof n->name - 1);
	n->next = list;
	list = n;
	return n;
}

static void test_push_pop(void)
{
	push("a");
	struct node *n = list;
	list = n->next;
	free(n);
}

static void test_leaks_on_purpose(void)
{
	struct node *n = push("b");
	printf("# pushed %s\n", n->name);
	list = n->next; /* unlinked, never freed */
}

static void test_keeps_node(void)
{
	push("c"); /* stays on the list: reachable, no leak */
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} tests[] = {
		{ "test_push_pop", test_push_pop },
		{ "test_leaks_on_purpose", test_leaks_on_purpose },
		{ "test_keeps_node", test_keeps_node },
	};
	int failed = 0;
	printf("1..%zu\n", sizeof tests / sizeof tests[0]);
	for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
		long lost = mpwrap_leak_test(tests[i].name, tests[i].fn);
		printf("%s %zu - %s", lost ? "not ok" : "ok", i + 1, tests[i].name);
		if (lost)
			printf(" # %ld block%s leaked", lost, lost == 1 ? "" : "s");
		printf("\n");
		failed += lost != 0;
	}
	return failed != 0;
}
