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
# every process inherits the preloaded libmpwrap.so, and the gate counts
# make, the compilers and the unit test programs.  Two kinds of test start
# without it instead:
# * the shell tests: each runs programs, buggy ones on purpose, under its
#   own copy of the library, and cannot shed an inherited one itself: a
#   bash started with it keeps it loaded in every subshell it forks after
#   `unset LD_PRELOAD`, and those subshells report to the outer gate and
#   print its messages into the output the test compares;
# * NO_PRELOAD: unit_symbolize defines its own malloc (to count the
#   symbolizer's allocations) and links its own copy of the symbolizer,
#   whose view of the process the preloaded copy changes.
NO_PRELOAD="unit_symbolize"
pass=0; fail=0
log=${TMPDIR:-/tmp}/mpwrap-test.$$
trap 'rm -f "$log"' EXIT
for t in "$@"; do
	case "$t" in
	*.sh) cmd="bash $t"; own=1 ;;
	*) cmd="$t"; own=0 ;;
	esac
	case " $NO_PRELOAD " in *" ${t##*/} "*) own=1 ;; esac
	if [ "$own" = 1 ]; then
		cmd="env -u LD_PRELOAD -u MPWRAP_OPTIONS $cmd"
	fi
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
