/* clean: a list built and torn down */
#include <stdio.h>
#include <stdlib.h>
struct node { struct node *next; int v; };
int main(void)
{
	struct node *head = NULL;
	for (int i = 0; i < 100; i++) {
		struct node *n = malloc(sizeof *n);
		n->v = i;
		n->next = head;
		head = n;
	}
	int sum = 0;
	while (head) {
		struct node *n = head->next;
		sum += head->v;
		free(head);
		head = n;
	}
	puts(sum == 4950 ? "test_list: ok" : "test_list: FAIL");
	return sum != 4950;
}
