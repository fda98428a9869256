#!/usr/bin/env bash
# t_run.sh - tests/run.sh, the runner of make test: it names each suite as
# it starts and gives its count and time as it ends; a failing suite shows
# its not-ok lines with their diagnostics before the tail of its output;
# the last line counts everything.
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
check "each suite is named when it starts, before its result" \
	bash -c "grep -n -e '^\.\.\.  $T/t_good.sh\$' -e '^ok   $T/t_good.sh (2, [0-9]*s)\$' '$T/out' |
		cut -d: -f1 | tr '\n' ' ' | grep -qx '1 2 '"
check "a failing suite: status and time, then its not-ok line and diagnostics first" \
	bash -c "grep -A3 '^FAIL $T/t_bad.sh (exit 1, [0-9]*s):\$' '$T/out' | sed -n 2,4p |
		tr '\n' '|' | grep -qx '    not ok 2 - second|    # because of this|    ---- last lines of the output:|'"
check "then the tail of its output (the last 40 lines)" \
	bash -c "grep -q '^    noise 60\$' '$T/out' && ! grep -q '^    noise 20\$' '$T/out'"
check "a suite without any TAP line fails" grep -q "^FAIL $T/t_empty.sh (exit 0, " "$T/out"
check "the last line counts every ok and not-ok" \
	[ "$(tail -n 1 "$T/out")" = "3 passed, 2 failed" ]
echo "1..$n"
[ "$fails" = 0 ]
