/* rss_zero.c - calloc's zeroing and the resident memory of large blocks
 * (tests/t_rss.sh).
 *
 *   rss_zero MODE
 *
 * calloc-fresh: a 64 MiB calloc reads as zeros and leaves at most 8 MiB
 *   resident (the pool takes large zeroed blocks from the real calloc
 *   instead of writing every page).
 * calloc-reuse: blocks of every path written 0xAA and freed, then calloc'd
 *   again at the same sizes, read as zeros (a reused slot, a reused large
 *   chunk, a guard-page block).
 * quarantine-drop: a 32 MiB block, written and freed into the quarantine,
 *   gives back its pages: at least 24 MiB leave the resident set.
 * reuse-faults: a 256 KiB block written and freed 200 times over faults
 *   fewer than 256 pages in after the first rounds (run with
 *   quarantine_mb=0: a freed block leaves at once, so its pages must not be
 *   dropped, or the real allocator's next block there faults each of them
 *   in afresh: 64 per round).
 * Prints "RESULT ok" or "RESULT bad: ..." and exits 0 or 1.
 */
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MIB ((size_t)1 << 20)

static long resident_kib(void)
{
	long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (!f || fscanf(f, "%ld %ld", &size, &res) != 2)
		res = -1;
	if (f)
		fclose(f);
	return res < 0 ? -1 : res * (sysconf(_SC_PAGESIZE) / 1024);
}

static int all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static int bad(const char *why, long a, long b)
{
	printf("RESULT bad: %s (%ld, %ld)\n", why, a, b);
	return 1;
}

static int calloc_fresh(void)
{
	long before = resident_kib();
	unsigned char *p = calloc(64, MIB);
	if (!p)
		return bad("calloc failed", 0, 0);
	long after = resident_kib();
	if (!all_zero(p, 64 * MIB))
		return bad("64 MiB calloc not zero", 0, 0);
	if (after - before > 8 * 1024)
		return bad("64 MiB calloc made resident KiB", before, after);
	free(p);
	return 0;
}

static int calloc_reuse(void)
{
	static const size_t sizes[] = { 1, 100, 4096, 5000, 200000, 3 * MIB };
	for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
		for (int round = 0; round < 4; round++) {
			unsigned char *p = malloc(sizes[k]);
			if (!p)
				return bad("malloc failed", (long)sizes[k], round);
			memset(p, 0xAA, sizes[k]);
			free(p);
			unsigned char *q = calloc(1, sizes[k]);
			if (!q)
				return bad("calloc failed", (long)sizes[k], round);
			if (!all_zero(q, sizes[k]))
				return bad("calloc after a dirty free not zero",
					   (long)sizes[k], round);
			memset(q, 0x55, sizes[k]);
			free(q);
		}
	}
	return 0;
}

static int quarantine_drop(void)
{
	size_t n = 32 * MIB;
	unsigned char *p = malloc(n);
	if (!p)
		return bad("malloc failed", 0, 0);
	memset(p, 0x11, n);
	long held = resident_kib();
	free(p);
	long after = resident_kib();
	if (held - after < 24 * 1024)
		return bad("a quarantined 32 MiB block stays resident (KiB)", held, after);
	return 0;
}

static long minor_faults(void)
{
	struct rusage ru;
	return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_minflt : -1;
}

#define REUSE_ROUNDS 200
#define REUSE_WARM 3      /* glibc's mmap threshold adapts after a free */
#define REUSE_MAX_FAULTS 256

static int reuse_faults(void)
{
	size_t n = 256 * 1024;
	long before = 0;
	for (int i = 0; i < REUSE_WARM + REUSE_ROUNDS; i++) {
		if (i == REUSE_WARM)
			before = minor_faults();
		unsigned char *volatile p = malloc(n);
		if (!p)
			return bad("malloc failed", i, 0);
		memset(p, i & 0xff, n);
		free(p);
	}
	long faults = minor_faults() - before;
	if (before < 0 || faults >= REUSE_MAX_FAULTS)
		return bad("pages faulted in again over 200 rounds of one block",
			   faults, REUSE_MAX_FAULTS);
	return 0;
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";
	int rc = !strcmp(m, "calloc-fresh")      ? calloc_fresh()
		 : !strcmp(m, "calloc-reuse")    ? calloc_reuse()
		 : !strcmp(m, "quarantine-drop") ? quarantine_drop()
		 : !strcmp(m, "reuse-faults")    ? reuse_faults()
						 : bad("unknown mode", 0, 0);
	if (!rc)
		printf("RESULT ok\n");
	return rc;
}
