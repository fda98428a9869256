#!/usr/bin/env bash
# memcheck_compare.sh - part 2 of t_realprog.sh: leak classification of
# libmpwrap.so against Valgrind memcheck on the single-process commands of
# lib.sh (python3, perl, sqlite3, sort, openssl, the C++ program, bash -c,
# git log).  Each runs once under
#   valgrind --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=none
# and once with the checker preloaded (show_reachable=1, so the kept logs
# list every block), in fresh directories prepared the same way.  The
# side-by-side table goes to build/memcheck-compare.md (generated; a
# snapshot with the reasons for differences is in docs/leak-accuracy.md)
# and to stdout.  One TAP line per program asserts: where memcheck finds 0
# definitely lost bytes, we report 0 definite bytes too.  Other differences
# are recorded in the table, not failures.
#
# Env (set by t_realprog.sh; defaults for a run by hand): MPWRAP_LIB,
# T (work directory), TAP_START (number of TAP lines before ours), PY,
# CXXPROG, REALPROG_JOBS (parallel valgrind runs, default: CPUs, at most 4).
set -u

RP=$(cd "$(dirname "$0")" && pwd)
: "${MPWRAP_LIB:=$(cd "$RP/../.." && pwd)/libmpwrap.so}"
case $MPWRAP_LIB in /*) ;; *) MPWRAP_LIB=$PWD/$MPWRAP_LIB ;; esac
TAP_START=${TAP_START:-0}
unset LD_PRELOAD MPWRAP_OPTIONS
export LC_ALL=C TZ=UTC
OUT_MD=${MEMCHECK_COMPARE_OUT:-$(cd "$RP/../.." && pwd)/build/memcheck-compare.md}
VG_TMO=${REALPROG_VG_TIMEOUT:-300}

own_tmp=""
if [ -z "${T:-}" ]; then
	T=$(mktemp -d /tmp/memcheck_compare.XXXXXX) || exit 1
	own_tmp=$T
	[ "${REALPROG_KEEP:-0}" = 1 ] || trap 'rm -rf "$own_tmp"' EXIT
fi
mkdir -p "$T"
# shellcheck source=lib.sh
. "$RP/lib.sh"
[ -n "${PY:-}" ] || PY=$(find_python)
export PY RP
if [ -z "${CXXPROG:-}" ] || [ ! -x "$CXXPROG" ]; then
	CXXPROG=$T/cxxprog
	build_cxx "$CXXPROG" >"$T/cxx.build" 2>&1 || CXXPROG=""
fi

n=$TAP_START
tap() { # tap ok|not NAME [DIAG...]
	local verdict=$1 name=$2 l
	shift 2
	n=$((n + 1))
	if [ "$verdict" = ok ]; then echo "ok $n - $name"
	else echo "not ok $n - $name"; fi
	for l in "$@"; do printf '%s\n' "$l" | sed 's/^/#   /'; done
}

if ! command -v valgrind >/dev/null 2>&1; then
	tap ok "memcheck comparison # SKIP valgrind not installed"
	[ -n "$own_tmp" ] && echo "1..1"
	exit 0
fi

PROGS=(python perl sqlite sort openssl cxx bash git)
[ -n "$CXXPROG" ] || PROGS=(python perl sqlite sort openssl bash git)

# one_run NAME TOOL: prepare $T/NAME.TOOL/work and run NAME's command there
# under TOOL (vg or ours); logs and reports in $T/NAME.TOOL/rep.
one_run() {
	local name=$1 tool=$2 d=$T/$1.$2
	mkdir -p "$d/work" "$d/rep" "$d/home"
	(
		cd "$d/work" || exit 1
		git_env "$d/home"
		RUNNER=()
		STATUS_FILE=""
		local prep=prep_$name run=run_$name
		declare -F "mc_prep_$name" >/dev/null && prep=mc_prep_$name
		declare -F "mc_run_$name" >/dev/null && run=mc_run_$name
		"$prep" >"$d/prep.log" 2>&1 || { echo "$prep failed" >>"$d/prep.log"; exit 3; }
		STATUS_FILE=$d/status
		if [ "$tool" = vg ]; then
			RUNNER=(timeout -k 5 "$VG_TMO" valgrind --leak-check=full
				--show-leak-kinds=all --errors-for-leak-kinds=none
				"--log-file=$d/rep/vg.%p.log")
		else
			RUNNER=(timeout -k 5 "$VG_TMO" env "LD_PRELOAD=$MPWRAP_LIB"
				"MPWRAP_OPTIONS=json_path=$d/rep/r.%p.json:log_path=$d/rep/r.%p.log:verbosity=0:show_reachable=1")
		fi
		local t0
		t0=$(date +%s.%N)
		"$run" >"$d/out" 2>"$d/err"
		echo "$t0 $(date +%s.%N)" | awk '{ printf "%.1f\n", $2 - $1 }' >"$d/time"
	)
	# progress as it happens (the TAP lines come when every run is done;
	# stderr reaches make test's progress line at once)
	echo "# memcheck comparison: $name under $([ "$tool" = vg ] && echo memcheck || echo mpwrap):" \
		"done in $(cat "$d/time" 2>/dev/null || echo '?') s" >&2
}

# all runs, REALPROG_JOBS at a time, the slowest (python under valgrind) first
jobs_max=${REALPROG_JOBS:-$(nproc 2>/dev/null || echo 2)}
[ "$jobs_max" -gt 4 ] && jobs_max=4
[ "$jobs_max" -ge 1 ] || jobs_max=1
running=0
# on INT/TERM, end the runs started here and their processes
on_signal() {
	local j
	for j in $(jobs -p); do kill_tree "$j"; done
	exit 143
}
trap on_signal INT TERM
for name in "${PROGS[@]}"; do
	for tool in vg ours; do
		if [ "$running" -ge "$jobs_max" ]; then
			wait -n
			running=$((running - 1))
		fi
		one_run "$name" "$tool" &
		running=$((running + 1))
	done
done
wait

specs=()
for name in "${PROGS[@]}"; do
	specs+=("$name=$T/$name.ours/rep:$T/$name.vg/rep")
done
"$PY" "$RP/leaksum.py" compare "$OUT_MD" "${specs[@]}" >"$T/compare.out"

while read -r _ name verdict why; do
	d=$T/$name
	if ! cmp -s "$d.vg/out" "$d.ours/out"; then
		echo "# note: $name: stdout under memcheck and under ours differ:" \
			"$(diff "$d.vg/out" "$d.ours/out" | head -4 | tr '\n' ' ')"
	fi
	case $verdict in
	ok)
		tap ok "memcheck vs ours: $name: no definite leak where memcheck has none ($why)" ;;
	fail)
		tap not "memcheck vs ours: $name: no definite leak where memcheck has none" \
			"$why; our biggest definite groups:" \
			"$("$PY" "$RP/leaksum.py" stacks "$d.ours/rep" definite 6)" ;;
	*)
		tap not "memcheck vs ours: $name: both tools reported" "$why" \
			"memcheck statuses: $(tr '\n' ' ' <"$d.vg/status" 2>/dev/null)" \
			"ours statuses: $(tr '\n' ' ' <"$d.ours/status" 2>/dev/null)" \
			"$(cat "$d.vg/prep.log" "$d.ours/prep.log" 2>/dev/null | tail -5)" \
			"$(head -c 400 "$d.ours/err")" ;;
	esac
done < <(grep '^verdict ' "$T/compare.out")

# the table after the TAP lines: the end of the output is what a failing
# `make test` shows
grep -v '^verdict ' "$T/compare.out" | sed 's/^/# /'
# run times vary: printed only, so the .md changes only with the results
echo "# run times in seconds (memcheck / ours):"
for name in "${PROGS[@]}"; do
	printf '#   %-8s %6s / %6s\n' "$name" "$(cat "$T/$name.vg/time" 2>/dev/null)" \
		"$(cat "$T/$name.ours/time" 2>/dev/null)"
done

[ -n "$own_tmp" ] && echo "1..$((n - TAP_START))"
exit 0
