#!/bin/sh
# run.sh - run every test program and script, count TAP lines, print the
# closing "N passed, N failed" line.  A test that exits non-zero without a
# "not ok" line counts as one failure; one that prints no TAP line at all is
# a failure too (a test that ran nothing proves nothing).
pass=0; fail=0
log=${TMPDIR:-/tmp}/mpwrap-test.$$
for t in "$@"; do
	case "$t" in
	*.sh) cmd="bash $t" ;;
	*) cmd="$t" ;;
	esac
	CMOCKA_MESSAGE_OUTPUT=TAP $cmd >"$log" 2>&1
	rc=$?
	p=$(grep -c '^ok ' "$log"); f=$(grep -c '^not ok ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	pass=$((pass + p)); fail=$((fail + f))
	if [ "$f" -ne 0 ]; then
		echo "FAIL $t (exit $rc):"; sed 's/^/    /' "$log" | tail -60
	else
		echo "ok   $t ($p)"
	fi
done
rm -f "$log"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
