#!/usr/bin/env bash
# t_run.sh - tests/run.sh, the runner of make test: it names each suite as
# it starts and gives its count and time as it ends; a failing suite shows
# its not-ok lines with their diagnostics before the tail of its output;
# the last line counts everything.  Suites run two at a time, an ALONE one
# by itself, a long one says how far it is, and each starts with SIGINT and
# SIGQUIT at default although run.sh starts it in the background.
set -u
ROOT=${MPWRAP_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
T=$(mktemp -d "${TMPDIR:-/tmp}/t_run.XXXXXX")
trap 'rm -rf "$T"' EXIT
n=0 fails=0
check() { # name, condition command...
	local name=$1; shift
	n=$((n + 1))
	if "$@"; then echo "ok $n - $name"
	else fails=$((fails + 1)); echo "not ok $n - $name"; sed 's/^/#   /' "$T/out"; fi
}

printf 'echo "ok 1 - fine"\necho "ok 2 - fine too"\n' >"$T/t_good.sh"
{
	echo 'echo "ok 1 - first"'
	echo 'echo "not ok 2 - second"'
	echo 'echo "# because of this"'
	echo 'for i in $(seq 60); do echo "noise $i"; done'
	echo 'exit 1'
} >"$T/t_bad.sh"
printf 'echo "# nothing tested"\n' >"$T/t_empty.sh"
sh "$ROOT/tests/run.sh" "$T/t_good.sh" "$T/t_bad.sh" "$T/t_empty.sh" >"$T/out" 2>&1
rc=$?
check "run.sh exits non-zero when a suite fails" [ "$rc" != 0 ]
started=$(grep -n "^\.\.\.  $T/t_good.sh\$" "$T/out" | cut -d: -f1)
ended=$(grep -n "^ok   $T/t_good.sh (2, [0-9]*s)\$" "$T/out" | cut -d: -f1)
check "each suite is named when it starts, before its result" \
	[ "${started:-0}" = 1 -a "${ended:-0}" -gt 1 ]
check "a failing suite: status and time, then its not-ok line and diagnostics first" \
	bash -c "grep -A3 '^FAIL $T/t_bad.sh (exit 1, [0-9]*s):\$' '$T/out' | sed -n 2,4p |
		tr '\n' '|' | grep -qx '    not ok 2 - second|    # because of this|    ---- last lines of the output:|'"
check "then the tail of its output (the last 40 lines)" \
	bash -c "grep -q '^    noise 60\$' '$T/out' && ! grep -q '^    noise 20\$' '$T/out'"
check "a suite without any TAP line fails" grep -q "^FAIL $T/t_empty.sh (exit 0, " "$T/out"
check "the last line counts every ok and not-ok" \
	[ "$(tail -n 1 "$T/out")" = "3 passed, 2 failed" ]

# two at a time: the first suite waits (20 s at most) for the second to start
mkdir -p "$T/par" "$T/alone"
cat >"$T/par/t_first.sh" <<EOF
for i in \$(seq 200); do [ -f "$T/par/second" ] && break; sleep 0.1; done
[ -f "$T/par/second" ] && echo "ok 1 - the second suite ran beside me" || echo "not ok 1 - alone"
EOF
printf 'touch "%s"\necho "ok 1 - second"\n' "$T/par/second" >"$T/par/t_second.sh"
# an ALONE suite (named like t_rss.sh) starts only when the one before it
# has ended (that one leaves a file while it runs), and nothing starts
# beside it
cat >"$T/par/t_busy.sh" <<EOF
touch "$T/par/busy"; sleep 1; echo "ok 1 - busy"; rm "$T/par/busy"
EOF
cat >"$T/alone/t_rss.sh" <<EOF
[ -f "$T/par/busy" ] && echo "not ok 1 - ran beside t_busy" || echo "ok 1 - alone"
touch "$T/par/alone_ran"; sleep 1; rm "$T/par/alone_ran"
EOF
cat >"$T/par/t_after.sh" <<EOF
[ -f "$T/par/alone_ran" ] && echo "not ok 1 - started beside t_rss" || echo "ok 1 - after"
EOF
MPWRAP_TEST_JOBS=2 sh "$ROOT/tests/run.sh" "$T/par/t_first.sh" "$T/par/t_second.sh" \
	"$T/par/t_busy.sh" "$T/alone/t_rss.sh" "$T/par/t_after.sh" >"$T/out" 2>&1
rc=$?
check "suites run two at a time (MPWRAP_TEST_JOBS=2)" grep -q "^ok   $T/par/t_first.sh (1, " "$T/out"
check "an ALONE suite runs with nothing beside it, and nothing starts beside it" \
	[ "$rc" = 0 -a "$(tail -n 1 "$T/out")" = "5 passed, 0 failed" ]

# a SLOW suite (any name of run.sh's SLOW list) starts first, and once
mkdir -p "$T/slow"
for s in t_unwind.sh t_longrun.sh t_plain.sh; do echo 'echo "ok 1 - once"' >"$T/slow/$s"; done
sh "$ROOT/tests/run.sh" "$T/slow/t_plain.sh" "$T/slow/t_longrun.sh" "$T/slow/t_unwind.sh" >"$T/out" 2>&1
check "SLOW suites start first (in SLOW's order), each suite runs once" \
	[ "$(grep '^\.\.\.  ' "$T/out" | sed 's|.*/||' | tr '\n' ' ')" = "t_unwind.sh t_longrun.sh t_plain.sh " \
	-a "$(tail -n 1 "$T/out")" = "3 passed, 0 failed" ]

# progress while a suite runs; SIGINT and SIGQUIT at default inside it
cat >"$T/t_slow.sh" <<EOF
echo "ok 1 - first"
ign=\$(awk '/^SigIgn:/ { print \$2 }' /proc/self/status)
[ \$((0x\$ign & 6)) = 0 ] && echo "ok 2 - SIGINT, SIGQUIT not ignored" || echo "not ok 2 - SigIgn \$ign"
sleep 3
EOF
MPWRAP_TEST_PROGRESS=1 sh "$ROOT/tests/run.sh" "$T/t_slow.sh" >"$T/out" 2>&1
progress=$(grep -n "^     $T/t_slow.sh: 2 ok, 0 not ok so far ([0-9]*s); last: ok 2 - SIGINT" "$T/out" |
	head -n 1 | cut -d: -f1)
ended=$(grep -n "^ok   $T/t_slow.sh (2, " "$T/out" | cut -d: -f1)
check "a running suite's progress (checks so far, the last one) before its result" \
	[ "${progress:-0}" -gt 1 -a "${ended:-0}" -gt "${progress:-0}" ]
check "a suite started in the background gets SIGINT and SIGQUIT at default" \
	[ "$(tail -n 1 "$T/out")" = "2 passed, 0 failed" ]
echo "1..$n"
[ "$fails" = 0 ]
