#!/bin/sh
# t_unit_py.sh - the unit tests of the mpcheck package (tests/unit_py/
# test_*.py, the standard unittest, one TAP line per test case through
# tap.py) and, where Debian's mypy is installed, its type check of the
# package (mypy.ini at the root says what is checked).  The shell suites
# keep the end-to-end checks.
ROOT=${MPWRAP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d "${TMPDIR:-/tmp}/t_unit_py.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
cd "$ROOT" || exit 1
python3 -B tests/unit_py/tap.py >"$T/tap" 2>"$T/err"
rc=$?
cat "$T/tap"
n=$(grep -c '^\(not \)\?ok ' "$T/tap")
if [ "$rc" != 0 ] && ! grep -q '^not ok' "$T/tap"; then
	n=$((n + 1)); echo "not ok $n - the unit tests ran (tap.py exit status $rc)"
	sed 's/^/#   /' "$T/err" | tail -n 20
fi
n=$((n + 1))
if command -v mypy >/dev/null 2>&1; then
	start=$(date +%s)
	if mypy --config-file mypy.ini --cache-dir "$T/mypy" mpcheck >"$T/mypy.out" 2>&1; then
		echo "ok $n - mypy: the mpcheck package type-checks ($(($(date +%s) - start)) s)"
	else
		rc=1
		echo "not ok $n - mypy: the mpcheck package type-checks"
		sed 's/^/#   /' "$T/mypy.out" | head -n 30
	fi
else
	echo "ok $n - mypy: the mpcheck package type-checks # SKIP mypy not installed (Debian package mypy)"
fi
echo "1..$n"
[ "$rc" = 0 ]
