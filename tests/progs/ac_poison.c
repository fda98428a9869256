/* ac_poison.c - which read-modify-writes leave a freed block's poison
 * unchanged (and so go unseen), and whether a pointer read from freed memory
 * is a non-canonical address (it faults when followed).
 *
 *   ac_poison live          measure the poison the preload writes (the bytes
 *                           of a freed 64-byte block, read after its free)
 *   ac_poison HEX...        measure 8-byte patterns (little-endian words)
 *
 * One line per pattern: "PATTERN: M/T unchanged; canonical C/8; missed: ..."
 * where each missed entry is TYPE WIDTH@OFFSET:OP.  Every op is applied at
 * every naturally aligned offset of a word. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tprog.h"

static unsigned char word[16];
static uint64_t pat;
static int total, missed;
static char missl[8192];

static void fill(void)
{
	memcpy(word, &pat, 8);
	memcpy(word + 8, &pat, 8);
}

static void miss(const char *type, int w, int off, const char *op)
{
	size_t l = strlen(missl);
	snprintf(missl + l, sizeof missl - l, " %s%d@%d:%s", type, w, off, op);
	missed++;
}

/* apply OP to a T at every aligned offset of a poisoned word */
#define TRY(T, tname, name, op)                                              \
	for (int off = 0; off < 8; off += (int)sizeof(T)) {                  \
		T v;                                                         \
		fill();                                                      \
		memcpy(&v, word + off, sizeof v);                            \
		op;                                                          \
		total++;                                                     \
		if (!memcmp(&v, word + off, sizeof v))                       \
			miss(tname, (int)sizeof(T), off, name);              \
	}
#define TOP(T) ((T)((T)1 << (sizeof(T) * 8 - 1)))
#define INT_OPS(T)                                                           \
	TRY(T, "u", "+=1", v += 1) TRY(T, "u", "-=1", v -= 1)                \
	TRY(T, "u", "+=4", v += 4) TRY(T, "u", "*=2", v *= 2)                \
	TRY(T, "u", "<<=1", v <<= 1) TRY(T, "u", ">>=1", v >>= 1)            \
	TRY(T, "u", "|=1", v |= 1) TRY(T, "u", "|=2", v |= 2)                \
	TRY(T, "u", "|=8", v |= 8) TRY(T, "u", "|=top", v |= TOP(T))         \
	TRY(T, "u", "&=~1", v &= (T)~(T)1) TRY(T, "u", "&=~top", v &= (T)~TOP(T)) \
	TRY(T, "u", "=0", v = 0) TRY(T, "u", "=1", v = 1)                    \
	TRY(T, "u", "=-1", v = (T)-1) TRY(T, "u", "=-v", v = (T)-v)
#define FP_OPS(T, tname)                                                     \
	TRY(T, tname, "+=1.0", v += 1.0) TRY(T, tname, "+=3.0", v += 3.0)    \
	TRY(T, tname, "-=0.5", v -= 0.5) TRY(T, tname, "+=0.1", v += 0.1)    \
	TRY(T, tname, "+=1e6", v += 1e6) TRY(T, tname, "*=2", v *= 2)        \
	TRY(T, tname, "*=0.5", v *= 0.5) TRY(T, tname, "/=3", v /= 3)        \
	TRY(T, tname, "=-v", v = -v) TRY(T, tname, "=fabs", v = (T)fabs((double)v)) \
	TRY(T, tname, "=0.0", v = 0)

static int canonical(uint64_t x)
{
	return (uint64_t)((int64_t)(x << 16) >> 16) == x;
}

static void measure(void)
{
	total = missed = 0;
	missl[0] = 0;
	INT_OPS(uint8_t) INT_OPS(uint16_t) INT_OPS(uint32_t) INT_OPS(uint64_t)
	FP_OPS(float, "float") FP_OPS(double, "double")
	int canon = 0;
	for (int off = 0; off < 8; off++) { /* 8-byte loads at any alignment */
		uint64_t x;
		fill();
		memcpy(&x, word + off, 8);
		canon += canonical(x);
	}
	printf("%016llx: %d/%d unchanged; canonical %d/8; missed:%s\n",
	       (unsigned long long)pat, missed, total, canon, missl);
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "live")) {
		unsigned char *p = malloc(64);
		memset(p, 0x11, 64);
		unsigned char *stale = tp_launder(p);
		free(p);
		memcpy(&pat, stale + 8, 8); /* a read after free: not reported */
		measure();
		return 0;
	}
	for (int a = 1; a < argc; a++) {
		pat = strtoull(argv[a], NULL, 16);
		measure();
	}
	return 0;
}
