#!/bin/sh
# run.sh - run every test program and script, count TAP lines, print the
# closing "N passed, N failed" line.  A test that exits non-zero without a
# "not ok" line counts as one failure; one that prints no TAP line at all is
# a failure too (a test that ran nothing proves nothing).
#
# Suites run MPWRAP_TEST_JOBS at a time (default 2: the suites are
# independent, each in its own mktemp directory, and most wait on programs
# they start), the slowest first.  ALONE suites measure time or memory and
# run with nothing beside them.  Each suite's output goes to its own file, so
# what a suite prints stays together.
#
# Progress goes out as it happens: a suite's name when it starts, its
# result and elapsed time when it ends, and while a suite runs, every
# MPWRAP_TEST_PROGRESS seconds (default 20, 0 = never) a line with its
# checks so far and the last one (some take minutes, and a silent terminal
# looks hung).  A failing suite shows its `not ok` lines first, each with
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
# a time bound (t_wildcard: a pattern match under 0.5 s) or resident
# memory and page faults (t_rss)
ALONE="t_wildcard.sh t_rss.sh"
# started first (the longest, from a full run), so the last minutes are
# not one long suite running by itself
SLOW="t_verdict.sh t_mpcheck.sh t_stress.sh t_realprog.sh t_unwind.sh
      t_fuzz_regress.sh t_preload.sh t_robust.sh t_cxx.sh t_longrun.sh"
# one space between names, so that " $SLOW " matches " name " (a newline
# in it once had t_unwind.sh run twice)
# shellcheck disable=SC2086,SC2116
SLOW=$(echo $SLOW)
jobs=${MPWRAP_TEST_JOBS:-2}
every=${MPWRAP_TEST_PROGRESS:-20}
case "$jobs" in '' | *[!0-9]* | 0) jobs=1 ;; esac
case "$every" in '' | *[!0-9]*) every=20 ;; esac

# A suite started with & by a shell without job control inherits SIGINT and
# SIGQUIT ignored; it gets them back at default, as when it ran in the
# foreground (a ^C still stops every suite; a signal make test itself
# inherited ignored, e.g. SIGHUP under nohup, stays ignored: the suites
# cope with that themselves).
restore=""
env --default-signal=INT,QUIT true 2>/dev/null && restore="--default-signal=INT,QUIT"

dir=$(mktemp -d "${TMPDIR:-/tmp}/mpwrap-test.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# (the functions below use and change the globals k, t, r...: the main
# loop's own variable is `suite`)
# the order to start in: SLOW ones first (in SLOW's order), then the rest
# as given
order=""
for s in $SLOW; do
	for t in "$@"; do
		[ "${t##*/}" = "$s" ] && order="$order $t"
	done
done
for t in "$@"; do
	case " $SLOW " in *" ${t##*/} "*) ;; *) order="$order $t" ;; esac
done

pass=0; fail=0
i=0            # suites started; suite k's files are $dir/k.*
running=""     # "k:suite:start_time:last_progress" words
alone=0        # an ALONE suite is running

start_suite() { # k suite
	k=$1 t=$2
	case "$t" in
	*.sh) cmd="bash $t"; own=1 ;;
	*) cmd="$t"; own=0 ;;
	esac
	case " $NO_PRELOAD " in *" ${t##*/} "*) own=1 ;; esac
	if [ "$own" = 1 ]; then
		cmd="env $restore -u LD_PRELOAD -u MPWRAP_OPTIONS $cmd"
	elif [ -n "$restore" ]; then
		cmd="env $restore $cmd"
	fi
	echo "...  $t"
	now=$(date +%s)
	# stdin from /dev/null: a suite never reads the terminal
	( CMOCKA_MESSAGE_OUTPUT=TAP $cmd >"$dir/$k.log" 2>&1 </dev/null
	  echo $? >"$dir/$k.rc.tmp" && mv "$dir/$k.rc.tmp" "$dir/$k.rc" ) &
	running="$running $k:$t:$now:$now"
}

finish_suite() { # k suite start
	k=$1 t=$2
	rc=$(cat "$dir/$k.rc")
	took=$(($(date +%s) - $3))
	log=$dir/$k.log
	p=$(grep -c '^ok ' "$log"); f=$(grep -c '^not ok ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	pass=$((pass + p)); fail=$((fail + f))
	# one write per suite: what it prints stays together
	if [ "$f" -ne 0 ]; then
		{
			echo "FAIL $t (exit $rc, ${took}s):"
			awk '/^not ok /{ d = 1; print; next } d && /^#/ { print; next } { d = 0 }' \
				"$log" | sed 's/^/    /' | head -40
			echo "    ---- last lines of the output:"
			sed 's/^/    /' "$log" | tail -40
		} >"$dir/$k.out"
	else
		echo "ok   $t ($p, ${took}s)" >"$dir/$k.out"
	fi
	cat "$dir/$k.out"
	rm -f "$dir/$k.log" "$dir/$k.out"
}

# reap: finish the suites that ended, and tell how the others are doing
reap() {
	still=""
	now=$(date +%s)
	for r in $running; do
		k=${r%%:*}; rest=${r#*:}
		t=${rest%%:*}; rest=${rest#*:}
		t0=${rest%%:*}; last=${rest#*:}
		if [ -f "$dir/$k.rc" ]; then
			finish_suite "$k" "$t" "$t0"
			case " $ALONE " in *" ${t##*/} "*) alone=0 ;; esac
			continue
		fi
		if [ "$every" -gt 0 ] && [ $((now - last)) -ge "$every" ]; then
			log=$dir/$k.log
			p=$(grep -c '^ok ' "$log"); f=$(grep -c '^not ok ' "$log")
			# the last check, or the last phase a suite names in a
			# comment ("# memcheck comparison: python ... done")
			lastcheck=$(grep -E '^((not )?ok |# [a-z])' "$log" | tail -n 1 | cut -c1-90)
			echo "     $t: $p ok, $f not ok so far ($((now - t0))s)${lastcheck:+; last: $lastcheck}"
			last=$now
		fi
		still="$still $k:$t:$t0:$last"
	done
	running=$still
}

# shellcheck disable=SC2086  # one word per running suite
count() { set -- $running; echo $#; }

for suite in $order; do
	case " $ALONE " in *" ${suite##*/} "*) solo=1 ;; *) solo=0 ;; esac
	# a free worker; an ALONE suite waits for all of them, and nothing
	# starts beside one
	while [ "$alone" = 1 ] || [ "$(count)" -ge "$jobs" ] ||
		{ [ "$solo" = 1 ] && [ "$(count)" -gt 0 ]; }; do
		sleep 0.2
		reap
	done
	i=$((i + 1))
	[ "$solo" = 1 ] && alone=1
	start_suite "$i" "$suite"
done
while [ "$(count)" -gt 0 ]; do
	sleep 0.2
	reap
done
wait
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
