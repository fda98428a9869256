#!/bin/sh
# run.sh - run every test program and script, count TAP lines, print the
# closing "N passed, N failed" line.  A test that exits non-zero without a
# "not ok" line counts as one failure; one that prints no TAP line at all is
# a failure too (a test that ran nothing proves nothing).
#
# Progress goes out as it happens: a suite's name when it starts (some take
# minutes, and a silent terminal looks hung), its result and elapsed time
# when it ends.  A failing suite shows its `not ok` lines first, each with
# the `#` lines that follow it (where tests put the reason), then the tail
# of its output.
#
# When make test itself runs under the gate (scripts/mpcheck -- make test),
# every test inherits the preloaded libmpwrap.so.  The tests in NO_PRELOAD
# cannot run beside it and start without it: unit_symbolize defines its own
# malloc (to count the symbolizer's allocations) and links its own copy of
# the symbolizer, whose view of the process the preloaded copy changes.
NO_PRELOAD="unit_symbolize"
pass=0; fail=0
log=${TMPDIR:-/tmp}/mpwrap-test.$$
trap 'rm -f "$log"' EXIT
for t in "$@"; do
	case "$t" in
	*.sh) cmd="bash $t" ;;
	*) cmd="$t" ;;
	esac
	case " $NO_PRELOAD " in
	*" ${t##*/} "*) cmd="env -u LD_PRELOAD -u MPWRAP_OPTIONS $cmd" ;;
	esac
	echo "...  $t"
	start=$(date +%s)
	CMOCKA_MESSAGE_OUTPUT=TAP $cmd >"$log" 2>&1
	rc=$?
	took=$(($(date +%s) - start))
	p=$(grep -c '^ok ' "$log"); f=$(grep -c '^not ok ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	pass=$((pass + p)); fail=$((fail + f))
	if [ "$f" -ne 0 ]; then
		echo "FAIL $t (exit $rc, ${took}s):"
		awk '/^not ok /{ d = 1; print; next } d && /^#/ { print; next } { d = 0 }' \
			"$log" | sed 's/^/    /' | head -40
		echo "    ---- last lines of the output:"
		sed 's/^/    /' "$log" | tail -40
	else
		echo "ok   $t ($p, ${took}s)"
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
