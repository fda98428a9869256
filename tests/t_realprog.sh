#!/usr/bin/env bash
# t_realprog.sh - libmpwrap.so under real programs (TAP).
#
# Part 1, the matrix: each command of tests/realprog/lib.sh (bash -c, python3
# with threads, perl, git, sqlite3, gcc, make, sort --parallel, tar czf/xzf,
# openssl dgst, a C++ program) runs twice in a fresh temporary directory,
# natively and with LD_PRELOAD=$MPWRAP_LIB, and must give the same stdout
# (plus the same result checks) and the same exit statuses, with no error
# report ("ERROR:") from the library and at least one valid JSON report
# (several for the multi-process commands).  A table of processes reported
# and leak sums per command goes to stderr.
#
# Part 2 (tests/realprog/memcheck_compare.sh): the single-process commands
# under Valgrind memcheck and under the checker, side by side in
# build/memcheck-compare.md; skipped when valgrind is absent.
#
# Env: MPWRAP_LIB, MPWRAP_ROOT (default: from this script's location),
# REALPROG_KEEP=1 keeps the temporary directory, REALPROG_NO_MEMCHECK=1
# skips part 2.  Usage: bash tests/t_realprog.sh
set -u

here=$(cd "$(dirname "$0")" && pwd)
: "${MPWRAP_ROOT:=$(cd "$here/.." && pwd)}"
: "${MPWRAP_LIB:=$MPWRAP_ROOT/libmpwrap.so}"
export MPWRAP_ROOT MPWRAP_LIB
RP=$here/realprog
# What is preloaded is decided here: nothing inherited from an outer run.
unset LD_PRELOAD MPWRAP_OPTIONS
export LC_ALL=C TZ=UTC
TMO=${REALPROG_TIMEOUT:-120}    # seconds per process before it counts as hung

# MPWRAP_OPTIONS separates on ':' and white space: keep them out of paths.
base=${TMPDIR:-/tmp}
case $base in *[:\ \	]*) base=/tmp ;; esac
T=$(mktemp -d "$base/t_realprog.XXXXXX") || exit 1
if [ "${REALPROG_KEEP:-0}" = 1 ]; then
	trap 'echo "# kept $T" >&2' EXIT
else
	trap 'rm -rf "$T"' EXIT
fi
mcpid=""
# a signal ends what runs in the background too (part 2) before the exit
trap '[ -n "$mcpid" ] && kill_tree "$mcpid"; exit 143' INT TERM

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() {
	n=$((n + 1)); failed=$((failed + 1))
	echo "not ok $n - $1"
	shift
	local l
	for l in "$@"; do printf '%s\n' "$l" | sed 's/^/#   /'; done
}

if [ ! -r "$MPWRAP_LIB" ]; then
	notok "libmpwrap.so present" "no $MPWRAP_LIB (run make first)"
	echo "1..$n"
	exit 1
fi
LIB=$(cd "$(dirname "$MPWRAP_LIB")" && pwd)/$(basename "$MPWRAP_LIB")

# shellcheck source=realprog/lib.sh
. "$RP/lib.sh"
PY=$(find_python)
export RP PY

CXXPROG=$T/cxxprog
if ! build_cxx "$CXXPROG" >"$T/cxx.build" 2>&1; then
	CXXPROG=""
fi
export CXXPROG

# -------------------------------------------------------------- part 1

# run_mode NAME MODE: prep, run and post of NAME in $T/NAME.MODE/work.
# Leaves out (stdout of run and post), err, status, rep/ (reports), time.
run_mode() {
	local name=$1 mode=$2 d=$T/$1.$2
	mkdir -p "$d/work" "$d/rep" "$d/home"
	(
		cd "$d/work" || exit 1
		git_env "$d/home"
		RUNNER=()
		STATUS_FILE=""
		"prep_$name" >"$d/prep.log" 2>&1 || { echo "prep_$name failed" >>"$d/prep.log"; exit 3; }
		STATUS_FILE=$d/status
		: >"$STATUS_FILE"
		RUNNER=(timeout -k 5 "$TMO")
		if [ "$mode" = wrap ]; then
			RUNNER+=(env "LD_PRELOAD=$LIB"
				"MPWRAP_OPTIONS=json_path=$d/rep/r.%p.json:verbosity=0:log_path=$d/rep/r.%p.log")
		fi
		local t0 t1
		t0=$(date +%s.%N)
		"run_$name" >"$d/out" 2>"$d/err"
		t1=$(date +%s.%N)
		echo "$t0 $t1" | awk '{ printf "%.2f\n", $2 - $1 }' >"$d/time"
		RUNNER=()
		STATUS_FILE=""
		if declare -F "post_$name" >/dev/null; then
			echo "--- post" >>"$d/out"
			"post_$name" >>"$d/out" 2>>"$d/err"
			echo "post status $?" >>"$d/out"
		fi
		exit 0
	)
}

# min_reports NAME: reports the wrapped run must leave at least.
min_reports() {
	case $1 in
	gcc) echo 4 ;;        # gcc, cc1, as, collect2, ld
	git) echo 8 ;;        # one per git command (git_setup + log)
	make) echo 3 ;;       # make and the shells of its recipes
	tar) echo 4 ;;        # two tars and their gzips
	*) echo 1 ;;
	esac
}

# check_case NAME: compare the two runs of NAME, print its TAP line.
check_case() {
	local name=$1 nd=$T/$1.native wd=$T/$1.wrap why=() info
	if [ -s "$nd/prep.log" ] && grep -q "prep_$name failed" "$nd/prep.log"; then
		notok "$name" "setup failed (not a library problem):" "$(tail -5 "$nd/prep.log")"
		return
	fi
	local ns ws
	ns=$(tr '\n' ' ' <"$nd/status" 2>/dev/null)
	ws=$(tr '\n' ' ' <"$wd/status" 2>/dev/null)
	if [ "$ns" != "$ws" ]; then
		why+=("exit statuses differ: native [$ns] preloaded [$ws]")
	fi
	case " $ns" in *" 124 "* | *" 137 "*) why+=("native run timed out") ;; esac
	case " $ws" in *" 124 "* | *" 137 "*) why+=("preloaded run timed out (hang?) after ${TMO}s") ;; esac
	case " $ws" in *" 13"[2-9]" "* | *" 1[4-5][0-9] "*)
		why+=("preloaded run died of a signal: statuses [$ws]") ;; esac
	case " $ns" in *[1-9]*) why+=("native run itself failed: statuses [$ns]") ;; esac
	if ! cmp -s "$nd/out" "$wd/out"; then
		why+=("stdout differs (native vs preloaded):" "$(diff "$nd/out" "$wd/out" | head -20)")
	fi
	info=$("$PY" "$RP/leaksum.py" check "$wd/rep")
	local reports errors invalid
	reports=$(sed -n 's/^reports=\([0-9]*\).*/\1/p' <<<"$info")
	errors=$(sed -n 's/.* errors=\([0-9]*\).*/\1/p' <<<"$info")
	invalid=$(sed -n 's/.* invalid=\([0-9]*\).*/\1/p' <<<"$info")
	local want
	want=$(min_reports "$name")
	if [ "${reports:-0}" -lt "$want" ]; then
		why+=("only ${reports:-0} JSON reports, expected at least $want ($info)")
	fi
	[ "${invalid:-0}" = 0 ] || why+=("$invalid JSON reports do not parse ($info)")
	[ "${errors:-0}" = 0 ] || why+=("JSON reports count $errors errors")
	if grep -l "ERROR:" "$wd"/rep/*.log >/dev/null 2>&1; then
		why+=("error reports in the logs:" "$(grep -h -A12 "ERROR:" "$wd"/rep/*.log | head -25)")
	fi
	if grep -q "ERROR:" "$wd/err"; then
		why+=("error reports on stderr:" "$(grep -A12 "ERROR:" "$wd/err" | head -25)")
	fi
	local partial
	partial=$(find "$wd/rep" -name '*.tmp.*' | wc -l)
	[ "$partial" = 0 ] || why+=("$partial unfinished JSON reports (*.tmp.*) left behind")
	if grep -q "mpwrap" "$wd/err"; then
		why+=("library messages on stderr:" "$(grep "mpwrap" "$wd/err" | head -5)")
	fi
	if [ ${#why[@]} -eq 0 ]; then
		ok "$name: same stdout and status natively and preloaded ($reports reports)"
	else
		notok "$name: native vs preloaded" "${why[@]}" \
			"stderr of the preloaded run: $(head -c 600 "$wd/err")"
	fi
	# stderr is not part of the contract; a difference is only noted
	if ! cmp -s "$nd/err" "$wd/err"; then
		echo "# note: $name: stderr differs: $(diff "$nd/err" "$wd/err" | head -4 | tr '\n' ' ')"
	fi
}

CASES=(bash python perl git sqlite gcc make sort tar openssl cxx)
start=$(date +%s)
for name in "${CASES[@]}"; do
	if [ "$name" = cxx ] && [ -z "$CXXPROG" ]; then
		notok "cxx: g++ -g -O2 cxxprog.cpp" "$(head -c 800 "$T/cxx.build")"
		continue
	fi
	run_mode "$name" native
	run_mode "$name" wrap
	check_case "$name"
done
part1=$(($(date +%s) - start))

# -------------------------------------------------------------- part 2
if [ "${REALPROG_NO_MEMCHECK:-0}" = 1 ]; then
	n=$((n + 1)); echo "ok $n - memcheck comparison # SKIP REALPROG_NO_MEMCHECK=1"
elif ! command -v valgrind >/dev/null 2>&1; then
	n=$((n + 1)); echo "ok $n - memcheck comparison # SKIP valgrind not installed"
else
	start=$(date +%s)
	# in the background, so that a signal is handled at once (see trap)
	TAP_START=$n T=$T/memcheck MPWRAP_LIB=$LIB \
		bash "$RP/memcheck_compare.sh" >"$T/part2.out" &
	mcpid=$!
	wait "$mcpid"
	mcpid=""
	cat "$T/part2.out"
	n=$((n + $(grep -cE '^(not )?ok ' "$T/part2.out")))
	failed=$((failed + $(grep -c '^not ok ' "$T/part2.out")))
	echo "# part 2 took $(($(date +%s) - start))s" >&2
fi

# the part 1 table last: the end of the output is what a failing `make test`
# shows
{
	echo "# per-command leak sums over the processes reported (bytes/blocks)"
	specs=()
	for name in "${CASES[@]}"; do
		[ -d "$T/$name.wrap/rep" ] && specs+=("$name=$T/$name.wrap/rep")
	done
	"$PY" "$RP/leaksum.py" table "${specs[@]}" | sed 's/^/# /'
	echo "# run times in seconds (native / preloaded):"
	for name in "${CASES[@]}"; do
		[ -r "$T/$name.wrap/time" ] || continue
		printf '#   %-8s %6s / %6s\n' "$name" "$(cat "$T/$name.native/time")" \
			"$(cat "$T/$name.wrap/time")"
	done
} >&2
echo "# part 1 took ${part1}s" >&2
echo "1..$n"
[ "$failed" -eq 0 ]
