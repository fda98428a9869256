#!/usr/bin/env bash
# t_verdict.sh - leak verdicts a CI gate can trust: the determinism suite.
#
# tests/verdict/dt_shapes.c holds one leak shape per run (single block,
# list, tree, cycle, self-pointer, interior pointer, pointer only in a dead
# frame or in a live thread's register, exited threads, a forked child, an
# unstarted thread, blocks held only by freed blocks, heap pages made
# inaccessible) and every exit path (return, exit, _exit, a thread calling
# exit, a fatal signal).  It is built with gcc and clang at -O0 and -O2;
# verdict.py runs every binary and case MPWRAP_VERDICT_RUNS times (10) under
# the checker and once under memcheck, and asserts that each case gives one
# verdict (definite/indirect/possible bytes) in every run, the expected one,
# equal to memcheck's.  No program scrubs its stack.  dt_cxx.cc holds the
# C++ interior pointers memcheck's leak heuristics recognise, checked with
# the heuristics on (both tools' default) and off.
# Then: damage to a freed block's guard is reported, at exit too.
set -u

here=$(cd "$(dirname "$0")/.." && pwd)
TEST_NAME=t_verdict
# shellcheck source=../progs/harness.sh
. "$here/progs/harness.sh"

V=$MPWRAP_ROOT/tests/verdict
FLAGS="-g -fno-omit-frame-pointer -fno-optimize-sibling-calls -std=gnu11
       -Wall -Wextra -Werror -I$P -pthread"
bins=""
errs=""
for cc in gcc clang; do
	for o in O0 O2; do
		out=$B/dt_$cc-$o
		# shellcheck disable=SC2086
		if msg=$($cc $FLAGS -$o "$V/dt_shapes.c" -o "$out" 2>&1); then
			bins="$bins $out"
		else
			errs="$errs$cc -$o: $(printf '%s' "$msg" | head -c 300)
"
		fi
	done
done
# C++ interior pointers, with the old string ABI (its strings point into
# their block; the new one's point at its start)
for cxx in g++ clang++; do
	for o in O0 O2; do
		out=$B/dt_cxx-$cxx-$o
		if msg=$($cxx -g -$o -fno-omit-frame-pointer -D_GLIBCXX_USE_CXX11_ABI=0 \
			-Wall -Wextra -Werror "$V/dt_cxx.cc" -o "$out" 2>&1); then
			bins="$bins $out"
		else
			errs="$errs$cxx -$o: $(printf '%s' "$msg" | head -c 300)
"
		fi
	done
done
if [ -z "$errs" ]; then pass "build dt_shapes and dt_cxx with gcc/g++ and clang/clang++ at -O0 and -O2"
else fail "build dt_shapes and dt_cxx with gcc/g++ and clang/clang++ at -O0 and -O2" "$errs"; fi

# one TAP line per (binary, case); the table for the note goes to
# $MPWRAP_VERDICT_TABLE when set
# shellcheck disable=SC2086
python3 "$V/verdict.py" --runs "${MPWRAP_VERDICT_RUNS:-10}" \
	${MPWRAP_VERDICT_TABLE:+--table "$MPWRAP_VERDICT_TABLE"} \
	"$MPWRAP_LIB" $bins
[ $? -eq 0 ] || failed=$((failed + 1))

# ------------------------------------------------ what kept each group
# kept NAME SHAPE SIZE PYEXPR: the JSON group of SIZE-byte blocks allocated
# in SHAPE's run has a kept_by for which PYEXPR (over k) holds
kept() {
	local name=$1 shape=$2 size=$3 expr=$4 out
	# (reachable groups are listed in the JSON only when asked for)
	OPTS=show_reachable=1 prun "kept-$shape" "$B/dt_gcc-O0" "$shape"
	if out=$(python3 - "$RD" "$size" "$expr" <<'PY' 2>&1
import glob, json, sys
rd, size, expr = sys.argv[1], int(sys.argv[2]), sys.argv[3]
J = json.load(open(glob.glob(rd + "/r.*.json")[0]))
gs = [g for g in J["leaks"] if g["bytes"] == size and g["blocks"] == 1]
assert len(gs) == 1, "groups of %d bytes: %s" % (size, gs)
k = gs[0].get("kept_by")
assert k is not None and eval(expr), "kind %s, kept_by %s" % (gs[0]["kind"], k)
PY
); then pass "$name"; else fail "$name" "$out"; fi
}
kept "a global keeps its block: kept_by names it" global 24 \
	'k["root"] == "global" and k["symbol"] == "g_keep" and k["direct"] and not k["interior"] and k["module"].endswith("dt_gcc-O0")'
kept "an interior pointer in a global: possible, kept_by says interior" interior 64 \
	'gs[0]["kind"] == "possible" and k["root"] == "global" and k["symbol"] == "g_inner" and k["interior"]'
kept "a block only a live thread holds: its stack or register, not main's" register 56 \
	'k["root"] in ("stack", "register") and k.get("thread") and not k.get("main_thread")'
kept "a pending thread argument: the registry, or the new thread's stack" unstarted 80 \
	'k["root"] in ("thread argument", "stack") and not k.get("main_thread")'

# ------------------------------------------------ a write past a freed block
cat >"$T/freed_guard.c" <<'C'
#include <stdlib.h>
#include <string.h>
int main(void)
{
	char *volatile p = malloc(10);
	memset(p, 1, 10);
	free(p);
	p[10] = 7; /* FREED_GUARD_WRITE: one past the end, after the free */
	return 0;
}
C
cc -g -O0 "$T/freed_guard.c" -o "$B/freed_guard"
prun freed_guard "$B/freed_guard"
if grep -q "ERROR: use-after-free" "$RD"/r.*.log &&
   grep -Eq "offset 10 .* of the 10-byte block" "$RD"/r.*.log; then
	pass "a write one past a freed 10-byte block is reported at exit"
else
	fail "a write one past a freed 10-byte block is reported at exit" \
		"$(cat "$RD"/r.*.log 2>/dev/null | head -20)"
fi

echo "1..$n"
[ "$failed" -eq 0 ]
