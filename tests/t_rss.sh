#!/usr/bin/env bash
# t_rss.sh - what the pool keeps resident (issue 15's RSS work), as TAP.
#
# tests/progs/rss_zero.c under the preload: a 64 MiB calloc leaves at most
# 8 MiB resident and reads as zeros (large zeroed blocks come from the real
# calloc); calloc after a dirty free reads as zeros on every path (a reused
# slot, a reused large chunk, a guard-page block; with and without the
# quarantine); a 32 MiB block freed into the quarantine gives back at least
# 24 MiB; with quarantine_mb=0 a 256 KiB block freed and allocated again
# 200 times faults fewer than 256 pages in (its pages are not dropped: they
# were, and python took 6x glibc's page faults).  Each also natively, so the
# program itself is checked.  And a
# use after free in the poisoned head of a quarantined large block is still
# reported after its tail pages were given back.
#
# Env (exported by `make test`, defaulted by hand): MPWRAP_ROOT, MPWRAP_LIB,
# MPWRAP_TFLAGS, CC.
set -u

here=$(cd "$(dirname "$0")" && pwd)
TEST_NAME=t_rss
# shellcheck source=progs/harness.sh
. "$here/progs/harness.sh"

# shellcheck disable=SC2086
if ! $CC $MPWRAP_TFLAGS -o "$B/rss_zero" "$P/rss_zero.c" 2>"$T/cc.err"; then
	fail "build rss_zero" "$(cat "$T/cc.err")"
	echo "1..$n"
	exit 1
fi

# expect_ok NAME MODE [OPTS]: the run printed "RESULT ok" and exited 0.
expect_ok() {
	local name=$1 mode=$2
	OPTS=${3:-} prun "$mode" "$B/rss_zero" "$mode"
	if [ "$rc" = 0 ] && grep -qx "RESULT ok" "$RD/out"; then
		pass "$name"
	else
		fail "$name" "exit $rc" "$(cat "$RD/out" "$RD/err")"
	fi
}

for mode in calloc-fresh calloc-reuse quarantine-drop reuse-faults; do
	if out=$("$B/rss_zero" "$mode") && [ "$out" = "RESULT ok" ]; then
		pass "natively: $mode"
	else
		fail "natively: $mode" "$out"
	fi
done
expect_ok "64 MiB calloc: zeros, at most 8 MiB resident" calloc-fresh
expect_ok "calloc after a dirty free: zeros (quarantine)" calloc-reuse
expect_ok "calloc after a dirty free: zeros (quarantine_mb=0)" calloc-reuse quarantine_mb=0
expect_ok "calloc after a dirty free: zeros (guard pages)" calloc-reuse guard_page_rate=100
expect_ok "a quarantined 32 MiB block gives back its pages" quarantine-drop
expect_ok "quarantine_mb=0: a freed block's pages stay for its reuse" reuse-faults quarantine_mb=0

# A write into the poisoned head of a freed large block, after its tail
# pages were dropped: reported at exit as a use after free.
cat >"$T/uaf_big.c" <<'C'
#include <stdlib.h>
#include <string.h>
int main(void)
{
	char *p = malloc(1 << 20);
	char *volatile q = p; /* hides the use after free from the compiler */
	memset(p, 1, 1 << 20);
	free(p);
	q[100] = 7;
	return 0;
}
C
# shellcheck disable=SC2086
if $CC $MPWRAP_TFLAGS -o "$B/uaf_big" "$T/uaf_big.c" 2>"$T/cc.err"; then
	prun uaf "$B/uaf_big"
	log=$(cat "$RD"/r.*.log 2>/dev/null)
	if printf '%s\n' "$log" | grep -q "== ERROR: use-after-free$" &&
	   printf '%s\n' "$log" | grep -q "1 byte written after free, first at offset 100 .* of the 1048576-byte block"; then
		pass "use after free in a dropped large block's head: reported"
	else
		fail "use after free in a dropped large block's head: reported" \
			"$(cat "$RD/err" "$RD"/r.*.log 2>/dev/null)"
	fi
else
	fail "build uaf_big" "$(cat "$T/cc.err")"
fi

# quarantine_mb=auto (the default): a program this small (peak live heap
# well under 1 MiB) quarantines 2 MiB + its peak.  A write into a freed
# 200-byte block after 1 MiB of later frees is still caught (the block is
# still quarantined: found by the exit check); written at once and followed
# by 8 MiB of frees, the block leaves the quarantine and the write is found
# by the eviction check (with the old fixed 64 MiB it stayed until exit).
cat >"$T/uaf_budget.c" <<'C'
#include <stdlib.h>
#include <string.h>
static void churn(int kib)
{
	for (int i = 0; i < kib / 16; i++) {
		char *volatile b = malloc(16 << 10);
		b[0] = 1;
		free(b);
	}
}
int main(int argc, char **argv)
{
	int late = argc > 1 && strcmp(argv[1], "late") == 0;
	char *p = malloc(200);
	char *volatile q = p; /* hides the use after free from the compiler */
	memset(p, 1, 200);
	free(p);
	if (late) {
		q[100] = 7;
		churn(8 << 10);
	} else {
		churn(1 << 10);
		q[100] = 7;
	}
	return 0;
}
C
# expect_uaf NAME WHERE [ARG]: one use-after-free, 1 byte at offset 100 of
# the 200-byte block, detected by the WHERE check
expect_uaf() {
	local name=$1 where=$2
	prun "uaf-budget-${3:-early}" "$B/uaf_budget" ${3:+"$3"}
	log=$(cat "$RD"/r.*.log 2>/dev/null)
	if [ "$rc" = 0 ] &&
	   [ "$(printf '%s\n' "$log" | grep -c "== ERROR: use-after-free$")" = 1 ] &&
	   printf '%s\n' "$log" | grep -q "1 byte written after free, first at offset 100 .* of the 200-byte block" &&
	   printf '%s\n' "$log" | grep -q "detected by the $where check$"; then
		pass "$name"
	else
		fail "$name" "exit $rc" "$(cat "$RD/err" "$RD"/r.*.log 2>/dev/null)"
	fi
}
# shellcheck disable=SC2086
if $CC $MPWRAP_TFLAGS -o "$B/uaf_budget" "$T/uaf_budget.c" 2>"$T/cc.err"; then
	expect_uaf "quarantine_mb=auto: a write after 1 MiB of later frees is caught (still quarantined)" exit
	expect_uaf "quarantine_mb=auto: a small program's quarantine holds ~2 MiB (8 MiB of frees evict the block)" \
		"quarantine eviction" late
else
	fail "build uaf_budget" "$(cat "$T/cc.err")"
fi

echo "1..$n"
echo "# t_rss: $((SECONDS - start)) s" >&2
[ "$failed" = 0 ]
