/* lk_list.c - a leaked singly linked list of 10 nodes of 32 bytes: the head
 * is definitely lost, the 9 nodes behind it indirectly lost.
 *   forward  nodes appended: the head has the lowest address
 *   reverse  nodes prepended: the head has the highest address */
#include <stdlib.h>
#include <string.h>

#include "tprog.h"

struct node {
	struct node *next;
	char pad[24];
};

TP_NOINLINE static void build_and_drop(int reverse)
{
	struct node *volatile head = NULL;
	struct node *volatile tail = NULL;
	for (int i = 0; i < 10; i++) {
		struct node *volatile n = malloc(sizeof(struct node)); /* NODE_SITE */
		memset(n->pad, i, sizeof n->pad);
		n->next = NULL;
		if (reverse) {
			n->next = head;
			head = n;
		} else {
			if (tail)
				tail->next = n;
			else
				head = n;
			tail = n;
		}
		n = NULL;
	}
	head = NULL;
	tail = NULL;
}

int main(int argc, char **argv)
{
	build_and_drop(argc > 1 && strcmp(argv[1], "reverse") == 0);
	return 0;
}
