#!/bin/sh
# mk/sanrun.sh VARIANT TEST... - run unit test programs of a sanitizer build
# (VARIANT asan or tsan) or under valgrind memcheck (VARIANT valgrind), count
# their TAP lines and print "VARIANT: N passed, N failed".
#
# A program fails when it prints a "not ok" line, prints no TAP line at all,
# exits non-zero, runs past SAN_TIMEOUT seconds (default 600), or when its
# output holds a sanitizer or memcheck report (one counted failure per
# report kind, listed as "not ok" lines).  Used by mk/sanitize.mk.
variant=$1
shift
timeout_s=${SAN_TIMEOUT:-600}
root=$(cd "$(dirname "$0")/.." && pwd)
log=${TMPDIR:-/tmp}/mpwrap-san-$variant.$$
trap 'rm -f "$log" "$log.xf" "$log.rest"' EXIT

# Sanitizer settings: every report is fatal and ends up in the log.
export ASAN_OPTIONS="abort_on_error=0:halt_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:print_summary=1:exitcode=86${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=87${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:exitcode=88${TSAN_OPTIONS:+:$TSAN_OPTIONS}"
export CMOCKA_MESSAGE_OUTPUT=TAP
unset MPWRAP_OPTIONS LD_PRELOAD

# report markers: one per tool
markers='Sanitizer: CHECK failed|ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer|WARNING: ThreadSanitizer|ERROR: ThreadSanitizer|ThreadSanitizer: |== Invalid |== Conditional jump|== Use of uninitialised|== Syscall param|== Mismatched free|== Source and destination overlap|are definitely lost in loss record|== Process terminating'

pass=0
fail=0
xfail=0
start=$(date +%s)
for t in "$@"; do
	name=$(basename "$t")
	t0=$(date +%s)
	case "$variant" in
	valgrind)
		timeout -k 10 "$timeout_s" valgrind -q --tool=memcheck \
			--error-exitcode=1 --leak-check=full \
			--errors-for-leak-kinds=definite \
			--suppressions="$root/tests/valgrind.supp" \
			--child-silent-after-fork=yes --trace-children=no \
			"$t" >"$log" 2>&1
		;;
	*)
		timeout -k 10 "$timeout_s" "$t" >"$log" 2>&1
		;;
	esac
	rc=$?
	secs=$(($(date +%s) - t0))
	# known failures of this variant: "not ok" lines of this program whose
	# text holds a SAN_XFAIL entry ("program:text", one per line) count as
	# expected, listed but not failed
	xf=0
	if [ -n "${SAN_XFAIL:-}" ]; then
		printf '%s\n' "$SAN_XFAIL" | while IFS= read -r x; do
			[ -n "$x" ] || continue
			[ "${x%%:*}" = "$name" ] || continue
			grep '^not ok ' "$log" | grep -F -- "${x#*:}"
		done | sort -u >"$log.xf"
		xf=$(grep -c . "$log.xf")
		if [ "$xf" -gt 0 ]; then
			grep -vxF -f "$log.xf" "$log" >"$log.rest"
			sed 's/^not ok /xfail /' "$log.xf" >>"$log.rest"
			mv "$log.rest" "$log"
		fi
		rm -f "$log.xf"
	fi
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	xfail=$((xfail + xf))
	reports=$(grep -cE "$markers" "$log")
	why=""
	if [ "$reports" -gt 0 ]; then
		f=$((f + 1))
		why="$reports sanitizer/memcheck report line(s)"
	fi
	# a non-zero exit explained by expected failures alone is not a failure
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] &&
	   { [ "$xf" -eq 0 ] || [ "$rc" -ne 1 ]; }; then
		f=1
		why="exit status $rc"
	fi
	[ "$rc" -eq 124 ] && why="timeout after ${timeout_s}s${why:+, $why}"
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		f=1
		why="no TAP output"
	fi
	pass=$((pass + p))
	fail=$((fail + f))
	if [ "$f" -ne 0 ]; then
		echo "FAIL $variant $name (exit $rc, ${secs}s${why:+: $why}):"
		grep -E "^not ok |$markers" "$log" | head -20 | sed 's/^/    /'
		echo "    --- last lines:"
		tail -60 "$log" | sed 's/^/    /'
	else
		echo "ok   $variant $name ($p tests, ${secs}s)"
	fi
	[ "$xf" -gt 0 ] && grep '^xfail ' "$log" |
		sed "s/^/     expected failure in this build: /"
done
extra=""
[ "$xfail" -gt 0 ] && extra="; $xfail expected failure(s) of this build listed above"
echo "$variant: $pass passed, $fail failed ($(($(date +%s) - start))s$extra)"
[ "$fail" -eq 0 ]
