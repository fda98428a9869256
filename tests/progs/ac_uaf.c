/* ac_uaf.c - writes after free, one case per run (argv[1]); each block is
 * freed, written through a stale pointer, and found by the exit check:
 *   two     bytes 5 and 10 of a freed 10-byte block (10: its rear guard):
 *           two writes, two errors (memcheck: two "Invalid write of size 1")
 *   run     one 4-byte store at offset 2: one error of 4 bytes
 *   double  `*dp += 3.0` on a freed double (invisible with a 0xFD poison,
 *           a huge double that absorbs the addition)
 *   float   `*fp += 1.0f`      int  `(*ip)++`      flag  `*cp |= 1`
 *   many    twelve separate 1-byte writes: 8 errors, the 8th with the rest */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tprog.h"

TP_NOINLINE static void *alloc_victim(size_t n)
{
	void *p = malloc(n); /* ALLOC_SITE */
	tp_escape(p);
	return p;
}

int main(int argc, char **argv)
{
	const char *c = argc > 1 ? argv[1] : "";
	size_t n = !strcmp(c, "two") ? 10 : !strcmp(c, "many") ? 64 : 16;
	char *p = alloc_victim(n);
	memset(p, 0, n);
	char *s = tp_launder(p); /* the stale pointer */
	free(p);
	if (!strcmp(c, "two")) {
		s[5] = 1;
		s[10] = 1;
	} else if (!strcmp(c, "run")) {
		uint32_t v = 0x01020304;
		memcpy(s + 2, &v, 4);
	} else if (!strcmp(c, "double")) {
		*(volatile double *)s += 3.0;
	} else if (!strcmp(c, "float")) {
		*(volatile float *)s += 1.0f;
	} else if (!strcmp(c, "int")) {
		(*(volatile int *)s)++;
	} else if (!strcmp(c, "flag")) {
		*(volatile unsigned char *)s |= 1;
	} else if (!strcmp(c, "many")) {
		for (int i = 0; i < 12; i++)
			((volatile char *)s)[i * 4] = 7;
	} else {
		return 2;
	}
	tp_escape(s);
	printf("wrote\n");
	return 0;
}
